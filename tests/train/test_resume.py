"""Exact resume: N steps in one go == k steps, stop, resume, N steps (bit for bit on CPU)."""

import pytest
import torch

from gankit.cli import main
from gankit.runs import resume, train
from gankit.train.checkpoint import load_checkpoint
from tests.helpers import tiny


def _tensors(run_dir):
    tensors, meta = load_checkpoint(f"{run_dir}/checkpoint.safetensors")
    return tensors, meta


def _assert_identical(a_dir, b_dir):
    ta, ma = _tensors(a_dir)
    tb, mb = _tensors(b_dir)
    assert ma["step"] == mb["step"]
    assert sorted(ta) == sorted(tb)
    groups = {k.split("/")[0] for k in ta}
    assert {"modules", "ema", "optim", "rng"} <= groups
    for key in ta:
        torch.testing.assert_close(ta[key], tb[key], rtol=0, atol=0, msg=f"{key} differs")
    assert ma["optimizers"] == mb["optimizers"]
    assert ma["loader"] == mb["loader"]
    assert ma["rng"] == mb["rng"]


@pytest.mark.parametrize(
    "preset, extra",
    [
        ("ring-gan", ["recipe.n_critic=2"]),
        ("digits-dcgan", ["recipe.loss=wgan", "recipe.gp_weight=10", "model.d_norm=layer", "train.ema_decay=0.9"]),
    ],
)
def test_resume_is_exact(tmp_path, preset, extra):
    n, k = 9, 4  # k is not a multiple of the log interval, and crosses an epoch boundary
    full = train(tiny(preset, tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny(preset, tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    assert part.steps == k
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n and full.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_resume_through_cli_is_exact(tmp_path):
    n, k = 7, 3
    full = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=full"))
    args = ["train", "--preset", "ring-gan", "--out", str(tmp_path), "train.run_name=part", f"train.steps={k}"]
    args += [o for o in __import__("tests.helpers").helpers.TINY_RING]
    assert main(args) == 0
    assert main(["resume", str(tmp_path / "part"), f"train.steps={n}"]) == 0
    _assert_identical(full.run_dir, tmp_path / "part")


def test_periodic_checkpoints_do_not_change_the_run(tmp_path):
    a = train(tiny("ring-gan", tmp_path, "train.steps=6", "train.run_name=a"))
    b = train(tiny("ring-gan", tmp_path, "train.steps=6", "train.run_name=b", "train.checkpoint_every=2",
                   "train.sample_every=3"))
    _assert_identical(a.run_dir, b.run_dir)
