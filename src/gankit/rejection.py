"""Discriminator rejection sampling (DRS; Azadi et al. 2019, "Discriminator Rejection Sampling").

A discriminator trained with the logistic (BCE) loss has, at its optimum, the logit
``D̃(x) = log p_data(x) / p_g(x)`` (Goodfellow et al. 2014, Prop. 1). Rejection sampling from
``p_g`` with envelope ``M = max p_data/p_g`` then draws from ``p_data``: accept ``x ~ p_g`` with
probability ``exp(D̃(x) − D̃_M)``, ``D̃_M = log M``. DRS makes this practical:

- ``D̃_M`` is the largest log ratio seen (a burn-in batch, then any larger proposal);
- the acceptance is ``σ(F(x))`` with ``F(x) = D̃(x) − D̃_M − log(1 − exp(D̃(x) − D̃_M − ε)) − γ``:
  at ``γ = 0`` that is exactly ``exp(D̃(x) − D̃_M)``; ``γ`` (set at a percentile of ``F`` on the
  burn-in batch) trades fidelity to ``p_data`` for a higher acceptance rate;
- a trained GAN's D is not the optimal one: its logits are calibrated on held-out real and fake
  samples (Platt scaling, ``log_ratio = a·logit + b``; the paper refits D's last layer instead).

A PacGAN discriminator (Lin et al. 2018) scores ``m`` samples at once; at its optimum the packed
logit is ``Σᵢ D̃(xᵢ)`` (packs are i.i.d. ``m``-tuples), so a sample's own log ratio is, up to a
constant that ``D̃_M`` cancels, its packs' mean logit over random partners and positions.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np
import torch
from torch import Tensor, nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import pack_samples
from gankit.progress import progress_bar

if TYPE_CHECKING:
    from gankit.recipes.base import Recipe

Critic = Callable[[Tensor], Tensor]  # packed inputs (n/m, m·C, ...) -> logits (n/m,)
EPS = 1e-6  # DRS's ε: keeps log(1 − exp(·)) finite for the sample at the maximum


def per_sample_logits(critic: Critic, x: Tensor, pack: int = 1, partners: int = 1,
                      generator: torch.Generator | None = None) -> Tensor:
    """Each sample's logit under a discriminator that sees packs of ``pack`` samples: ``(n, ...)
    -> (n,)``. With ``pack > 1``, the mean over ``partners`` random packings of ``x`` (random
    partners and positions) of the logit of the pack holding the sample."""
    if pack < 1 or partners < 1:
        raise ConfigError(f"pack and partners must be >= 1, got {pack} and {partners}")
    if x.shape[0] % pack:
        raise ShapeError(f"{x.shape[0]} samples do not split into packs of {pack}")
    if pack == 1:
        return critic(x).reshape(-1).float()
    total = torch.zeros(x.shape[0])
    for _ in range(partners):
        order = torch.randperm(x.shape[0], generator=generator)
        logits = critic(pack_samples(x[order], pack))  # (n/m,): pack i holds x[order[m·i : m·i+m]]
        total[order] += logits.reshape(-1).float().cpu().repeat_interleave(pack)
    return total / partners


def platt_scale(real_logits: Tensor, fake_logits: Tensor) -> tuple[float, float]:
    """``(a, b)`` of the logistic regression ``P(real | l) = σ(a·l + b)`` fitted to held-out logits
    (Platt 1999): ``a·l + b`` is then a calibrated log density ratio (with the classes' sizes
    equal; unequal sizes shift only ``b``)."""
    from sklearn.linear_model import LogisticRegression  # local: scikit-learn is slow to import
    if real_logits.numel() < 2 or fake_logits.numel() < 2:
        raise ConfigError("calibration needs at least 2 real and 2 fake logits")
    logits = torch.cat([real_logits.reshape(-1), fake_logits.reshape(-1)]).double().numpy()[:, None]
    is_real = np.r_[np.ones(real_logits.numel()), np.zeros(fake_logits.numel())]
    fit = LogisticRegression(C=1e6).fit(logits, is_real)  # ~unregularised
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def discriminator_critic(D: nn.Module, batch: int = 500, batch_stats: bool = True,
                         amp_dtype: torch.dtype | None = None) -> Critic:
    """``D``'s logit per input (a PatchGAN's mean over patches), in chunks of ``batch``, without
    gradients. ``batch_stats``: normalisation layers use each chunk's own statistics, as when D
    judged a batch of fakes in training (on a copy: D's running statistics stay as they are);
    otherwise D runs in eval mode. ``amp_dtype``: autocast to it (the dtype D trained under)."""
    net = copy.deepcopy(D).train(batch_stats)
    device = next(net.parameters()).device

    def critic(x: Tensor) -> Tensor:
        out = []
        autocast = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext()
        with torch.no_grad(), autocast:
            for chunk in x.split(batch):
                out.append(net(chunk.to(device)).logits.float().reshape(len(chunk), -1).mean(dim=1).cpu())
        return torch.cat(out)

    return critic


def calibrated_log_ratio(critic: Critic, real: Tensor, fake: Tensor, pack: int = 1, partners: int = 1,
                         generator: torch.Generator | None = None) -> tuple[Callable[[Tensor], Tensor], float]:
    """Samples ``(n, ...) -> (n,)`` log density ratios ``a·logit`` (up to a constant, which DRS's
    ``D̃_M`` cancels), ``a`` Platt-fitted on the packed logits of held-out ``real`` and ``fake``
    samples; returns the function and ``a``."""
    a, _ = platt_scale(critic(pack_samples(real, pack)), critic(pack_samples(fake, pack)))
    if a <= 0:
        raise ConfigError(f"the discriminator does not tell held-out real from fake samples (Platt slope {a:.3g})")
    return (lambda x: a * per_sample_logits(critic, x, pack, partners, generator)), a


def drs_score(log_ratio: Tensor, log_ratio_max: float, gamma: float = 0.0) -> Tensor:
    """DRS's ``F(x) = D̃(x) − D̃_M − log(1 − exp(D̃(x) − D̃_M − ε)) − γ``; accept with ``σ(F)``."""
    delta = log_ratio.double() - log_ratio_max
    return delta - torch.log1p(-torch.exp(torch.clamp(delta, max=0.0) - EPS)) - gamma


@dataclass
class RejectionSampler:
    """Draws from ``propose`` (n, generator) -> samples, keeping each with probability
    ``σ(F(x))`` of ``log_ratio`` (samples -> (n,) calibrated log density ratios).

    ``percentile``: ``γ`` is this percentile of ``F`` on the burn-in batch (the paper: 95; samples
    above it are accepted with probability > 1/2); ``None`` keeps ``γ = 0``, exact rejection
    sampling under the burn-in's envelope. ``D̃_M`` rises whenever a proposal exceeds it.
    ``platt_slope``: the calibration slope ``log_ratio`` applies (reported only)."""

    propose: Callable[[int, torch.Generator], Tensor]
    log_ratio: Callable[[Tensor], Tensor]
    percentile: float | None = 95.0
    batch: int = 1000
    burn_in: int = 10_000
    max_proposals: int = 10_000_000
    platt_slope: float = 1.0

    def __post_init__(self) -> None:
        if self.percentile is not None and not 0.0 <= self.percentile <= 100.0:
            raise ConfigError(f"the DRS percentile must be in [0, 100], got {self.percentile}")
        if self.batch < 1 or self.burn_in < 1:
            raise ConfigError(f"batch and burn_in must be >= 1, got {self.batch} and {self.burn_in}")

    def sample(self, n: int, generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        """``n`` accepted samples and the run's ``acceptance``, ``log_ratio_max`` and ``gamma``."""
        if n < 1:
            raise ConfigError(f"n must be >= 1, got {n}")
        burn = torch.cat([self.log_ratio(x) for x in self._batches(self.burn_in, generator)])
        log_max = float(burn.max())
        gamma = 0.0 if self.percentile is None else float(
            np.percentile(drs_score(burn, log_max).numpy(), self.percentile))
        kept, accepted, proposed = [], 0, 0
        bar = progress_bar(n, "DRS accepted", "sample")
        while accepted < n:
            if proposed >= self.max_proposals:
                raise ConfigError(
                    f"DRS accepted {accepted} of {proposed} proposals: too strict (use a lower percentile)"
                )
            x = self.propose(self.batch, generator)
            r = self.log_ratio(x)
            log_max = max(log_max, float(r.max()))
            keep = torch.rand(len(r), generator=generator, dtype=torch.float64) < torch.sigmoid(
                drs_score(r, log_max, gamma))
            kept.append(x[keep])
            accepted, proposed = accepted + int(keep.sum()), proposed + len(r)
            bar.update(min(accepted, n) - bar.n)
        bar.close()
        info = {"acceptance": accepted / proposed, "log_ratio_max": log_max, "gamma": gamma,
                "platt_slope": self.platt_slope}
        return torch.cat(kept)[:n], info

    def _batches(self, n: int, generator: torch.Generator):
        for _ in range(-(-n // self.batch)):  # whole batches (a packed critic needs batch % pack == 0)
            yield self.propose(self.batch, generator)


def check_drs_recipe(recipe: "Recipe") -> None:
    """Raise ``ConfigError`` unless ``recipe`` declares ``supports_rejection_sampling`` (one
    real/fake D: the ``gan`` recipe) and is unconditional."""
    if not recipe.supports_rejection_sampling or recipe.num_classes:
        raise ConfigError(f"DRS needs an unconditional run of recipe gan, with its one real/fake D "
                          f"(got recipe {recipe.cfg.recipe.name!r})")


def gan_rejection_sampler(recipe: "Recipe", nets: Mapping[str, nn.Module], real: Tensor,
                          percentile: float | None = 95.0, partners: int = 4,
                          generator: torch.Generator | None = None, batch_stats: bool = True,
                          amp_dtype: torch.dtype | None = None) -> RejectionSampler:
    """DRS for an unconditional ``gan``-recipe run (PacGAN packing included):
    ``D``'s logits Platt-calibrated on ``real`` (held-out data, ``(n, ...)``) against as many
    samples of ``nets``' generator; proposals are ``recipe.sample(nets, z)``."""
    check_drs_recipe(recipe)
    generator = generator or torch.Generator().manual_seed(0)
    device = next(recipe.modules["D"].parameters()).device

    def propose(n: int, g: torch.Generator) -> Tensor:
        return recipe.sample(nets, recipe.latent(n, g, device)).cpu()  # (n, *sample_shape)

    critic = discriminator_critic(recipe.modules["D"], batch_stats=batch_stats, amp_dtype=amp_dtype)
    log_ratio, slope = calibrated_log_ratio(critic, real.cpu(), propose(len(real), generator), recipe.pack,
                                            partners, generator)
    return RejectionSampler(propose, log_ratio, percentile, platt_slope=slope)
