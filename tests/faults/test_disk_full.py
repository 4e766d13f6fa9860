"""A full disk or a read-only run directory: training stops with one line that names the file it
could not write and exit status 2; the last good checkpoint is left as it was, and no temp file.

Two ways to fill the disk: the ``enospc`` action of ``gankit.faults`` in each write path, and, where
this process may mount one (root in a container that allows it), a real small tmpfs."""

import errno
import os
import subprocess
import uuid

import pytest

from gankit import faults
from gankit.cli import main
from gankit.runs import resume, train
from gankit.runs.training import STALE_TEMP
from gankit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from tests.helpers import tiny

STOPPED_AT = 4


@pytest.fixture(autouse=True)
def _disarmed():
    faults.arm(None)
    yield
    faults.arm(None)


def _stopped_run(out) -> str:
    """A run trained to step STOPPED_AT of 8: its checkpoint is the last good one."""
    cfg = tiny("ring-gan", out, f"train.steps={STOPPED_AT}", "train.run_name=run", "train.checkpoint_every=2",
               "train.sample_every=2")
    return train(cfg).run_dir


def _temp_files(run_dir) -> list[str]:
    return [name for _, _, files in os.walk(run_dir) for name in files if STALE_TEMP.fullmatch(name)]


def _assert_stopped_naming(run_dir, capsys, path, before, why="No space left on device"):
    err = capsys.readouterr().err
    assert err == f"gankit: error: {why}: {path}\n"  # one line, the file named
    assert open(os.path.join(run_dir, CHECKPOINT_NAME), "rb").read() == before  # the last good checkpoint
    assert load_checkpoint(os.path.join(run_dir, CHECKPOINT_NAME))[1]["step"] == STOPPED_AT
    assert _temp_files(run_dir) == []


@pytest.mark.parametrize(
    "site, name",
    [  # each write fails before the step-6 checkpoint is written
        ("config.json", "config.json"),  # resume writes the config first
        ("stats.flush@1", "stats.jsonl"),  # step 6's line
        ("write:step_*.png@1", os.path.join("samples", "step_000006.png")),
        ("checkpoint.write@1", CHECKPOINT_NAME),  # the step-6 checkpoint
    ],
)
def test_full_disk_in_each_write_path_stops_naming_the_file(tmp_path, capsys, site, name):
    run_dir = _stopped_run(tmp_path)
    before = open(os.path.join(run_dir, CHECKPOINT_NAME), "rb").read()
    capsys.readouterr()
    faults.arm(f"write:{site}@1:enospc" if site == "config.json" else f"{site}:enospc")
    assert main(["resume", run_dir, "train.steps=8"]) == 2
    _assert_stopped_naming(run_dir, capsys, os.path.join(run_dir, name), before)


def test_full_disk_at_the_readme_keeps_the_final_checkpoint(tmp_path, capsys):
    run_dir = _stopped_run(tmp_path)
    readme = open(os.path.join(run_dir, "README.md"), "rb").read()
    capsys.readouterr()
    faults.arm("write:README.md@1:enospc")  # after the step-8 checkpoint and the plots
    assert main(["resume", run_dir, "train.steps=8"]) == 2
    assert capsys.readouterr().err == f"gankit: error: No space left on device: {os.path.join(run_dir, 'README.md')}\n"
    assert load_checkpoint(os.path.join(run_dir, CHECKPOINT_NAME))[1]["step"] == 8
    assert open(os.path.join(run_dir, "README.md"), "rb").read() == readme and _temp_files(run_dir) == []


def test_after_the_disk_is_freed_the_run_resumes(tmp_path, capsys):
    run_dir = _stopped_run(tmp_path)
    faults.arm("stats.flush@1:enospc")  # half of step 6's stats line is left on the disk
    assert main(["resume", run_dir, "train.steps=8"]) == 2
    faults.arm(None)
    assert resume(run_dir, ["train.steps=8"]).completed
    steps = [line.split(",")[0] for line in open(os.path.join(run_dir, "stats.jsonl"))]
    assert steps == [f'{{"step": {s}' for s in range(2, 9, 2)]  # log_every=2: whole lines, each step once


# ------------------------------------------------------------------ a real small filesystem


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs at ``tmp_path/fs`` (skipped where mounting is not allowed)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", f"gankit-test-{uuid.uuid4().hex[:8]}",
                           str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _fill(directory, leave: int) -> None:
    """Write a file into ``directory`` until its filesystem has about ``leave`` bytes free."""
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    with open(os.path.join(directory, "filler"), "wb") as fh:
        try:
            fh.write(b"\0" * max(0, free - leave))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_real_full_disk_stops_naming_a_file_of_the_run(small_tmpfs, capsys):
    run_dir = _stopped_run(small_tmpfs)
    before = open(os.path.join(run_dir, CHECKPOINT_NAME), "rb").read()
    _fill(small_tmpfs, leave=8192)
    capsys.readouterr()
    assert main(["resume", run_dir, "train.steps=8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gankit: error: No space left on device: ")
    named = err.strip().rsplit(": ", 1)[1]
    assert os.path.dirname(named) in (run_dir, os.path.join(run_dir, "samples"))  # a file of the run, not a temp
    assert not STALE_TEMP.fullmatch(os.path.basename(named))
    assert open(os.path.join(run_dir, CHECKPOINT_NAME), "rb").read() == before
    assert _temp_files(run_dir) == []


def test_a_read_only_run_directory_stops_before_training(small_tmpfs, capsys):
    run_dir = _stopped_run(small_tmpfs)
    before = open(os.path.join(run_dir, CHECKPOINT_NAME), "rb").read()
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    capsys.readouterr()
    assert main(["resume", run_dir, "train.steps=8"]) == 2
    _assert_stopped_naming(run_dir, capsys, os.path.join(run_dir, "config.json"), before,
                           why="Read-only file system")
