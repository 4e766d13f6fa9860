"""Several processes (gloo, CPU) train exactly as one process with the same global batch.

Each test runs ranks as subprocesses (tests/train/ddp_launch.py) and compares every tensor of
their checkpoint (networks, EMA copies with their BatchNorm statistics, optimizer moments) with a
one-process run of the same config built here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.train import distributed
from gankit.train.checkpoint import CHECKPOINT_NAME, module_tensors
from gankit.train.trainer import Trainer
from tests.train.ddp_launch import launch

QUIET = ["train.progress=false", "train.sample_every=0", "train.checkpoint_every=0", "train.log_every=1"]
# WGAN-GP with two critic updates per step: a double backward (the penalty) in every D update
GP_RING = ["data.n_samples=512", "model.g_width=32", "model.d_width=32", "train.batch_size=64",
           "recipe.loss=wgan", "recipe.gp_weight=10", "recipe.n_critic=2", "recipe.label_smoothing=none", *QUIET]
# DCGAN with BatchNorm in G and D: the statistics must span both ranks' rows
BN_DIGITS = ["data.resolution=8", "data.limit=256", "model.z_dim=8", "model.g_width=8", "model.d_width=8",
             "train.batch_size=16", "train.ema_bn_batches=2", *QUIET]


def fit(preset: str, run_dir: Path, overrides: list[str], resume: bool = False) -> None:
    trainer = Trainer(load_preset(preset, overrides), str(run_dir))
    if resume:
        trainer.load_checkpoint()
    trainer.fit()


def one_process(preset: str, run_dir: Path, overrides: list[str], resume: bool = False) -> dict[str, torch.Tensor]:
    fit(preset, run_dir, overrides, resume)
    return load_file(run_dir / CHECKPOINT_NAME)


def train_rank(preset: str, run_dir: Path, overrides: list[str], resume: bool) -> None:
    distributed.start("cpu")
    try:
        fit(preset, run_dir, overrides, resume)
    finally:
        distributed.stop()


def ranks(n: int, preset: str, run_dir: Path, overrides: list[str], resume: bool = False) -> dict[str, torch.Tensor]:
    launch(n, train_rank, preset, run_dir, overrides, resume)
    return load_file(run_dir / CHECKPOINT_NAME)


def stats_lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]


def assert_same_state(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        if key.startswith("rng/"):
            torch.testing.assert_close(got[key], want[key], rtol=0, atol=0, msg=key)
        else:
            torch.testing.assert_close(got[key], want[key], rtol=2e-5, atol=1e-6, msg=key)


def assert_trained(state: dict[str, torch.Tensor], initial: dict[str, torch.Tensor]) -> None:
    """The steps moved the weights (a comparison of untrained nets would prove nothing)."""
    moved = [k for k in initial if k.startswith("modules/") and initial[k].is_floating_point()
             and not torch.allclose(state[k], initial[k], rtol=1e-4, atol=1e-5)]
    assert len(moved) > len([k for k in initial if k.startswith("modules/")]) // 3


# the other penalties and every random draw over a batch: R1 and R2, DRAGAN (its perturbation scale is the
# std of the whole batch), instance noise and random label smoothing
OTHER_PENALTIES = ["recipe.loss=ns", "recipe.gp_weight=0", "recipe.r1_gamma=1", "recipe.r2_gamma=1",
                   "recipe.dragan_weight=1", "recipe.instance_noise=0.05", "recipe.label_smoothing=random"]


@pytest.mark.parametrize("variant", [[], OTHER_PENALTIES], ids=["wgan-gp", "r1-r2-dragan-noise"])
def test_gradient_penalty_and_n_critic_on_two_ranks_equal_one_process(tmp_path, variant):
    steps = ["train.steps=4", *variant]
    want = one_process("ring-gan", tmp_path / "one", [*GP_RING, *steps])
    initial = module_tensors("modules", Trainer(load_preset("ring-gan", GP_RING), str(tmp_path)).recipe.modules)
    got = ranks(2, "ring-gan", tmp_path / "two", [*GP_RING, *steps])
    assert_trained(want, initial)
    assert_same_state(got, want)
    # rank 0 logs the mean over ranks of each share's mean: the one-process batch means
    logged = [stats_lines(tmp_path / name) for name in ("one", "two")]
    assert [r.keys() for r in logged[0]] == [r.keys() for r in logged[1]] and len(logged[0]) == 4
    for a, b in zip(*logged):
        for key in a.keys() - {"time"}:
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), key


def test_sync_batchnorm_on_two_ranks_equals_one_process_and_per_rank_statistics_do_not(tmp_path):
    steps = ["train.steps=3"]
    want = one_process("digits-dcgan", tmp_path / "one", [*BN_DIGITS, *steps])
    got = ranks(2, "digits-dcgan", tmp_path / "two", [*BN_DIGITS, *steps])
    assert any(k.startswith("ema/G/") and k.endswith("running_var") for k in want)
    assert_same_state(got, want)
    local = ranks(2, "digits-dcgan", tmp_path / "local", [*BN_DIGITS, *steps, "train.sync_bn=false"])
    with pytest.raises(AssertionError):  # each rank normalising by its own 8 rows is another run
        assert_same_state(local, want)


def test_checkpoint_written_at_one_world_size_resumes_at_another(tmp_path):
    want = one_process("ring-gan", tmp_path / "straight", [*GP_RING, "train.steps=4"])
    ranks(2, "ring-gan", tmp_path / "two-then-one", [*GP_RING, "train.steps=2"])
    got = one_process("ring-gan", tmp_path / "two-then-one", [*GP_RING, "train.steps=4"], resume=True)
    assert_same_state(got, want)
    one_process("ring-gan", tmp_path / "one-then-two", [*GP_RING, "train.steps=2"])
    got = ranks(2, "ring-gan", tmp_path / "one-then-two", [*GP_RING, "train.steps=4"], resume=True)
    assert_same_state(got, want)


def test_shares_of_the_loader_and_of_random_draws_make_up_the_one_process_batch():
    from gankit.data.base import build_dataset
    from gankit.sharding import draw_rows, set_shard
    from gankit.train.loader import EpochLoader

    data = build_dataset(load_preset("ring-gan", ["data.n_samples=100"]).data)
    whole = EpochLoader(data, 8, 3, torch.device("cpu"))
    shares = [EpochLoader(data, 8, 3, torch.device("cpu"), (r, 2)) for r in range(2)]
    for _ in range(30):  # past an epoch boundary (12 batches per epoch)
        want = whole.next()
        got = [s.next() for s in shares]
        torch.testing.assert_close(torch.cat([g.x for g in got]), want.x, rtol=0, atol=0)
        torch.testing.assert_close(torch.cat([g.index for g in got]), want.index, rtol=0, atol=0)
    assert shares[1].state_dict() == whole.state_dict()
    try:
        rows = []
        for r in range(2):
            set_shard(r, 2)
            rows.append(draw_rows(lambda n: torch.randn(n, 3, generator=torch.Generator().manual_seed(5)), 4))
    finally:
        set_shard(0, 1)
    torch.testing.assert_close(torch.cat(rows), torch.randn(8, 3, generator=torch.Generator().manual_seed(5)))


@pytest.mark.parametrize("extra, message", [
    (["train.batch_size=63"], "divisible by the number of processes"),
    (["recipe.loss=ragan"], "ragan"),
    (["recipe.pack=4", "train.batch_size=12"], "recipe.pack=4"),
    (["recipe.fm_weight=1"], "fm_weight"),
    (["model.d_minibatch=stddev"], "d_minibatch"),
])
def test_what_shares_cannot_compute_is_refused_before_training(tmp_path, extra, message):
    cfg = load_preset("ring-gan", ["data.n_samples=128", "train.batch_size=64", *extra])
    recipe = Trainer(cfg, str(tmp_path)).recipe  # one process: trains
    with pytest.raises(ConfigError, match=message):
        distributed.check_data_parallel(cfg, recipe, distributed.World(0, 2))


def test_recipes_without_global_draws_are_refused_on_several_processes():
    cfg = load_preset("mnist-vae", ["train.batch_size=8"])

    class Recipe:  # the capability is all the check reads
        data_parallel = False

    with pytest.raises(ConfigError, match="does not train on several processes"):
        distributed.check_data_parallel(cfg, Recipe(), distributed.World(1, 2))
    distributed.check_data_parallel(cfg, Recipe(), distributed.World(0, 1))  # one process: anything goes


def test_converted_batchnorm_keeps_its_state_and_is_plain_batchnorm_in_one_process():
    from gankit.nets.sync_bn import GlobalBatchNorm, convert_batchnorm

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    ref = torch.nn.Sequential(*[m for m in __import__("copy").deepcopy(net)])
    keys = list(net.state_dict())
    convert_batchnorm(net)
    assert isinstance(net[1], GlobalBatchNorm) and list(net.state_dict()) == keys
    x = torch.randn(16, 3)
    torch.testing.assert_close(net(x), ref(x))
    torch.testing.assert_close(net[1].running_var, ref[1].running_var)
