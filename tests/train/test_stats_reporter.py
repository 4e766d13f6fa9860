"""``Reporter``: one stats.jsonl line per logging interval holding the mean of what was reported."""

from __future__ import annotations

import json

import torch

from gankit.train.stats import Reporter, repair_stats_file


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_line_is_the_mean_over_its_interval(tmp_path):
    path = tmp_path / "stats.jsonl"
    reporter = Reporter(str(path))
    # interval 1 (steps 1-2, log_every=2): two known values per name, tensors and floats mixed
    reporter.report("Loss/D", torch.tensor(1.5))
    reporter.report("Loss/G", 0.25)
    reporter.report("Loss/D", torch.tensor(-0.5, requires_grad=True) * 1)  # detached by the reporter
    reporter.report("Loss/G", torch.tensor(4.0))
    first = reporter.flush(2)
    # interval 2: starts afresh (nothing carried over from interval 1); a name may be missing
    reporter.report("Loss/D", 3.0)
    reporter.report("Loss/D", float("nan"))
    reporter.report("Loss/D", 6.0)
    reporter.flush(4)
    reporter.close()

    lines = _lines(path)
    assert [line["step"] for line in lines] == [2, 4]
    torch.testing.assert_close(lines[0]["Loss/D"], (1.5 - 0.5) / 2)
    torch.testing.assert_close(lines[0]["Loss/G"], (0.25 + 4.0) / 2)
    torch.testing.assert_close(first, {"Loss/D": 0.5, "Loss/G": 2.125})
    assert "Loss/G" not in lines[1]
    assert lines[1]["Loss/D"] is None  # a NaN in the interval: the mean is NaN, written as null
    torch.testing.assert_close(reporter.latest["Loss/G"], 2.125)  # the last value of each name


def test_flush_without_reports_writes_only_the_step(tmp_path):
    path = tmp_path / "stats.jsonl"
    reporter = Reporter(str(path))
    assert reporter.flush(1) == {}
    reporter.report("x", 2.0)
    reporter.report("x", 3.0)
    torch.testing.assert_close(reporter.flush(2)["x"], 2.5)
    reporter.close()
    assert [sorted(line) for line in _lines(path)] == [["step", "time"], ["step", "time", "x"]]


def _write_lines(path, *records, tail=""):
    text = "".join(json.dumps(r) + "\n" for r in records) + tail
    path.write_text(text, encoding="utf-8")
    return text


def test_repair_keeps_whole_lines_up_to_the_step(tmp_path):
    path = tmp_path / "stats.jsonl"
    whole = [{"step": s, "time": 0.1 * s, "Loss/D": 1.0 / s} for s in (2, 4, 6)]
    text = _write_lines(path, *whole, {"step": 8, "Loss/D": 9.0}, tail='{"step": 10, "Loss/D": 1.2')
    assert repair_stats_file(str(path), 6) == 2  # step 8 (past the checkpoint) and the partial line
    kept = "".join(text.splitlines(keepends=True)[:3])
    assert path.read_text(encoding="utf-8") == kept  # byte for byte
    assert repair_stats_file(str(path), 6) == 0 and path.read_text(encoding="utf-8") == kept


def test_repair_drops_unreadable_lines_and_the_stale_part_of_an_old_resume(tmp_path):
    path = tmp_path / "stats.jsonl"
    # a file an older version appended to after a kill at step 3 (checkpoint at 2): lines 1-3, a
    # partial line merged with the resumed run's step-3 line, then the resumed run's 3-4
    path.write_text(
        '{"step": 1}\n{"step": 2}\n{"step": 3, "x": 0}\n{"step": 4, "ti{"step": 3, "x": 1}\n'
        '[1, 2]\n{"x": 5}\n\n{"step": 3, "x": 2}\n{"step": 4, "x": 3}\n',
        encoding="utf-8",
    )
    assert repair_stats_file(str(path), 4) == 5  # step 3 (x 0), the merged line, [1, 2], {"x": 5}, the blank
    assert path.read_text(encoding="utf-8") == '{"step": 1}\n{"step": 2}\n{"step": 3, "x": 2}\n{"step": 4, "x": 3}\n'


def test_repair_at_step_zero_empties_the_file_and_leaves_a_missing_one_missing(tmp_path):
    path = tmp_path / "stats.jsonl"
    _write_lines(path, {"step": 1}, {"step": 2})
    assert repair_stats_file(str(path), 0) == 2
    assert path.read_bytes() == b""
    assert repair_stats_file(str(tmp_path / "none.jsonl"), 5) == 0
    assert not (tmp_path / "none.jsonl").exists()
