"""Recipe vae (Kingma & Welling 2014): the closed-form KL against a hand value and a Monte-Carlo
estimate, the reconstruction errors and the ELBO of fixed tiny nets by hand, ``encode`` = mu,
the loss falling on 8x8 digits, config errors, exact resume and the presets."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.presets import load_preset
from gankit.recipes import RECIPES, DataInfo, StepContext
from gankit.recipes.vae import kl_to_standard_normal, reconstruction_error
from gankit.runs import resume, train
from gankit.train.loader import Batch
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical


def _trainer(tmp_path, *extra, preset="digits-dcgan"):
    trainer = Trainer(tiny_recipe(preset, tmp_path, "vae", *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


# --------------------------------------------------------------------------- pure maths


def test_kl_closed_form_by_hand_and_monte_carlo():
    mu = torch.tensor([[1.0, 0.0], [0.5, -2.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [math.log(0.25), 0.0]])
    kl = kl_to_standard_normal(mu, logvar)
    # KL = ½ Σ (σ² + μ² - 1 - log σ²): row 0 = ½(1 + 1 - 1) + ½(4 - 1 - log 4);
    # row 1 = ½(0.25 + 0.25 - 1 - log 0.25) + ½(1 + 4 - 1)
    hand = torch.tensor([0.5 + 0.5 * (3.0 - math.log(4.0)), 0.5 * (-0.5 - math.log(0.25)) + 2.0])
    torch.testing.assert_close(kl, hand)
    # Monte Carlo: E_q[log q(z) - log p(z)] from 40k draws of z ~ q, in NumPy
    rng = np.random.default_rng(0)
    m, s = mu.double().numpy(), np.exp(0.5 * logvar.double().numpy())
    eps = rng.standard_normal((40_000, *m.shape))  # (S, 2, 2)
    z = m + s * eps
    log_q = (-0.5 * eps**2 - np.log(s) - 0.5 * np.log(2 * np.pi)).sum(-1)  # (S, 2)
    log_p = (-0.5 * z**2 - 0.5 * np.log(2 * np.pi)).sum(-1)  # (S, 2)
    diff = log_q - log_p
    se = diff.std(0) / math.sqrt(diff.shape[0])
    assert np.all(np.abs(diff.mean(0) - kl.double().numpy()) < 5 * se)


def test_kl_is_zero_at_the_prior_and_checks_shapes():
    torch.testing.assert_close(kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))
    with pytest.raises(ShapeError):
        kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 5))


def test_reconstruction_errors_by_hand():
    x = torch.tensor([[1.0, -1.0, 0.0], [0.5, 0.5, -0.5]])
    x_hat = torch.tensor([[0.5, -0.5, 0.0], [0.0, 0.8, 0.0]])
    torch.testing.assert_close(reconstruction_error(x, x_hat, "mse"), torch.tensor([0.25 + 0.25, 0.25 + 0.09 + 0.25]))
    t, p = (x.double().numpy() + 1) / 2, (x_hat.double().numpy() + 1) / 2
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum(1)
    torch.testing.assert_close(reconstruction_error(x, x_hat, "bce").double(), torch.from_numpy(bce))
    with pytest.raises(ConfigError, match="unknown reconstruction"):
        reconstruction_error(x, x_hat, "l1")


# --------------------------------------------------------------------------- the recipe


class _LinearGaussianEncoder(nn.Module):
    """mu = A x + a, logvar = B x + b."""

    def __init__(self):
        super().__init__()
        self.A = nn.Parameter(torch.tensor([[1.0, 0.5], [-0.5, 2.0]]))
        self.a = nn.Parameter(torch.tensor([0.1, -0.2]))
        self.B = nn.Parameter(torch.tensor([[0.2, 0.0], [0.0, -0.3]]))
        self.b = nn.Parameter(torch.tensor([-0.5, 0.4]))

    def forward(self, x):
        return x @ self.A.T + self.a, x @ self.B.T + self.b


class _LinearDecoder(nn.Module):
    """G(z) = W z + w."""

    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.tensor([[0.5, -1.0], [1.5, 0.25]]))
        self.w = nn.Parameter(torch.tensor([0.3, 0.0]))

    def forward(self, z, c=None):
        return z @ self.W.T + self.w


def _hand_recipe(tmp_path, *extra):
    cfg = tiny_recipe("ring-gan", tmp_path, "vae", "model.z_dim=2", *extra)
    recipe = RECIPES.get("vae")(cfg, DataInfo((2,), 0))
    recipe.modules["E"], recipe.modules["G"] = _LinearGaussianEncoder(), _LinearDecoder()
    return recipe


def test_negative_elbo_of_fixed_tiny_nets_by_hand(tmp_path):
    beta = 0.5
    recipe = _hand_recipe(tmp_path, f"recipe.beta={beta}")
    x = torch.tensor([[1.0, -0.5], [0.0, 2.0], [-1.5, 0.5]])
    losses, stats = [], {}
    ctx = StepContext(0, lambda k, v: stats.setdefault(k, float(v.detach())), losses.append)
    torch.manual_seed(3)
    recipe.accumulate_gradients("EG", Batch(x, None), ctx)
    torch.manual_seed(3)
    eps = torch.randn(3, 2).double().numpy()  # the ε the recipe drew
    # by hand in NumPy: mu, logvar, z, x̂, Σ(x - x̂)², KL
    A, a = np.array([[1.0, 0.5], [-0.5, 2.0]]), np.array([0.1, -0.2])
    B, b = np.array([[0.2, 0.0], [0.0, -0.3]]), np.array([-0.5, 0.4])
    W, w = np.array([[0.5, -1.0], [1.5, 0.25]]), np.array([0.3, 0.0])
    xn = x.double().numpy()
    mu, logvar = xn @ A.T + a, xn @ B.T + b
    z = mu + np.exp(0.5 * logvar) * eps
    recon = ((xn - (z @ W.T + w)) ** 2).sum(1)
    kl = 0.5 * (np.exp(logvar) + mu**2 - 1 - logvar).sum(1)
    expected = recon.mean() + beta * kl.mean()
    assert len(losses) == 1
    assert float(losses[0].detach()) == pytest.approx(expected, rel=1e-5)
    assert stats["VAE/recon"] == pytest.approx(recon.mean(), rel=1e-5)
    assert stats["VAE/kl"] == pytest.approx(kl.mean(), rel=1e-5)


def test_encode_is_the_posterior_mean(tmp_path):
    recipe = _hand_recipe(tmp_path)
    x = torch.tensor([[1.0, -0.5], [0.0, 2.0]])
    expected = x @ torch.tensor([[1.0, 0.5], [-0.5, 2.0]]).T + torch.tensor([0.1, -0.2])
    assert recipe.has_encoder
    torch.testing.assert_close(recipe.encode(recipe.modules, x), expected)
    trainer, _ = _trainer(tmp_path)
    xd = trainer.dataset.x[:6]
    nets = trainer.sampling_nets()
    assert set(trainer.ema) == {"G", "E"} and nets["E"] is trainer.ema["E"].module
    torch.testing.assert_close(trainer.recipe.encode(nets, xd), nets["E"](xd)[0])
    assert trainer.recipe.encode(nets, xd).shape == (6, trainer.recipe.z_dim)


def test_one_step_smoke(tmp_path):
    assert "vae" in RECIPES.names()
    trainer, stats = _trainer(tmp_path)
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert set(stats) == {"Loss/EG", "VAE/recon", "VAE/kl", "VAE/mse"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"G", "E"}
    assert trainer.generate(torch.randn(5, trainer.recipe.z_dim)).shape == (5, *trainer.dataset.sample_shape)


@pytest.mark.parametrize("recon, ratio", [("mse", 0.65), ("bce", 0.8)])
def test_loss_falls_on_digits(tmp_path, recon, ratio):
    # 100 steps on 8x8 digits, tiny nets, lr 2e-3 (seeds 0-3): the negative ELBO falls to
    # 0.46-0.53 of its start with mse (~44 -> ~22) and to 0.68-0.73 with bce, whose floor is the
    # entropy of the grey-level targets
    trainer, stats = _trainer(tmp_path, f"recipe.recon={recon}", "optim.lr_g=2e-3", "optim.beta1=0.9")
    for _ in range(100):
        trainer.train_step()
    loss = stats["Loss/EG"]
    first, last = sum(loss[:10]) / 10, sum(loss[-10:]) / 10
    assert last < ratio * first


@pytest.mark.parametrize("extra, match", [(["model.conditional=true"], "unconditional"),
                                          (["recipe.beta=-1"], "recipe.beta"),
                                          (["recipe.recon=l1"], "recipe.recon")])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "vae", *extra), str(tmp_path / "r"))


def test_bce_needs_images(tmp_path):
    with pytest.raises(ConfigError, match="recon=bce needs images"):
        Trainer(tiny_recipe("ring-gan", tmp_path, "vae", "recipe.recon=bce"), str(tmp_path / "r"))


def test_resume_is_exact(tmp_path):
    n, k = 6, 3
    extra = ["train.ema_decay=0.9"]
    full = train(tiny_recipe("digits-dcgan", tmp_path, "vae", f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny_recipe("digits-dcgan", tmp_path, "vae", f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


@pytest.mark.parametrize("preset", ["mnist-vae", "fashion-vae"])
def test_presets_train(tmp_path, real_data, preset):
    cfg = load_preset(preset, [f"data.path={real_data}", "data.download=false", "data.limit=32",
                               "train.batch_size=16", "train.steps=2", "train.progress=false",
                               "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "vae" and cfg.model.arch == "dcgan"
    result = train(cfg)
    assert result.steps == 2 and result.completed
