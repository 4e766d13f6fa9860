"""Recipe madgan (Ghosh et al. 2018): the (k+1)-way D loss, the G loss and the cosine
diversity term by hand, routing of latents to generators, the stratified latent, a one-step
smoke test, the losses of one recorded step, exact resume, and D learning to tell the
generators and the data apart on the ring."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gankit.config import apply_overrides
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.presets import load_preset, preset_tree
from gankit.recipes import RECIPES
from gankit.recipes.madgan import madgan_d_loss, madgan_g_loss, mean_pairwise_cosine
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.helpers import TINY_DIGITS, TINY_RING
from tests.train.test_resume import _assert_identical


def madgan_cfg(tmp_path, *extra, preset="ring-madgan"):
    tree = preset_tree(preset)
    if preset != "ring-madgan":
        tree["recipe"] = {"name": "madgan"}
    base = TINY_RING if preset == "ring-madgan" else TINY_DIGITS
    return config_from_dict(apply_overrides(tree, [*base, f"train.out_dir={tmp_path}", *extra]))


def _trainer(tmp_path, *extra, preset="ring-madgan"):
    trainer = Trainer(madgan_cfg(tmp_path, *extra, preset=preset), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach())))
    return trainer, stats


def _np_log_softmax(a):
    a = a - a.max(-1, keepdims=True)
    return a - np.log(np.exp(a).sum(-1, keepdims=True))


def _np_d_loss(real, fake):
    """Class-balanced (k+1)-way CE: (CE(real -> k) + sum_j CE(G_j -> j)) / (k+1)."""
    k = fake.shape[0]
    terms = [-_np_log_softmax(real)[:, k].mean()] + [-_np_log_softmax(fake[j])[:, j].mean() for j in range(k)]
    return sum(terms) / (k + 1)


def test_d_and_g_losses_by_hand():
    real = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [0.0, 0.0, 0.0], [-2.0, 1.0, 0.4]])  # (B=4, k+1=3)
    fake = np.array([[[2.0, 0.1, -1.0], [0.3, 0.3, 1.2]],  # G_0 (n=2)
                     [[-0.5, 1.7, 0.0], [1.1, -0.4, 0.9]]])  # G_1
    d = madgan_d_loss(torch.tensor(real), torch.tensor(fake))
    torch.testing.assert_close(d, torch.tensor(_np_d_loss(real, fake), dtype=torch.float64))
    g_expected = -_np_log_softmax(fake)[..., 2].mean()  # every fake called "real" (class k = 2)
    torch.testing.assert_close(madgan_g_loss(torch.tensor(fake)), torch.tensor(g_expected, dtype=torch.float64))
    # a D that cannot tell (uniform logits) scores log(k+1)
    torch.testing.assert_close(madgan_d_loss(torch.zeros(4, 3), torch.zeros(2, 2, 3)), torch.tensor(math.log(3)))


def test_pairwise_cosine_by_hand():
    # k=3 generators, n=2 latents; cosines per pair (row 0, row 1): (0,1): 0, -1; (0,2): -1, 0.8; (1,2): 0, -0.8
    x = torch.tensor([[[1.0, 0.0], [0.0, 2.0]],
                      [[0.0, 1.0], [0.0, -1.0]],
                      [[-1.0, 0.0], [3.0, 4.0]]])
    expected = torch.tensor(((0 - 1) / 2 + (-1 + 0.8) / 2 + (0 - 0.8) / 2) / 3)
    torch.testing.assert_close(mean_pairwise_cosine(x), expected)
    torch.testing.assert_close(mean_pairwise_cosine(x.reshape(3, 2, 1, 2, 1)), expected)  # images are flattened
    zero = torch.zeros(2, 1, 2)  # a zero sample has cosine 0, not nan
    torch.testing.assert_close(mean_pairwise_cosine(zero), torch.tensor(0.0))


def test_latent_is_stratified_and_routes_each_row_to_its_generator(tmp_path):
    trainer, _ = _trainer(tmp_path, "recipe.generators=4")
    recipe, bank = trainer.recipe, trainer.recipe.modules["G"]
    k, noise_dim = recipe.k, recipe.noise_dim
    assert (k, recipe.z_dim) == (4, noise_dim + 4)
    z = recipe.latent(10, torch.Generator().manual_seed(3))  # (10, noise + k)
    torch.testing.assert_close(z[:, :noise_dim], torch.randn(10, noise_dim, generator=torch.Generator().manual_seed(3)))
    onehot = z[:, noise_dim:]
    assert torch.equal(onehot.sum(1), torch.ones(10)) and set(onehot.unique().tolist()) == {0.0, 1.0}
    index = onehot.argmax(1)
    assert sorted(torch.bincount(index, minlength=k).tolist()) == [2, 2, 3, 3]  # 10 = 2+2+3+3
    assert torch.equal(torch.bincount(recipe.latent(400, torch.Generator().manual_seed(4))[:, noise_dim:].argmax(1)),
                       torch.full((k,), 100))
    assert not torch.equal(index, index.sort().values)  # generators are interleaved, not in blocks
    with torch.no_grad():
        out = bank(z)  # (10, 2)
        for j in range(k):
            rows = index == j
            torch.testing.assert_close(out[rows], bank.generators[j](z[rows, :noise_dim]), rtol=0, atol=0)


@pytest.mark.parametrize("preset", ["ring-madgan", "digits-dcgan"])
def test_one_step_smoke(tmp_path, preset):
    assert "madgan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path, preset=preset)
    assert trainer.recipe.modules["D"].aux.classes.num_classes == trainer.recipe.k + 1
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert set(stats) >= {"Loss/D", "Loss/G", "MADGAN/diversity", "MADGAN/d_real_acc"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] if n.startswith("D") else ".".join(n.split(".")[:3])
               for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"D", *(f"G.generators.{j}" for j in range(trainer.recipe.k))}
    z = trainer.recipe.latent(5)
    assert trainer.generate(z).shape == (5, *trainer.dataset.sample_shape)


def test_losses_of_one_recorded_step(tmp_path):
    w = 0.7
    trainer, stats = _trainer(tmp_path, f"recipe.diversity_weight={w}", "recipe.generators=2")
    outs, fakes = [], []
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: outs.append(out))
    each = trainer.recipe.modules["G"].each
    trainer.recipe.modules["G"].each = lambda noise: fakes.append(each(noise)) or fakes[-1]
    trainer.train_step()
    real, fake, g_fake = (o.class_logits.detach().double().numpy() for o in outs)  # D phase: real, fake; G phase
    k, n = 2, real.shape[0] // 2
    assert stats["Loss/D"][0] == pytest.approx(_np_d_loss(real, fake.reshape(k, n, k + 1)), rel=1e-5)
    x = fakes[0].detach().double().numpy().reshape(k, n, -1)  # the G phase reuses the D phase's fakes
    cos = (x[0] * x[1]).sum(1) / (np.linalg.norm(x[0], axis=1) * np.linalg.norm(x[1], axis=1))
    adv = -_np_log_softmax(g_fake)[:, k].mean()
    assert stats["MADGAN/diversity"][0] == pytest.approx(cos.mean(), rel=1e-5, abs=1e-6)
    assert stats["Loss/G"][0] == pytest.approx(adv + w * cos.mean(), rel=1e-5)
    assert stats["MADGAN/d_real_acc"][0] == pytest.approx(float((real.argmax(1) == k).mean()))


def test_d_learns_to_tell_generators_and_data_apart(tmp_path):
    # D's class-balanced (k+1)-way CE starts at log(k+1) (it cannot tell); at MAD-GAN's
    # equilibrium (generators on disjoint parts of the data) it is
    # (log(k+1) + k·log((k+1)/k)) / (k+1) = 0.64 < log 3 for k=2. 150 tiny ring steps:
    # seeds 0-4 end (mean of the last 20 steps) at 0.59-0.81, from 1.10-1.11.
    trainer, stats = _trainer(tmp_path, "recipe.generators=2", "train.seed=0")
    for _ in range(150):
        trainer.train_step()
    loss = stats["Loss/D"]
    assert sum(loss[:5]) / 5 == pytest.approx(math.log(3), abs=0.1)
    assert sum(loss[-20:]) / 20 < math.log(3) - 0.2


@pytest.mark.parametrize("extra, match", [
    (["model.conditional=true"], "model.conditional=false"),
    (["recipe.generators=1"], "recipe.generators must be >= 2"),
    (["recipe.generators=3"], "divisible by recipe.generators=3"),
    (["model.d_arch=patchgan"], "model.d_arch=default"),
    (["model.d_minibatch=stddev"], "model.d_minibatch=none"),
    (["model.d_class_head=2"], "model.d_class_head"),
    (["recipe.diversity_weight=-1"], "diversity_weight"),
])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(madgan_cfg(tmp_path, *extra), str(tmp_path / "r"))


def test_resume_is_exact(tmp_path, monkeypatch):
    # the run's plots (samples, curves, histograms) are not part of the checkpoint; skip them for speed
    monkeypatch.setattr("gankit.runs.artifacts.RunArtifacts.finish", lambda self, completed: None)
    n, k = 7, 3
    extra = ["train.ema_decay=0.9", "recipe.n_critic=2", "recipe.generators=4"]
    full = train(madgan_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(madgan_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


@pytest.mark.parametrize("preset", ["ring-madgan", "grid-madgan"])
def test_presets_load(preset):
    cfg = load_preset(preset)
    assert cfg.recipe.name == "madgan" and cfg.description
    assert cfg.train.batch_size % cfg.recipe.generators == 0
