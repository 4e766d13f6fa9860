"""``Reporter``: one stats.jsonl line per logging interval holding the mean of what was reported."""

from __future__ import annotations

import json

import torch

from gankit.train.stats import Reporter


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
