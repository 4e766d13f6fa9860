"""Recipe vaegan (Larsen et al. 2016): one-step smoke (E, G and D all change), the three
phases' losses by hand from the recorded E, G and D outputs (the feature-space
reconstruction term in particular), config errors, exact resume and the presets."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.recipes.vaegan import feature_reconstruction_error, vaegan_d_loss
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical


def _trainer(tmp_path, *extra, preset="digits-dcgan"):
    trainer = Trainer(tiny_recipe(preset, tmp_path, "vaegan", *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _record(trainer):
    """Every output of E, G and D and every batch the loader hands out, in order (as NumPy)."""
    rec = {"E": [], "G": [], "D": [], "x": []}
    to_np = lambda t: t.detach().double().numpy().copy()  # noqa: E731
    mods = trainer.recipe.modules
    mods["E"].register_forward_hook(lambda m, a, out: rec["E"].append(tuple(map(to_np, out))))
    mods["G"].register_forward_hook(lambda m, a, out: rec["G"].append(to_np(out)))
    mods["D"].register_forward_hook(lambda m, a, out: rec["D"].append((to_np(out.logits), to_np(out.features))))
    next_batch = trainer.loader.next
    trainer.loader.next = lambda: rec["x"].append(next_batch()) or rec["x"][-1]
    return rec


def _softplus(t):
    return np.logaddexp(0.0, t)


def _features_error(f_real, f_recon):
    return 0.5 * ((f_real - f_recon) ** 2).reshape(len(f_real), -1).sum(1).mean()


@pytest.mark.parametrize("preset", ["ring-gan", "digits-dcgan"])
def test_one_step_smoke(tmp_path, preset):
    assert "vaegan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path, preset=preset)
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert set(stats) == {"Loss/E", "Loss/E/prior", "Loss/E/llike", "VAEGAN/recon_mse", "Loss/G", "Loss/G/llike",
                          "Loss/G/adv", "Loss/D", "D/real", "D/recon", "D/prior"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"E", "G", "D"}
    assert trainer.recipe.encode(trainer.sampling_nets(), trainer.dataset.x[:4]).shape == (4, trainer.recipe.z_dim)
    assert trainer.generate(torch.randn(5, trainer.recipe.z_dim)).shape == (5, *trainer.dataset.sample_shape)


def test_losses_of_one_step_by_hand(tmp_path):
    gamma = 0.3
    trainer, stats = _trainer(tmp_path, f"recipe.gamma={gamma}")
    rec = _record(trainer)
    trainer.train_step()
    assert [len(rec[k]) for k in ("E", "G", "D", "x")] == [3, 5, 8, 3]
    (d_x, d_rec), (g_x, g_rec, g_p), (dd_x, dd_rec, dd_p) = rec["D"][:2], rec["D"][2:5], rec["D"][5:]
    # phase E: KL in closed form + ½ Σ_f (D_l(x) - D_l(x̃))², and the pixel MSE of x̃ = G(z̃)
    mu, logvar = rec["E"][0]
    prior = (0.5 * (np.exp(logvar) + mu**2 - 1 - logvar).sum(1)).mean()
    llike = _features_error(d_x[1], d_rec[1])
    assert stats["Loss/E/prior"][0] == pytest.approx(prior, rel=1e-5)
    assert stats["Loss/E/llike"][0] == pytest.approx(llike, rel=1e-5)
    assert stats["Loss/E"][0] == pytest.approx(prior + llike, rel=1e-5)
    x0 = rec["x"][0].x.double().numpy()
    assert stats["VAEGAN/recon_mse"][0] == pytest.approx(((x0 - rec["G"][0]) ** 2).mean(), rel=1e-5)
    # phase G: γ · the same feature error (its own batch) - log D(x̃) - log D(x_p)
    g_llike = _features_error(g_x[1], g_rec[1])
    adv = _softplus(-g_rec[0]).mean() + _softplus(-g_p[0]).mean()
    assert stats["Loss/G/llike"][0] == pytest.approx(g_llike, rel=1e-5)
    assert stats["Loss/G/adv"][0] == pytest.approx(adv, rel=1e-5)
    assert stats["Loss/G"][0] == pytest.approx(gamma * g_llike + adv, rel=1e-5)
    # phase D: -L_GAN = -log D(x) - log(1 - D(x̃)) - log(1 - D(x_p))
    d_loss = _softplus(-dd_x[0]).mean() + _softplus(dd_rec[0]).mean() + _softplus(dd_p[0]).mean()
    assert stats["Loss/D"][0] == pytest.approx(d_loss, rel=1e-5)


def test_pure_terms_by_hand():
    f_real = torch.tensor([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    f_recon = torch.tensor([[0.0, 2.0, 1.0], [0.5, -1.0, 1.0]])
    # ½ (1 + 0 + 1) = 1 and ½ (0.25 + 0 + 4) = 2.125
    torch.testing.assert_close(feature_reconstruction_error(f_real, f_recon), torch.tensor([1.0, 2.125]))
    r, f, p = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 0.0]), torch.tensor([-3.0, 1.0])
    hand = -(np.log(1 / (1 + np.exp(-r.numpy()))).mean() + np.log(1 - 1 / (1 + np.exp(-f.numpy()))).mean()
             + np.log(1 - 1 / (1 + np.exp(-p.numpy()))).mean())
    assert float(vaegan_d_loss(r, f, p)) == pytest.approx(hand, rel=1e-6)


@pytest.mark.parametrize("extra, match", [(["model.d_arch=autoencoder"], "model.d_arch=default"),
                                          (["model.conditional=true"], "unconditional"),
                                          (["recipe.gamma=-1"], "recipe.gamma")])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "vaegan", *extra), str(tmp_path / "r"))


def test_resume_is_exact(tmp_path):
    n, k = 5, 2
    extra = ["train.ema_decay=0.9"]
    full = train(tiny_recipe("digits-dcgan", tmp_path, "vaegan", f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny_recipe("digits-dcgan", tmp_path, "vaegan", f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


@pytest.mark.parametrize("preset", ["mnist-vaegan", "fashion-vaegan"])
def test_presets_train(tmp_path, real_data, preset):
    cfg = load_preset(preset, [f"data.path={real_data}", "data.download=false", "data.limit=32",
                               "train.batch_size=16", "train.steps=2", "train.progress=false",
                               "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "vaegan" and cfg.model.arch == "dcgan"
    result = train(cfg)
    assert result.steps == 2 and result.completed
