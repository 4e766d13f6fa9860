"""kill -9 inside every write window, then resume: the run ends bit for bit where an uninterrupted
one does (every checkpoint tensor and header field, stats.jsonl without its times, every sample grid
and plot), the checkpoint loads after every kill, and no temp file is left.

The trials run ``benchmarks/kill_resume.py``'s harness (the benchmark records 200 and more of them).
CI runs a few trials that together hit every window, and one seeded random trial; ``GANKIT_KILL_TRIALS=N`` runs N random
trials instead, as ``benchmarks/kill_resume.py --trials N`` does."""

import importlib.util
import json
import os
import random
import shutil
import sys
from pathlib import Path

import pytest
import torch

from gankit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _harness():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("kill_resume_harness", BENCHMARKS / "kill_resume.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kr = _harness()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("kill")
    ref, wall = kr.reference_run(workdir)
    return workdir, ref, wall


def _assert_bit_identical(record):
    assert record["final_rc"] == 0, record
    assert record["difference"] is None, record
    assert record["stale_temp_files"] == [], record


def test_kill_before_the_first_checkpoint_then_in_a_stats_line_then_in_a_sample_grid(reference):
    """Three kills in a row: before any checkpoint (trained again, into the same directory), while a
    stats line is half written (before step 15's checkpoint), and in the resume, while a sample grid
    is written; then the last resume ends bit for bit as the reference."""
    workdir, ref, _ = reference
    kills = [{"fault": "train.step@2"}, {"fault": "stats.flush@3"}, {"fault": "write:step_*.png@1"}]
    record = kr.run_trial(workdir, ref, kills)
    assert record["killed"] == 3  # every armed kill happened
    _assert_bit_identical(record)
    first, second, third = record["kills"]
    assert first["checkpoint_step"] is None and second["command"] == "train"
    assert second["checkpoint_step"] == 2 * kr.CHECKPOINT_EVERY and third["command"] == "resume"
    assert third["temp_files"] >= 1 and third["checkpoint_step"] == kr.SAMPLE_EVERY - kr.CHECKPOINT_EVERY
    assert record["final_command"] == "resume"


def test_the_real_cli_killed_mid_checkpoint_then_resumed(reference):
    """``python -m gankit`` processes (not forks of this one), killed while half of the step-15
    checkpoint is in its temp file: the step-10 checkpoint is intact and the resume exact."""
    workdir, ref, _ = reference
    record = kr.run_trial(workdir, ref, [{"fault": "checkpoint.write@3"}], launch="exec")
    assert record["killed"] == 1
    assert record["kills"][0]["temp_files"] == 1 and record["kills"][0]["checkpoint_step"] == 2 * kr.CHECKPOINT_EVERY
    _assert_bit_identical(record)


def test_seeded_random_kills(reference):
    workdir, ref, wall = reference
    trials = int(os.environ.get("GANKIT_KILL_TRIALS", "1"))
    for trial in range(trials):
        kills = kr.draw_faults(random.Random(f"ci:{trial}"), wall)
        record = kr.run_trial(workdir, ref, kills)
        _assert_bit_identical(record)


def test_readme_is_never_half_written(reference):
    """A kill while the README is written leaves the previous README, byte for byte; the resume
    after it (at the final step: it only writes the closing files) ends bit for bit as the reference."""
    workdir, ref, _ = reference
    run_dir = workdir / "trial" / kr.RUN
    shutil.rmtree(run_dir.parent, ignore_errors=True)
    # stopped early at a stats line's step (between two, the next line would average fewer steps)
    assert kr.gankit("train", run_dir, f"train.step@{2 * kr.LOG_EVERY}:sigint")[0] == 130
    before = (run_dir / "README.md").read_bytes()
    assert b"stopped early" in before and before.endswith(b"```\n")
    assert kr.gankit("resume", run_dir, "write:README.md@1")[0] == -9
    assert kr.checkpoint_step(run_dir) == kr.STEPS  # killed after the final checkpoint and the plots
    assert (run_dir / "README.md").read_bytes() == before
    assert [p.name for p in run_dir.glob(".README.md.*.tmp")] != []  # the kill left the temp file ...
    assert kr.gankit("resume", run_dir)[0] == 0
    assert kr.temp_files(run_dir) == []  # ... which the next resume removed
    assert kr.first_difference(ref, run_dir) is None
    after = (run_dir / "README.md").read_text()
    assert "- status: finished" in after and after.endswith("```\n")


# ------------------------------------------------------------------ the comparison can fail


def _copy(ref: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(ref, out)
    assert kr.first_difference(ref, out) is None
    return out


def test_comparison_finds_one_changed_tensor_element(reference, tmp_path):
    ref = reference[1]
    out = _copy(ref, tmp_path)
    tensors, meta = load_checkpoint(str(out / CHECKPOINT_NAME))
    key = sorted(k for k in tensors if k.startswith("ema/"))[0]
    flat = tensors[key].flatten().clone()
    flat[0] = torch.nextafter(flat[0], torch.tensor(float("inf")))  # one ulp
    tensors[key] = flat.reshape(tensors[key].shape)
    save_checkpoint(str(out / CHECKPOINT_NAME), tensors, {k: v for k, v in meta.items() if k != "format"})
    assert kr.first_difference(ref, out) == f"checkpoint tensor {key}"


def test_comparison_finds_a_changed_header_field(reference, tmp_path):
    ref = reference[1]
    out = _copy(ref, tmp_path)
    tensors, meta = load_checkpoint(str(out / CHECKPOINT_NAME))
    meta["loader"] = {**meta["loader"], "position": -1}
    save_checkpoint(str(out / CHECKPOINT_NAME), tensors, {k: v for k, v in meta.items() if k != "format"})
    assert kr.first_difference(ref, out) == "checkpoint header field loader"


def test_comparison_finds_stats_samples_and_stale_files(reference, tmp_path):
    ref = reference[1]
    out = _copy(ref, tmp_path)
    lines = (out / "stats.jsonl").read_text().splitlines()
    record = json.loads(lines[2])
    record["time"] = 1e9  # the time may differ ...
    lines[2] = json.dumps(record)
    (out / "stats.jsonl").write_text("\n".join(lines) + "\n")
    assert kr.first_difference(ref, out) is None
    record["Loss/D"] += 1e-6  # ... a loss may not
    lines[2] = json.dumps(record)
    (out / "stats.jsonl").write_text("\n".join(lines) + "\n")
    assert kr.first_difference(ref, out) == "stats.jsonl line 3"
    shutil.copy(ref / "stats.jsonl", out / "stats.jsonl")
    grid = out / "samples" / f"step_{kr.SAMPLE_EVERY:06d}.png"
    grid.write_bytes(grid.read_bytes()[:-1] + b"\0")
    assert kr.first_difference(ref, out) == f"samples/step_{kr.SAMPLE_EVERY:06d}.png"
    shutil.copy(ref / grid.relative_to(out), grid)
    (out / ".histograms.png.0123456789ab.tmp").write_bytes(b"")
    assert "files" in kr.first_difference(ref, out) and kr.temp_files(out) == [".histograms.png.0123456789ab.tmp"]
