"""Recipes fisher, ebgan, began, magan: one-step smoke tests, the maths of one step checked
by hand from the discriminator's recorded outputs, and exact resume of recipe state."""

import math
from types import SimpleNamespace

import pytest
import torch

from gankit.config import apply_overrides
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.presets import preset_tree
from gankit.recipes import RECIPES, DataInfo
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.helpers import TINY_DIGITS, TINY_RING
from tests.train.test_resume import _assert_identical

AE = ["model.d_arch=autoencoder", "model.ae_code_dim=4"]


def tiny_recipe(preset, tmp_path, recipe, *extra):
    """A tiny preset whose [recipe] table is replaced by ``recipe`` (presets carry gan keys)."""
    tree = preset_tree(preset)
    tree["recipe"] = {"name": recipe}
    base = TINY_RING if preset == "ring-gan" else TINY_DIGITS
    return config_from_dict(apply_overrides(tree, [*base, f"train.out_dir={tmp_path}", *extra]))


def _trainer(tmp_path, recipe, *extra, preset="ring-gan"):
    trainer = Trainer(tiny_recipe(preset, tmp_path, recipe, *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _record_d(trainer):
    """Every D forward's DOutput, in order."""
    outs = []
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: outs.append(out))
    return outs


@pytest.mark.parametrize("recipe, extra", [("fisher", []), ("ebgan", AE), ("began", AE), ("magan", AE)])
@pytest.mark.parametrize("preset", ["ring-gan", "digits-dcgan"])
def test_one_step_smoke(tmp_path, recipe, extra, preset):
    assert recipe in RECIPES.names()
    trainer, stats = _trainer(tmp_path, recipe, *extra, preset=preset)
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert trainer.step == 1
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"G", "D"}


@pytest.mark.parametrize("recipe", ["ebgan", "began", "magan"])
def test_autoencoder_recipes_need_the_autoencoder_d(tmp_path, recipe):
    with pytest.raises(ConfigError, match="model.d_arch=autoencoder"):
        Trainer(tiny_recipe("ring-gan", tmp_path, recipe), str(tmp_path / "r"))


def test_fisher_lambda_follows_the_constraint_of_each_critic_step(tmp_path):
    rho = 0.5
    trainer, stats = _trainer(tmp_path, "fisher", f"recipe.rho={rho}", "recipe.n_critic=2")
    outs = _record_d(trainer)
    trainer.train_step()
    # D forwards: (real, fake) per critic step, then G's fake
    lam = 0.0
    for i in range(2):
        r, f = outs[2 * i].logits.detach(), outs[2 * i + 1].logits.detach()
        omega = 0.5 * (r.square().mean() + f.square().mean())
        assert stats["Fisher/lambda"][i] == pytest.approx(lam)
        assert stats["Fisher/constraint"][i] == pytest.approx(float(1 - omega), rel=1e-5, abs=1e-6)
        lam = lam - rho * float(1 - omega)
    assert trainer.recipe.multiplier.lam == pytest.approx(lam, rel=1e-5, abs=1e-7)
    assert lam != 0.0


def test_ebgan_losses_and_pulling_away_term_by_hand(tmp_path):
    m, w = 0.05, 0.3
    trainer, stats = _trainer(tmp_path, "ebgan", *AE, f"recipe.margin={m}", f"recipe.pt_weight={w}")
    outs = _record_d(trainer)
    trainer.train_step()
    real_e, fake_e = outs[0].logits.detach().numpy(), outs[1].logits.detach().numpy()
    expected_d = real_e.mean() + (m - fake_e).clip(min=0).mean()
    assert stats["Loss/D"][0] == pytest.approx(float(expected_d), rel=1e-5)
    g_out = outs[2]
    s = g_out.features.detach().numpy()
    s = s / ((s**2).sum(1, keepdims=True) ** 0.5)
    cos2 = (s @ s.T) ** 2
    n = s.shape[0]
    pt = (cos2.sum() - cos2.trace()) / (n * (n - 1))
    assert stats["Loss/G/pt"][0] == pytest.approx(float(pt), rel=1e-5)
    assert stats["Loss/G"][0] == pytest.approx(float(g_out.logits.detach().mean()) + w * float(pt), rel=1e-5)


def test_began_k_and_convergence_measure_by_hand(tmp_path):
    gamma, lam_k, k0 = 0.7, 0.5, 0.4
    trainer, stats = _trainer(tmp_path, "began", *AE, f"recipe.gamma={gamma}", f"recipe.lambda_k={lam_k}",
                              f"recipe.k0={k0}")
    outs = _record_d(trainer)
    trainer.train_step()
    real_l, fake_l = float(outs[0].logits.detach().mean()), float(outs[1].logits.detach().mean())
    assert stats["Loss/D"][0] == pytest.approx(real_l - k0 * fake_l, rel=1e-5)
    assert stats["BEGAN/k"][0] == pytest.approx(k0)
    assert stats["BEGAN/M"][0] == pytest.approx(real_l + abs(gamma * real_l - fake_l), rel=1e-5)
    expected_k = min(max(k0 + lam_k * (gamma * real_l - fake_l), 0.0), 1.0)
    assert 0.0 < expected_k < 1.0  # not clipped: the update itself is checked
    assert trainer.recipe.balance.k == pytest.approx(expected_k, rel=1e-5)


def test_magan_margin_starts_at_real_energy_and_adapts_per_epoch(tmp_path):
    trainer, stats = _trainer(tmp_path, "magan", *AE, "recipe.epoch_steps=2", "recipe.pretrain_steps=1")
    G = trainer.recipe.modules["G"]
    g0 = {n: p.detach().clone() for n, p in G.named_parameters()}
    outs = _record_d(trainer)
    trainer.train_step()  # pre-training: D only, one forward on real data
    assert len(outs) == 1 and trainer.recipe.margin.margin is None
    assert all(torch.equal(p, g0[n]) for n, p in G.named_parameters())
    outs.clear()
    trainer.train_step()
    m0 = float(outs[0].logits.detach().mean())
    assert trainer.recipe.margin.margin == pytest.approx(m0, rel=1e-6)
    energies = [(outs[0].logits.detach(), outs[1].logits.detach())]
    outs.clear()
    trainer.train_step()  # end of the first 2-step epoch
    energies.append((outs[0].logits.detach(), outs[1].logits.detach()))
    real = float(torch.cat([e[0] for e in energies]).mean())
    fake = float(torch.cat([e[1] for e in energies]).mean())
    # first epoch: prev_fake = inf, so the margin is kept; the epoch's fake mean is remembered
    assert trainer.recipe.margin.margin == pytest.approx(m0, rel=1e-6)
    assert trainer.recipe.margin.prev_fake_mean == pytest.approx(fake, rel=1e-5)
    assert trainer.recipe.margin.real_count == 0
    assert real > 0


def test_magan_epoch_length_from_the_data_size(tmp_path):
    cfg = tiny_recipe("ring-gan", tmp_path, "magan", *AE)
    info = DataInfo(sample_shape=(2,), num_classes=0, num_examples=512)
    recipe = RECIPES.get("magan")(cfg, info)
    assert recipe.epoch_steps == (512 // 32) // 2  # 16 batches, 2 per step (1 D + 1 G)


@pytest.mark.parametrize("recipe, extra", [("began", [*AE, "recipe.lambda_k=0.5", "recipe.k0=0.5"]),
                                           ("fisher", ["recipe.rho=0.1"])])
def test_resume_is_exact_with_recipe_state(tmp_path, recipe, extra):
    n, k = 6, 3
    full = train(tiny_recipe("ring-gan", tmp_path, recipe, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny_recipe("ring-gan", tmp_path, recipe, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    _assert_identical(full.run_dir, resumed.run_dir)
    from gankit.train.checkpoint import load_checkpoint

    state_full = load_checkpoint(f"{full.run_dir}/checkpoint.safetensors")[1]["recipe_state"]
    state_res = load_checkpoint(f"{resumed.run_dir}/checkpoint.safetensors")[1]["recipe_state"]
    assert state_full == state_res and state_full != {}


def test_magan_warns_when_the_run_only_pretrains(tmp_path):
    from gankit.recipes import PretrainingOnlyWarning

    with pytest.warns(PretrainingOnlyWarning, match="pre-trains D as an autoencoder"):
        _trainer(tmp_path, "magan", *AE, "train.steps=2", "recipe.pretrain_steps=2")
