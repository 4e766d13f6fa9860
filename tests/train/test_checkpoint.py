import os
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch

from gankit.errors import CheckpointError
from gankit.runs import load_run, train
from gankit.train import checkpoint as ckpt
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def test_round_trip(tmp_path):
    path = str(tmp_path / "c.safetensors")
    tensors = {"a/b": torch.arange(6.0).reshape(2, 3), "i": torch.tensor([1, 2], dtype=torch.int64)}
    ckpt.save_checkpoint(path, tensors, {"step": 3, "x": [1, 2]})
    loaded, meta = ckpt.load_checkpoint(path)
    assert meta == {"format": ckpt.FORMAT, "step": 3, "x": [1, 2]}
    for k in tensors:
        torch.testing.assert_close(loaded[k], tensors[k], rtol=0, atol=0)


def test_interrupted_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / "c.safetensors")
    ckpt.save_checkpoint(path, {"w": torch.ones(3)}, {"step": 1})

    def power_cut(fd):  # the new file is written but not yet synced or renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(path, {"w": torch.zeros(3)}, {"step": 2})
    monkeypatch.undo()
    loaded, meta = ckpt.load_checkpoint(path)
    assert meta["step"] == 1
    torch.testing.assert_close(loaded["w"], torch.ones(3))
    assert os.listdir(tmp_path) == ["c.safetensors"]


def test_process_killed_mid_write_keeps_previous_checkpoint(tmp_path):
    """SIGKILL after the new checkpoint is written to its temporary file but before the
    rename: the old one still loads, and the stale temporary is cleaned by the next save."""
    path = tmp_path / "c.safetensors"
    ckpt.save_checkpoint(str(path), {"w": torch.ones(3)}, {"step": 1})
    script = textwrap.dedent(
        f"""
        import os, signal, torch
        from gankit.train import checkpoint as ckpt
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        ckpt.save_checkpoint({str(path)!r}, {{"w": torch.zeros(3)}}, {{"step": 2}})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    leftovers = [n for n in os.listdir(tmp_path) if n != "c.safetensors"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".c.safetensors.")
    _, meta = ckpt.load_checkpoint(str(path))
    assert meta["step"] == 1
    ckpt.save_checkpoint(str(path), {"w": torch.zeros(3)}, {"step": 3})
    assert os.listdir(tmp_path) == ["c.safetensors"]
    assert ckpt.load_checkpoint(str(path))[1]["step"] == 3


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # creates the marker file when unpickled


@pytest.mark.parametrize("writer", ["pickle", "torch"])
def test_pickle_checkpoint_is_refused_and_never_runs(tmp_path, writer):
    marker = tmp_path / "code-ran"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = run_dir / ckpt.CHECKPOINT_NAME
    if writer == "pickle":
        path.write_bytes(pickle.dumps(_Evil(str(marker))))
    else:
        torch.save({"G": _Evil(str(marker))}, path)
    with pytest.raises(CheckpointError, match="not a valid safetensors checkpoint"):
        ckpt.load_checkpoint(str(path))
    with pytest.raises(CheckpointError):
        load_run(str(run_dir))
    assert not marker.exists()


def test_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "c.safetensors"
    ckpt.save_checkpoint(str(path), {"w": torch.ones(100)}, {"step": 1})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        ckpt.load_checkpoint(str(path))
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(path))  # valid safetensors, not ours
    with pytest.raises(CheckpointError, match="not a gankit checkpoint"):
        ckpt.load_checkpoint(str(path))
    with pytest.raises(CheckpointError, match="no checkpoint"):
        ckpt.load_checkpoint(str(tmp_path / "missing.safetensors"))


def test_checkpoint_from_other_architecture_is_refused(tmp_path):
    result = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=a"))
    other = tiny("ring-gan", tmp_path, "model.g_width=24", "train.run_name=a")
    trainer = Trainer(other, result.run_dir)
    with pytest.raises(CheckpointError, match="does not match this model's G network"):
        trainer.load_checkpoint()
    deeper = tiny("ring-gan", tmp_path, "model.mlp_layers=3", "train.run_name=a")
    with pytest.raises(CheckpointError, match="different architecture"):
        Trainer(deeper, result.run_dir).load_checkpoint()
    other_recipe_cfg = tiny("digits-dcgan", tmp_path)
    with pytest.raises(CheckpointError):
        Trainer(other_recipe_cfg, result.run_dir).load_checkpoint()


def test_optimizer_state_round_trip(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(4, 3)).pow(2).sum().backward()
        opt.step()
    meta, tensors = ckpt.optimizer_state("G", opt)
    path = str(tmp_path / "o.safetensors")
    ckpt.save_checkpoint(path, tensors, {"opt": meta})
    loaded, m = ckpt.load_checkpoint(path)
    opt2 = torch.optim.Adam(net.parameters(), lr=5.0)
    ckpt.load_optimizer_state("G", opt2, m["opt"], loaded, path)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for idx in s1["state"]:
        for key in s1["state"][idx]:
            torch.testing.assert_close(s1["state"][idx][key], s2["state"][idx][key], rtol=0, atol=0)


def test_a_checkpoint_whose_header_length_starts_with_byte_0x80_loads(tmp_path):
    """The first byte of a safetensors file is the low byte of its header length: 0x80 there
    is a valid checkpoint, not a pickle (pickles start with 0x80 too)."""
    path = str(tmp_path / "c.safetensors")
    tensors = {"w": torch.arange(3.0)}
    for pad in range(256):  # the header grows one byte per padding character
        ckpt.save_checkpoint(path, tensors, {"step": 1, "pad": "x" * pad})
        with open(path, "rb") as fh:
            if fh.read(1) == b"\x80":
                break
    else:
        pytest.fail("no padding gave a header length with low byte 0x80")
    loaded, meta = ckpt.load_checkpoint(path)
    torch.testing.assert_close(loaded["w"], tensors["w"])
    assert meta["step"] == 1
