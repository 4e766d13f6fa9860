import json
import math

import numpy as np
import pytest

from gankit.errors import DataError
from gankit.viz.stats_file import read_stats, stat_keys, stat_series

RECORDS = [
    {"step": 0, "time": 0.1, "Loss/D": 1.5, "Loss/G": 0.7},
    {"step": 10, "time": 1.2, "Loss/D": 1.25, "Loss/D/gp": 0.01},
    {"step": 20, "time": 2.3, "Loss/G": 0.5, "Metric/fid": 31.0},
]


def _write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


def _jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def test_reads_all_records(tmp_path):
    p = _write(tmp_path / "stats.jsonl", _jsonl(RECORDS))
    assert read_stats(p) == RECORDS


def test_truncated_last_line_is_ignored(tmp_path):
    p = _write(tmp_path / "stats.jsonl", _jsonl(RECORDS) + '{"step": 30, "Loss/D": 1.')
    assert read_stats(p) == RECORDS


def test_truncated_last_line_with_trailing_blank_lines_is_ignored(tmp_path):
    p = _write(tmp_path / "stats.jsonl", _jsonl(RECORDS[:1]) + '{"step": 30, "Lo\n\n')
    assert read_stats(p) == RECORDS[:1]


def test_truncated_multibyte_utf8_on_last_line_is_ignored(tmp_path):
    p = tmp_path / "stats.jsonl"
    p.write_bytes(_jsonl(RECORDS[:2]).encode() + '{"step": 3, "n": "é'.encode()[:-1])
    assert read_stats(p) == RECORDS[:2]


def test_corrupt_middle_line_names_file_and_line(tmp_path):
    lines = _jsonl(RECORDS).splitlines(keepends=True)
    lines.insert(2, '{"step": 15, "Loss/D": }\n')  # becomes line 3
    p = _write(tmp_path / "stats.jsonl", "".join(lines))
    with pytest.raises(DataError) as info:
        read_stats(p)
    assert "stats.jsonl:3:" in str(info.value)


def test_non_object_and_missing_step_are_errors(tmp_path):
    p = _write(tmp_path / "a.jsonl", '[1, 2]\n{"step": 1}\n')
    with pytest.raises(DataError, match=r"a.jsonl:1:"):
        read_stats(p)
    p = _write(tmp_path / "b.jsonl", '{"step": 1}\n{"Loss/D": 2}\n{"step": 3}\n')
    with pytest.raises(DataError, match=r"b.jsonl:2:.*step"):
        read_stats(p)


def test_blank_lines_and_empty_file(tmp_path):
    p = _write(tmp_path / "s.jsonl", '\n{"step": 1}\n\n{"step": 2}\n')
    assert read_stats(p) == [{"step": 1}, {"step": 2}]
    assert read_stats(_write(tmp_path / "e.jsonl", "")) == []


def test_missing_file_is_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_stats(tmp_path / "nope.jsonl")


def test_stat_series_picks_values_for_records_with_key():
    steps, values = stat_series(RECORDS, "Loss/G")
    np.testing.assert_array_equal(steps, [0.0, 20.0])
    np.testing.assert_array_equal(values, [0.7, 0.5])
    steps, values = stat_series(RECORDS, "Loss/D/gp")
    np.testing.assert_array_equal(steps, [10.0])
    np.testing.assert_array_equal(values, [0.01])
    steps, values = stat_series(RECORDS, "absent")
    assert steps.shape == (0,) and values.shape == (0,)


def test_stat_series_null_is_nan_and_string_is_error():
    steps, values = stat_series([{"step": 1, "k": None}, {"step": 2, "k": 3}], "k")
    assert math.isnan(values[0]) and values[1] == 3.0
    with pytest.raises(DataError, match="not a number"):
        stat_series([{"step": 1, "k": "abc"}], "k")


def test_stat_series_dedupe_last_record_wins_and_sorts():
    recs = [{"step": 0, "k": 1.0}, {"step": 10, "k": 2.0}, {"step": 20, "k": 3.0},
            {"step": 10, "k": 20.0}, {"step": 20, "k": 30.0}, {"step": 30, "k": 40.0}]
    steps, values = stat_series(recs, "k", dedupe=True)
    np.testing.assert_array_equal(steps, [0, 10, 20, 30])
    np.testing.assert_array_equal(values, [1.0, 20.0, 30.0, 40.0])


def test_stat_keys():
    assert stat_keys(RECORDS, "Loss/") == ["Loss/D", "Loss/G", "Loss/D/gp"]
    assert stat_keys(RECORDS) == ["time", "Loss/D", "Loss/G", "Loss/D/gp", "Metric/fid"]
    assert stat_keys([{"step": 1, "a": 1, "b": "x"}, {"step": 2, "a": "y"}]) == []
