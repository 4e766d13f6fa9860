"""stats.jsonl after a kill and a resume: every line whole JSON, steps strictly increasing,
each logged once, with the values an uninterrupted run logs."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.runs import resume
from gankit.train.trainer import Trainer
from tests.helpers import tiny

STEPS, CHECKPOINT_EVERY, KILLED_AT = 8, 2, 5  # the last checkpoint before the kill is at step 4


class Killed(Exception):
    """Stands in for SIGKILL: no checkpoint, no clean-up beyond what `finally` blocks do."""


def _config(tmp_path, name):
    return tiny("ring-gan", tmp_path, f"train.steps={STEPS}", "train.log_every=1",
                f"train.checkpoint_every={CHECKPOINT_EVERY}", f"train.run_name={name}")


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("partial_line", [False, True], ids=["between-checkpoints", "mid-flush"])
def test_resume_after_a_kill_leaves_one_whole_line_per_step(tmp_path, partial_line):
    assert Trainer(_config(tmp_path, "full"), str(tmp_path / "full")).fit()
    full = _records(tmp_path / "full" / "stats.jsonl")

    cfg = _config(tmp_path, "killed")
    run_dir = tmp_path / "killed"

    def kill(event, trainer):
        if event == "log" and trainer.step == KILLED_AT:
            raise Killed

    with pytest.raises(Killed):  # killed after logging step 5, one step past the step-4 checkpoint
        Trainer(cfg, str(run_dir)).fit(on_event=kill)
    stats = run_dir / "stats.jsonl"
    assert [r["step"] for r in _records(stats)] == list(range(1, KILLED_AT + 1))
    if partial_line:  # killed while writing step 6's line
        with open(stats, "a", encoding="utf-8") as fh:
            fh.write('{"step": 6, "time": 0.01, "Loss/D": 1.38')

    result = resume(str(run_dir))  # also draws loss_curves.png from stats.jsonl, as `gankit resume` does

    assert result.steps == STEPS and result.completed
    records = _records(stats)  # every line valid JSON
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))  # strictly increasing, none twice
    for got, want in zip(records, full):  # steps 5-8 logged by the resumed run, as the uninterrupted run did
        assert sorted(got) == sorted(want)
        for key in set(want) - {"time"}:
            torch.testing.assert_close(got[key], want[key], msg=f"step {want['step']}: {key}")
