"""Checkpoints that are not what they claim: each is one CheckpointError naming the file,
raised before the run directory is touched (no traceback, no KeyError)."""

import json
import os
import pickle

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from gankit.cli import main
from gankit.errors import CheckpointError
from gankit.runs import resume, train
from gankit.train import checkpoint as ckpt
from gankit.train.seeding import capture_rng, restore_rng
from tests.helpers import tiny


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runs")
    return train(tiny("ring-gan", tmp, "train.steps=2", "train.run_name=r")).run_dir


def _rewrite(run_dir, edit_meta=None, drop=()):
    """Rewrite ``run_dir``'s checkpoint with its metadata edited and some tensors dropped."""
    path = os.path.join(run_dir, ckpt.CHECKPOINT_NAME)
    with safe_open(path, framework="pt") as fh:
        meta = json.loads(fh.metadata()[ckpt.META_KEY])
        tensors = {k: fh.get_tensor(k) for k in fh.keys() if not any(k.startswith(d) for d in drop)}
    if edit_meta:
        edit_meta(meta)
    save_file(tensors, path, metadata={ckpt.META_KEY: json.dumps(meta)})
    return path


def _copy_run(run_dir, tmp_path):
    dst = tmp_path / "copy"
    dst.mkdir()
    for name in os.listdir(run_dir):
        src = os.path.join(run_dir, name)
        if os.path.isfile(src):
            (dst / name).write_bytes(open(src, "rb").read())
    return str(dst)


def _listing(run_dir):
    return {name: os.path.getmtime(os.path.join(run_dir, name)) for name in sorted(os.listdir(run_dir))}


@pytest.mark.parametrize(
    "edit, drop, words",
    [
        (lambda m: m.update(step="abc"), (), "step"),
        (lambda m: m.update(step=-3), (), "step"),
        (lambda m: m.update(step=True), (), "step"),
        (None, ("rng/",), "rng/torch"),
        (lambda m: m.pop("rng"), (), "rng"),
        (lambda m: m["rng"].update(python="garbage"), (), "rng"),
        (lambda m: m.pop("loader"), (), "loader"),
        (lambda m: m.pop("optimizers"), (), "optimizers"),
        (lambda m: m.update(config="x"), (), "config"),
    ],
    ids=["step-abc", "step-negative", "step-bool", "rng-tensors-missing", "rng-json-missing", "rng-json-garbage",
         "loader-missing", "optimizers-missing", "config-not-a-table"],
)
def test_damaged_checkpoint_is_refused_naming_the_file(finished_run, tmp_path, capsys, edit, drop, words):
    run_dir = _copy_run(finished_run, tmp_path)
    path = _rewrite(run_dir, edit, drop)
    before = _listing(run_dir)
    with pytest.raises(CheckpointError) as info:
        resume(run_dir, ["train.steps=4"])
    message = str(info.value)
    assert path in message and words in message
    assert _listing(run_dir) == before  # nothing rewritten: not config.json, not stats.jsonl
    assert main(["resume", run_dir, "train.steps=4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gankit: error: ") and path in err


def test_restore_rng_without_torch_state_is_a_checkpoint_error():
    state, tensors = capture_rng()
    with pytest.raises(CheckpointError, match="rng/torch"):
        restore_rng(state, {}, source="x.safetensors")
    before = torch.get_rng_state()
    with pytest.raises(CheckpointError, match="x.safetensors"):
        restore_rng({"python": state["python"]}, tensors, source="x.safetensors")  # numpy state missing
    assert torch.equal(torch.get_rng_state(), before)  # nothing restored halfway


@pytest.mark.parametrize(
    "payload, words",
    [
        (lambda: pickle.dumps({"w": [1.0, 2.0]}), "pickle"),
        (lambda: b"PK\x03\x04" + b"\0" * 64, "zip"),  # what torch.save writes
        (lambda: b"", "empty"),
        (lambda: b"\x10\0\0\0\0\0\0\0{}", "truncated"),
        (lambda: "step = 3\n".encode() * 10, "not a safetensors file"),
    ],
    ids=["pickle", "torch-save-zip", "empty", "truncated-header", "text"],
)
def test_a_file_that_is_not_safetensors_says_so(tmp_path, payload, words):
    path = tmp_path / ckpt.CHECKPOINT_NAME
    path.write_bytes(payload())
    with pytest.raises(CheckpointError) as info:
        ckpt.load_checkpoint(str(path))
    message = str(info.value)
    assert str(path) in message and "not a safetensors file" in message and words in message
    assert "header too large" not in message
