"""Standing BatchNorm statistics for the EMA nets (recompute_batchnorm_stats, train.ema_bn_batches)."""

import numpy as np
import pytest
import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.train.ema import recompute_batchnorm_stats
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def _batches(n_batches=5, n=8, features=3):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(n, features, generator=gen) * torch.tensor([1.0, 2.0, 0.5]) + 3.0 for _ in range(n_batches)]


def test_statistics_are_the_plain_average_of_the_batch_statistics():
    bn = nn.BatchNorm1d(3, momentum=0.1).eval()
    bn.running_mean.fill_(7.0)
    batches = iter(_batches())
    recompute_batchnorm_stats([bn], lambda: bn(next(batches)), 5)
    xs = np.stack([b.numpy() for b in _batches()])  # (5, 8, 3)
    torch.testing.assert_close(bn.running_mean, torch.from_numpy(xs.mean(axis=1).mean(axis=0)))
    torch.testing.assert_close(bn.running_var, torch.from_numpy(xs.var(axis=1, ddof=1).mean(axis=0)))
    assert int(bn.num_batches_tracked) == 5
    assert bn.momentum == 0.1 and not bn.training  # settings and mode restored


def test_a_layer_no_pass_reaches_keeps_its_statistics():
    used, unused = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    unused.running_mean.fill_(5.0)
    unused.running_var.fill_(2.0)
    batches = iter(_batches())
    recompute_batchnorm_stats([nn.ModuleList([used, unused])], lambda: used(next(batches)), 5)
    torch.testing.assert_close(unused.running_mean, torch.full((3,), 5.0))
    torch.testing.assert_close(unused.running_var, torch.full((3,), 2.0))
    assert not torch.equal(used.running_mean, torch.zeros(3))


def test_a_failing_pass_leaves_every_statistic_as_it_was():
    bn = nn.BatchNorm1d(3).eval()
    bn.running_mean.fill_(4.0)
    batches = iter(_batches(n_batches=2))

    def forward():
        bn(next(batches))  # the third pass runs out of batches

    with pytest.raises(StopIteration):
        recompute_batchnorm_stats([bn], forward, 3)
    torch.testing.assert_close(bn.running_mean, torch.full((3,), 4.0))
    assert int(bn.num_batches_tracked) == 0 and not bn.training and bn.momentum == 0.1


def _pre_norm_input(g: nn.Module, norm: nn.Module, z: torch.Tensor) -> torch.Tensor:
    seen = []
    handle = norm.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    with torch.no_grad():
        g.eval()(z)
    handle.remove()
    return seen[0]


def test_trainer_gives_the_ema_generator_the_statistics_of_its_own_weights(tmp_path):
    """After training, the EMA generator's first BatchNorm layer holds the mean and variance its
    input actually has for fresh latents (not the live generator's), and the checkpoint keeps them."""
    cfg = tiny("digits-dcgan", tmp_path, "train.steps=30", "train.ema_decay=0.9", "train.ema_bn_batches=64")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    for _ in range(30):
        trainer.train_step()
    live, ema = trainer.recipe.modules["G"], trainer.ema["G"].module
    norm_of = lambda g: next(m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))  # noqa: E731
    copied_var = norm_of(ema).running_var.clone()
    torch.testing.assert_close(copied_var, norm_of(live).running_var)  # before sampling: a copy of the live net's
    trainer.sampling_nets(use_ema=True)
    z = trainer.recipe.latent(4096, torch.Generator().manual_seed(1))
    h = _pre_norm_input(ema, norm_of(ema), z).transpose(0, 1).reshape(norm_of(ema).num_features, -1)
    torch.testing.assert_close(norm_of(ema).running_mean, h.mean(dim=1), atol=0.05 * h.std(dim=1).min().item(), rtol=0)
    torch.testing.assert_close(norm_of(ema).running_var, h.var(dim=1), rtol=0.1, atol=0)
    assert not torch.allclose(copied_var, h.var(dim=1), rtol=0.5, atol=0)  # the live net's were far off
    tensors, _ = trainer.state()
    for name, buffer in ema.named_buffers():
        torch.testing.assert_close(tensors[f"ema/G/{name}"], buffer)
    assert live.training and not ema.training


def test_ema_bn_batches_zero_keeps_the_live_statistics(tmp_path):
    cfg = tiny("digits-dcgan", tmp_path, "train.steps=5", "train.ema_bn_batches=0")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    for _ in range(5):
        trainer.train_step()
    trainer.sampling_nets(use_ema=True)
    live, ema = dict(trainer.recipe.modules["G"].named_buffers()), dict(trainer.ema["G"].module.named_buffers())
    for name in live:
        torch.testing.assert_close(ema[name], live[name])


def test_refreshing_leaves_the_training_random_stream_alone(tmp_path):
    cfg = tiny("digits-dcgan", tmp_path, "train.steps=5")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    trainer.train_step()
    generate = trainer.recipe.generate
    draws = []

    def noisy_generate(nets, z, c=None):  # a generator that draws from the global stream (dropout, say)
        draws.append(torch.rand(1))
        return generate(nets, z, c)

    trainer.recipe.generate = noisy_generate
    state = torch.get_rng_state()
    trainer.sampling_nets(use_ema=True)
    assert len(draws) == cfg.train.ema_bn_batches
    assert torch.equal(torch.get_rng_state(), state)


def test_negative_ema_bn_batches_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="ema_bn_batches"):
        tiny("digits-dcgan", tmp_path, "train.ema_bn_batches=-1")
