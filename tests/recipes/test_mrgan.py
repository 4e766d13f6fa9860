"""Recipe mrgan (Che et al. 2017): one-step smoke test, the manifold step's reconstruction
error falls on the ring, exact resume with four optimizers."""

import math
from types import SimpleNamespace

import pytest
import torch

from gankit.config import apply_overrides
from gankit.experiment import config_from_dict
from gankit.presets import preset_tree
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.helpers import TINY_DIGITS, TINY_RING
from tests.train.test_resume import _assert_identical


def mrgan_cfg(tmp_path, *extra, preset="ring-gan"):
    tree = preset_tree(preset)
    tree["recipe"] = {"name": "mrgan"}
    base = TINY_RING if preset == "ring-gan" else TINY_DIGITS
    return config_from_dict(apply_overrides(tree, [*base, f"train.out_dir={tmp_path}", *extra]))


@pytest.mark.parametrize("preset", ["ring-gan", "digits-dcgan"])
def test_one_step_smoke(tmp_path, preset):
    trainer = Trainer(mrgan_cfg(tmp_path, preset=preset), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach())))
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert set(stats) >= {"Loss/D_M", "Loss/EG", "MRGAN/recon", "Loss/D_D", "Loss/G"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"G", "E", "D_M", "D_D"}
    assert trainer.generate(torch.randn(5, trainer.recipe.z_dim)).shape == (5, *trainer.dataset.sample_shape)


def test_reconstruction_error_falls_on_the_ring(tmp_path):
    trainer = Trainer(mrgan_cfg(tmp_path, "train.seed=1", "optim.lr_g=3e-3"), str(tmp_path / "r"))
    x = trainer.dataset.x[:512]  # (512, 2)

    @torch.no_grad()
    def per_sample_error():
        return (x - trainer.recipe.reconstruct(x)).flatten(1).square().sum(1)  # (512,)

    e0 = per_sample_error()
    for _ in range(100):
        trainer.train_step()
    e1 = per_sample_error()
    # margin: 5 standard errors of the initial mean, and at least 80 % of the initial error gone
    margin = max(5 * float(e0.std() / math.sqrt(e0.numel())), 0.8 * float(e0.mean()))
    assert float(e1.mean()) < float(e0.mean()) - margin


def test_resume_is_exact(tmp_path):
    n, k = 7, 3
    full = train(mrgan_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", "train.ema_decay=0.9"))
    part = train(mrgan_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", "train.ema_decay=0.9"))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_encode_is_the_encoder_and_plain_gans_have_none(tmp_path):
    from gankit.errors import ConfigError
    from tests.helpers import tiny

    trainer = Trainer(mrgan_cfg(tmp_path), str(tmp_path / "r"))
    x = trainer.dataset.x[:7]
    nets = trainer.sampling_nets(use_ema=False)
    assert trainer.recipe.has_encoder
    torch.testing.assert_close(trainer.recipe.encode(nets, x), nets["E"](x))
    plain = Trainer(tiny("ring-gan", tmp_path), str(tmp_path / "p")).recipe
    assert not plain.has_encoder
    with pytest.raises(ConfigError, match="no encoder"):
        plain.encode({}, x)
