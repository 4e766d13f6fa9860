"""Recipe infogan (Chen et al. 2016): latent layout, the mutual-information term of one step
by hand, the categorical code becoming predictable, latent traversals, and the preset."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.recipes.infogan import latent_traversal, traversal_latents
from gankit.runs import load_run, resume, train
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical

CODES = ["recipe.categorical=4", "recipe.continuous=2"]
NOISE = 8  # model.z_dim of the tiny digits config


def _trainer(tmp_path, *extra):
    trainer = Trainer(tiny_recipe("digits-dcgan", tmp_path, "infogan", *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def test_one_step_smoke_and_latent_layout(tmp_path):
    assert "infogan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path, *CODES)
    recipe = trainer.recipe
    assert recipe.z_dim == NOISE + 4 + 2 and recipe.modules["G"].z_dim == recipe.z_dim
    z = recipe.latent(500, torch.Generator().manual_seed(0))  # (500, 14)
    assert z.shape == (500, 14)
    onehot, cont = z[:, NOISE:NOISE + 4], z[:, NOISE + 4:]
    torch.testing.assert_close(onehot.sum(1), torch.ones(500))
    assert set(onehot.unique().tolist()) == {0.0, 1.0}
    assert set(onehot.argmax(1).tolist()) == {0, 1, 2, 3}
    assert cont.min() >= -1 and cont.max() <= 1 and cont.min() < -0.9 and cont.max() > 0.9
    before = {n: p.detach().clone() for n, p in recipe.modules.named_parameters()}
    trainer.train_step()
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n for n, p in recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert {n.split(".")[0] for n in changed} == {"G", "D"}
    assert any(n.startswith("D.aux.q.") for n in changed)  # Q is stepped with D
    assert trainer.generate(recipe.latent(3)).shape == (3, 1, 8, 8)


def test_info_terms_of_one_step_by_hand(tmp_path):
    lam_cat, lam_cont = 0.8, 0.3
    trainer, stats = _trainer(tmp_path, *CODES, f"recipe.lambda_cat={lam_cat}", f"recipe.lambda_cont={lam_cont}",
                              "recipe.fixed_std=false")
    outs, codes = [], []
    recipe = trainer.recipe
    recipe.modules["D"].register_forward_hook(lambda m, a, out: outs.append(out))
    new_fake = recipe._new_fake
    recipe._new_fake = lambda b, c: (new_fake(b, c), codes.append(recipe._codes))[0]
    trainer.train_step()
    assert len(codes) == 1  # the G phase reuses the D phase's fake and its codes
    real, fake, g_fake = outs
    cat, cont = codes[0].cat.numpy(), codes[0].cont.numpy()

    def info(out):
        logits = out.extra["q_categorical"].detach().double().numpy()  # (B, 4)
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        ce = -logp[np.arange(len(cat)), cat].mean()
        mu = out.extra["q_mean"].detach().double().numpy()
        logstd = out.extra["q_logstd"].detach().double().numpy()
        nll = (logstd + 0.5 * np.log(2 * np.pi) + 0.5 * ((cont - mu) / np.exp(logstd)) ** 2).mean()
        return ce, nll

    ce, nll = info(fake)
    assert stats["Loss/D/info_cat"][0] == pytest.approx(ce, rel=1e-5)
    assert stats["Loss/D/info_cont"][0] == pytest.approx(nll, rel=1e-5)
    assert stats["InfoGAN/mi_cat"][0] == pytest.approx(math.log(4) - ce, rel=1e-4, abs=1e-6)
    assert stats["Loss/D"][0] == pytest.approx(stats["Loss/D/adv"][0] + lam_cat * ce + lam_cont * nll, rel=1e-5)
    ce_g, nll_g = info(g_fake)
    adv_g = float((-torch.log(torch.sigmoid(g_fake.logits.detach().double()))).mean())
    assert stats["Loss/G"][0] == pytest.approx(adv_g + lam_cat * ce_g + lam_cont * nll_g, rel=1e-5)


def test_categorical_information_grows(tmp_path):
    # 50 steps, tiny nets, 10-way code: CE(Q) starts at log 10 = 2.30 and falls to ~0.6-0.85
    # (seeds 0-5: the mean of the last 10 steps is 1.45-1.72 below the first 10), so the
    # categorical lower bound log K - CE grows from ~0 by as much
    trainer, stats = _trainer(tmp_path, "optim.lr_d=2e-3", "optim.lr_g=2e-3", "train.seed=0")
    for _ in range(50):
        trainer.train_step()
    ce, mi = stats["Loss/D/info_cat"], stats["InfoGAN/mi_cat"]
    first, last = sum(ce[:10]) / 10, sum(ce[-10:]) / 10
    assert first == pytest.approx(math.log(10), abs=0.1)
    assert first - last > 1.0
    assert sum(mi[-10:]) / 10 - sum(mi[:10]) / 10 == pytest.approx(first - last, rel=1e-4)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("infogan")
    result = train(tiny_recipe("digits-dcgan", tmp, "infogan", *CODES, "train.steps=2", "train.run_name=r"))
    return load_run(result.run_dir)


def test_traversal_of_the_categorical_code(run):
    z = traversal_latents(run.recipe, 0, [0, 1, 2, 3], seed=5, rows=2)  # (8, 14)
    assert z.shape == (8, 14)
    for r in range(2):
        row = z[4 * r:4 * r + 4]
        fixed = torch.cat([row[:, :NOISE], row[:, NOISE + 4:]], 1)  # noise and continuous codes
        assert torch.equal(fixed, fixed[:1].expand_as(fixed))
        torch.testing.assert_close(row[:, NOISE:NOISE + 4], torch.eye(4), rtol=0, atol=0)
    assert not torch.equal(z[0, :NOISE], z[4, :NOISE])  # rows draw different noise
    images = latent_traversal(run, 0, [0, 1, 2, 3], seed=5, rows=2)
    assert images.shape == (8, 1, 8, 8)
    torch.testing.assert_close(images, run.recipe.sample(run.nets(), z), rtol=0, atol=0)
    torch.testing.assert_close(images, latent_traversal(run, 0, [0, 1, 2, 3], seed=5, rows=2), rtol=0, atol=0)
    for i in range(3):  # each code value gives a different image from the same noise
        assert (images[i] - images[i + 1]).abs().max() > 1e-4


def test_traversal_of_a_continuous_code(run):
    values = [-1.0, 0.0, 1.0]
    z = traversal_latents(run.recipe, 2, values, seed=1)  # code 2 = second continuous code
    torch.testing.assert_close(z[:, -1], torch.tensor(values), rtol=0, atol=0)
    assert torch.equal(z[:, :-1], z[:1, :-1].expand(3, -1))
    images = latent_traversal(run, 2, values, seed=1)
    assert (images[0] - images[2]).abs().max() > 1e-4


@pytest.mark.parametrize("index, values", [(3, [0.0]), (0, [4]), (0, [0.5]), (1, [])])
def test_bad_traversals_are_config_errors(run, index, values):
    with pytest.raises(ConfigError):
        traversal_latents(run.recipe, index, values, seed=0)


@pytest.mark.parametrize("extra, match", [(["model.conditional=true"], "conditional=false"),
                                          (["recipe.categorical=0", "recipe.continuous=0"], "at least one"),
                                          (["model.q_categorical=3"], "model.q_categorical")])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "infogan", *extra), str(tmp_path / "r"))


def test_resume_is_exact(tmp_path):
    n, k = 5, 2
    full = train(tiny_recipe("digits-dcgan", tmp_path, "infogan", *CODES, f"train.steps={n}", "train.run_name=full"))
    part = train(tiny_recipe("digits-dcgan", tmp_path, "infogan", *CODES, f"train.steps={k}", "train.run_name=part"))
    _assert_identical(full.run_dir, resume(part.run_dir, [f"train.steps={n}"]).run_dir)


def test_mnist_preset_trains(tmp_path, real_data):
    cfg = load_preset("mnist-infogan", [f"data.path={real_data}", "data.download=false", "data.limit=64",
                                        "train.batch_size=16", "train.steps=2", "train.progress=false",
                                        "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "infogan" and cfg.model.z_dim == 62
    result = train(cfg)
    assert result.steps == 2 and result.completed
    assert load_run(result.run_dir).sample(4, seed=0).shape == (4, 1, 28, 28)
