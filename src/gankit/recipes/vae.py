"""Recipe ``vae``: the variational autoencoder (Kingma & Welling 2014, "Auto-Encoding
Variational Bayes"), with the family's generator as decoder so it compares with the GANs
that share the preset's data and networks.

Networks: a Gaussian encoder ``E(x) = (mu, logvar)`` (``nets.encoder``, sized like the
discriminator) and the decoder ``G(z)`` (the model's generator; tanh images in [-1, 1]).
One phase ``EG`` with one optimizer over E and G minimises the negative ELBO (β = 1) or
the β-VAE objective (Higgins et al. 2017)::

    z_i  = mu_i + σ_i ⊙ ε_i,  ε_i ~ N(0, I),  σ_i = exp(½ logvar_i)      (reparameterisation)
    loss = mean_i [ recon(x_i, G(z_i)) + β · KL(q(z | x_i) || N(0, I)) ]
    KL   = -½ Σ_j (1 + logvar_ij - mu_ij² - exp(logvar_ij))                  (closed form)

``recon = "mse"`` (default): a Gaussian decoder, ``recon = Σ_k (x_k - G(z)_k)²`` per
example, i.e. ``-log N(x | G(z), ½ I)`` up to a constant. ``recon = "bce"``: a Bernoulli
decoder on ``[0, 1]``, ``recon = Σ_k BCE((G(z)_k + 1) / 2, (x_k + 1) / 2)`` (needs images,
whose generator ends in tanh). Sampling: ``G(z)`` with ``z ~ N(0, I)``; ``encode`` returns
the posterior mean ``mu``. The EMA copies are of G and E, so reconstructions use both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError, ShapeError
from gankit.nets import NetSpec, build_networks
from gankit.nets.encoder import build_gaussian_encoder
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.train.loader import Batch
from gankit.train.phases import Phase

Recon = Literal["mse", "bce"]


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` per example, shape ``(N,)``
    (Kingma & Welling 2014, Appendix B): ``-½ Σ_j (1 + logvar_j - mu_j² - exp(logvar_j))``."""
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ShapeError(f"mu and logvar must both be (N, z_dim), got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return -0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum(dim=1)  # (N,)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``z = mu + exp(½ logvar) ⊙ ε`` with ``ε ~ N(0, I)`` drawn from torch's global RNG
    (Kingma & Welling 2014, §2.4), shape of ``mu``."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # (N, z_dim)


def reconstruction_error(x: torch.Tensor, x_hat: torch.Tensor, kind: Recon = "mse") -> torch.Tensor:
    """Per-example reconstruction error, shape ``(N,)``: ``"mse"`` = ``Σ_k (x_k - x̂_k)²``
    (Gaussian decoder); ``"bce"`` = ``Σ_k BCE((x̂_k + 1)/2, (x_k + 1)/2)`` for data and
    outputs in ``[-1, 1]`` (Bernoulli decoder; the log is clamped at -100 as in PyTorch)."""
    if x.shape != x_hat.shape:
        raise ShapeError(f"x and its reconstruction differ in shape: {tuple(x.shape)} vs {tuple(x_hat.shape)}")
    if kind == "mse":
        return (x - x_hat).flatten(1).square().sum(dim=1)  # (N,)
    if kind == "bce":
        target, prob = (x + 1.0) / 2.0, (x_hat + 1.0) / 2.0
        return F.binary_cross_entropy(prob, target, reduction="none").flatten(1).sum(dim=1)  # (N,)
    raise ConfigError(f"unknown reconstruction error {kind!r} (known: mse, bce)")


@dataclass(frozen=True)
class VAEConfig:
    name: str = "vae"
    beta: float = 1.0  # weight of the KL term (1 = the ELBO; β-VAE, Higgins et al. 2017, uses > 1)
    recon: Recon = "mse"  # decoder likelihood: mse = Gaussian (sum of squared errors) | bce = Bernoulli on [0, 1]

    def validate(self) -> None:
        if self.beta < 0:
            raise ConfigError(f"recipe.beta must be >= 0, got {self.beta}")


class GaussianEncoderRecipe(Recipe):
    """What the VAE-like recipes share: an unconditional generator ``G`` (decoder), a
    Gaussian encoder ``E``, the family's discriminator ``D`` when ``with_discriminator``,
    sampling ``G(z)`` and ``encode = mu``; EMA of both G and E."""

    ema_modules = ("G", "E")
    with_discriminator: ClassVar[bool] = False

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        if cfg.model.conditional:
            raise ConfigError(f"recipe {cfg.recipe.name} is unconditional; set model.conditional=false")
        G, D = build_networks(cfg.model, NetSpec(tuple(data.sample_shape), data.num_classes))
        self.modules["G"] = G
        self.modules["E"] = build_gaussian_encoder(cfg.model, data.sample_shape)
        if self.with_discriminator:
            self.modules["D"] = D

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim

    def reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(mu, logvar, G(z))`` with ``z`` drawn from ``q(z | x)`` by reparameterisation."""
        mu, logvar = self.modules["E"](x)  # (N, z_dim) each
        return mu, logvar, self.modules["G"](reparameterize(mu, logvar))  # (N, *sample_shape)

    def encode(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor:
        """The posterior mean ``mu`` of ``q(z | x)``, shape (n, z_dim)."""
        return nets["E"](x)[0]

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return nets["G"](z)


@RECIPES.register("vae", "VAE (Kingma & Welling 2014): Gaussian encoder, the family's G as decoder, recon + β·KL")
class VAERecipe(GaussianEncoderRecipe):
    config_class = VAEConfig
    d_scores = None  # the decoder is trained alone: no discriminator

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: VAEConfig = cfg.recipe
        if self.rc.recon == "bce" and len(data.sample_shape) != 3:
            raise ConfigError("recipe.recon=bce needs images in [-1, 1] (a tanh generator); use recon=mse for vectors")

    def phases(self) -> list[Phase]:
        return [Phase("EG", ("E", "G"), "EG")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"EG": OptimizerSpec(("E", "G"), self.cfg.optim.lr_g)}

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        if phase != "EG":  # pragma: no cover - phases() declares only EG
            raise ValueError(f"unknown phase {phase}")
        x = batch.x
        mu, logvar, x_hat = self.reconstruct(x)
        mu, logvar, x_hat = mu.float(), logvar.float(), x_hat.float()  # losses in float32 under AMP
        recon = reconstruction_error(x, x_hat, self.rc.recon).mean()
        kl = kl_to_standard_normal(mu, logvar).mean()
        loss = recon + self.rc.beta * kl
        ctx.report("VAE/recon", recon)
        ctx.report("VAE/kl", kl)
        ctx.report("VAE/mse", (x - x_hat).detach().square().mean())  # per-element, comparable across recipes
        ctx.report("Loss/EG", loss)
        ctx.backward(loss)
