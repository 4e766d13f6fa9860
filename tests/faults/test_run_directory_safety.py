"""Run directories are only written where they belong and only by the run they hold:
a run name that escapes train.out_dir, a checkpoint of another run dropped into a directory,
a resume to a step the run has already passed — each refused before anything is written.
Resume removes the temp files a kill during an atomic write left behind, and says so when the
torch thread count (on which exact resume depends) differs from the one the run was trained with."""

import os
import re
import shutil
import warnings

import pytest
import torch

from gankit import atomic
from gankit.cli import main
from gankit.errors import CheckpointError, ConfigError
from gankit.runs import resume, train
from gankit.runs.training import STALE_TEMP, remove_stale_temp_files
from gankit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from tests.helpers import TINY_RING, tiny


def _snapshot(run_dir):
    """Every file under ``run_dir`` with its bytes."""
    out = {}
    for root, _, files in os.walk(run_dir):
        for name in files:
            path = os.path.join(root, name)
            out[os.path.relpath(path, run_dir)] = open(path, "rb").read()
    return out


@pytest.mark.parametrize("name", ["../../escape", "../sibling", "ABSOLUTE", ".", "a/../.."])
def test_run_name_cannot_leave_out_dir(tmp_path, capsys, name):
    out = tmp_path / "a" / "b" / "runs"
    name = str(tmp_path / "absolute") if name == "ABSOLUTE" else name
    with pytest.raises(ConfigError, match="train.run_name"):
        train(tiny("ring-gan", out, "train.steps=1", f"train.run_name={name}"))
    assert not (tmp_path / "escape").exists() and not (tmp_path / "a" / "b" / "sibling").exists()
    assert not (tmp_path / "absolute").exists() and not (out / CHECKPOINT_NAME).exists()
    args = ["train", "--preset", "ring-gan", "--out", str(out), f"train.run_name={name}", "train.steps=1", *TINY_RING]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.run_name" in err


def test_nested_run_name_inside_out_dir_is_fine(tmp_path):
    result = train(tiny("ring-gan", tmp_path, "train.steps=1", "train.run_name=sweep/a"))
    assert os.path.isfile(tmp_path / "sweep" / "a" / CHECKPOINT_NAME) and result.steps == 1


def test_checkpoint_of_another_run_is_refused_before_writing(tmp_path, capsys):
    mine = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=mine")).run_dir
    other = train(tiny("grid-gan", tmp_path, "train.steps=3", "train.run_name=other")).run_dir
    shutil.copy(os.path.join(other, CHECKPOINT_NAME), os.path.join(mine, CHECKPOINT_NAME))
    before = _snapshot(mine)
    with pytest.raises(CheckpointError, match="does not belong") as info:
        resume(mine, ["train.steps=5"])
    assert "config.json" in str(info.value) and CHECKPOINT_NAME in str(info.value)
    assert main(["resume", mine, "train.steps=5"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert _snapshot(mine) == before  # config.json not overwritten, stats.jsonl not appended to


def test_checkpoint_of_same_preset_other_settings_is_refused(tmp_path):
    mine = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=mine")).run_dir
    other = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=other", "train.seed=3")).run_dir
    shutil.copy(os.path.join(other, CHECKPOINT_NAME), os.path.join(mine, CHECKPOINT_NAME))
    with pytest.raises(CheckpointError, match="train.seed"):
        resume(mine, ["train.steps=4"])


def test_resume_behind_the_checkpoint_is_refused_and_rewrites_nothing(tmp_path, capsys):
    run_dir = train(tiny("ring-gan", tmp_path, "train.steps=6", "train.run_name=r")).run_dir
    before = _snapshot(run_dir)
    with pytest.raises(ConfigError, match=r"step 6.*train\.steps=3"):
        resume(run_dir, ["train.steps=3"])
    assert main(["resume", run_dir, "train.steps=3"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert _snapshot(run_dir) == before  # config.json still says 6 steps


def test_resume_at_the_checkpoint_step_finishes_the_artifacts(tmp_path):
    # a kill after the last checkpoint (while the README or plots were written) is repaired this way
    run_dir = train(tiny("ring-gan", tmp_path, "train.steps=3", "train.run_name=r")).run_dir
    assert resume(run_dir).steps == 3


def test_atomic_temp_names_are_recognised_as_stale():
    # the pattern resume cleans must match what gankit.atomic writes, or stale files accumulate
    for target in ("checkpoint.safetensors", "config.json", "grid_000500.png"):
        assert STALE_TEMP.fullmatch(atomic._temp_path(__import__("pathlib").Path(target)).name)
    for keep in ("checkpoint.safetensors", ".hidden.tmp", "notes.tmp", "stats.jsonl", ".gitignore"):
        assert not STALE_TEMP.fullmatch(keep)


def test_resume_removes_stale_temp_files(tmp_path):
    run_dir = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=r", "train.sample_every=1")).run_dir
    planted = [
        os.path.join(run_dir, ".checkpoint.safetensors.0123456789ab.tmp"),  # a kill during a checkpoint write
        os.path.join(run_dir, ".config.json.a1b2c3d4e5f6.tmp"),
        os.path.join(run_dir, "samples", ".grid_000001.png.ffffffffffff.tmp"),
    ]
    for path in planted:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(b"half a file")
    keep = os.path.join(run_dir, "notes.tmp")  # not ours: never touched
    open(keep, "w").close()
    resume(run_dir, ["train.steps=4"])
    assert [p for p in planted if os.path.exists(p)] == []
    assert os.path.exists(keep)
    leftovers = [n for _, _, files in os.walk(run_dir) for n in files if re.search(r"\.tmp$", n) and n != "notes.tmp"]
    assert leftovers == []


def test_remove_stale_temp_files_counts_what_it_removed(tmp_path):
    (tmp_path / ".x.json.00000000000a.tmp").write_text("")
    (tmp_path / "x.json").write_text("{}")
    assert remove_stale_temp_files(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == ["x.json"]


def test_thread_count_is_recorded_and_a_change_warned_once(tmp_path, monkeypatch):
    run_dir = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=r")).run_dir
    _, meta = load_checkpoint(os.path.join(run_dir, CHECKPOINT_NAME))
    trained_with = torch.get_num_threads()
    assert meta["rng"]["torch_threads"] == trained_with

    with warnings.catch_warnings(record=True) as same:
        warnings.simplefilter("always")
        resume(run_dir, ["train.steps=3"])
    assert [w for w in same if "threads" in str(w.message)] == []

    monkeypatch.setattr(torch, "get_num_threads", lambda: trained_with + 3)
    with warnings.catch_warnings(record=True) as changed:
        warnings.simplefilter("always")
        resume(run_dir, ["train.steps=5", "train.checkpoint_every=1"])  # several checkpoints, one warning
    messages = [str(w.message) for w in changed if "threads" in str(w.message)]
    assert len(messages) == 1
    assert f"{trained_with} torch threads" in messages[0] and str(trained_with + 3) in messages[0]
    _, meta = load_checkpoint(os.path.join(run_dir, CHECKPOINT_NAME))
    assert meta["rng"]["torch_threads"] == trained_with + 3  # the checkpoint records the count it was made with
