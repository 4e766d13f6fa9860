"""f-GAN objectives (Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural
Samplers using Variational Divergence Minimization").

For a convex ``f`` with ``f(1) = 0`` the f-divergence ``D_f(P||Q) = ∫ q(x) f(p(x)/q(x)) dx``
has the variational lower bound (eq. 4 of the paper)::

    D_f(P||Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))]          (f* = convex conjugate of f)

with equality at ``T*(x) = f'(p(x)/q(x))``. The critic is ``T = g_f(v)``: a raw network
output (logit) ``v`` passed through the divergence's output activation ``g_f``, which maps
``R`` into the domain of ``f*`` (Table 2)::

    divergence      f(u)                                g_f(v)                f*(t)
    kl              u log u                             v                     exp(t - 1)
    rkl             -log u                              -exp(-v)              -1 - log(-t)
    js              u log u - (u+1) log((u+1)/2)        log 2 - log(1+e^-v)   -log(2 - e^t)
    pearson         (u - 1)^2                           v                     t^2/4 + t
    hellinger       (sqrt(u) - 1)^2                     1 - exp(-v)           t / (1 - t)
    tv              |u - 1| / 2                         tanh(v) / 2           t   (|t| <= 1/2)

``js`` is the paper's Jensen-Shannon row with its ``log 2`` terms; with this ``f``,
``D_f = KL(P||M) + KL(Q||M) = 2 JSD(P||Q)`` (``M = (P+Q)/2``), at most ``2 log 2``.

Losses (same sign convention as :mod:`gankit.losses`: a higher ``v`` means "more real")::

    L_D = -(E_real[g_f(v)] - E_fake[f*(g_f(v))])      (the negated lower bound; Algorithm 1)
    L_G = -E_fake[g_f(v)]                             (default)

**Generator loss.** By default the generator minimises the paper's *alternative*,
non-saturating objective of Section 3.2 — maximise ``E_Q[g_f(V(G(z)))]`` — i.e.
``L_G = -E_fake[g_f(v)]``, the analogue of the non-saturating GAN trick, which the paper
uses in its experiments. ``fgan_g_loss(..., saturating=True)`` gives the direct
saddle-point objective ``L_G = -E_fake[f*(g_f(v))]`` (G minimises the bound).

``f*(g_f(v))`` is evaluated in a closed, overflow-free form per divergence (e.g. for ``js``
it is ``softplus(v) - log 2``; for ``rkl`` it is ``v - 1``), so ``fgan-js`` is the GAN
discriminator loss minus ``log 4``.

Every expectation is a mean over all elements, so ``[N]``, ``[N, 1]`` and PatchGAN
``[N, 1, H, W]`` logits are accepted, as in :mod:`gankit.losses`. Registration in
:data:`gankit.losses.LOSSES` under ``fgan-<name>`` happens in :func:`register_fgan_losses`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ConfigError
from gankit.losses.adversarial import LOSSES, AdversarialLoss
from gankit.losses.checks import check_logits, check_pair
from gankit.registry import Registry

__all__ = [
    "FDivergence",
    "F_DIVERGENCES",
    "get_divergence",
    "fgan_d_loss",
    "fgan_g_loss",
    "fgan_lower_bound",
    "register_fgan_losses",
]

LOG2 = math.log(2.0)
TensorFn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class FDivergence:
    """One row of Tables 1-2 of Nowozin et al. 2016.

    ``f(u)``: generator function (``u = p/q > 0``), used only as a reference / for the true
    divergence. ``activation(v) = g_f(v)``. ``conjugate(t) = f*(t)`` on its domain.
    ``conjugate_of_activation(v) = f*(g_f(v))`` in a numerically stable closed form (what
    the losses use). ``description``: one line for the registry.
    """

    name: str
    f: TensorFn
    activation: TensorFn
    conjugate: TensorFn
    conjugate_of_activation: TensorFn
    description: str


def _js_f(u: Tensor) -> Tensor:
    return u * torch.log(u) - (u + 1.0) * torch.log((u + 1.0) / 2.0)


F_DIVERGENCES: dict[str, FDivergence] = {
    d.name: d
    for d in (
        FDivergence(
            "kl",
            f=lambda u: u * torch.log(u),
            activation=lambda v: v,
            conjugate=lambda t: torch.exp(t - 1.0),
            conjugate_of_activation=lambda v: torch.exp(v - 1.0),
            description="Kullback-Leibler KL(P||Q)",
        ),
        FDivergence(
            "rkl",
            f=lambda u: -torch.log(u),
            activation=lambda v: -torch.exp(-v),
            conjugate=lambda t: -1.0 - torch.log(-t),
            conjugate_of_activation=lambda v: v - 1.0,  # -1 - log(exp(-v))
            description="reverse Kullback-Leibler KL(Q||P)",
        ),
        FDivergence(
            "js",
            f=_js_f,
            activation=lambda v: LOG2 - F.softplus(-v),
            conjugate=lambda t: -torch.log(2.0 - torch.exp(t)),
            conjugate_of_activation=lambda v: F.softplus(v) - LOG2,  # -log(2 sigmoid(-v))
            description="Jensen-Shannon with the paper's log 2 terms (= 2 JSD)",
        ),
        FDivergence(
            "pearson",
            f=lambda u: (u - 1.0).square(),
            activation=lambda v: v,
            conjugate=lambda t: 0.25 * t.square() + t,
            conjugate_of_activation=lambda v: 0.25 * v.square() + v,
            description="Pearson chi-squared",
        ),
        FDivergence(
            "hellinger",
            f=lambda u: (torch.sqrt(u) - 1.0).square(),
            activation=lambda v: 1.0 - torch.exp(-v),
            conjugate=lambda t: t / (1.0 - t),
            conjugate_of_activation=lambda v: torch.expm1(v),  # (1 - e^-v) / e^-v
            description="squared Hellinger (no 1/2 factor)",
        ),
        FDivergence(
            "tv",
            f=lambda u: 0.5 * (u - 1.0).abs(),
            activation=lambda v: 0.5 * torch.tanh(v),
            conjugate=lambda t: t,
            conjugate_of_activation=lambda v: 0.5 * torch.tanh(v),
            description="total variation (1/2) ∫|p - q|",
        ),
    )
}


def get_divergence(divergence: str | FDivergence) -> FDivergence:
    """``"kl" | "rkl" | "js" | "pearson" | "hellinger" | "tv"`` (or an ``FDivergence``)."""
    if isinstance(divergence, FDivergence):
        return divergence
    try:
        return F_DIVERGENCES[divergence]
    except KeyError:
        known = ", ".join(sorted(F_DIVERGENCES))
        raise ConfigError(f"unknown f-divergence {divergence!r} (known: {known})") from None


def fgan_lower_bound(real_logits: Tensor, fake_logits: Tensor, divergence: str | FDivergence) -> Tensor:
    """The variational lower bound ``E_real[g_f(v)] - E_fake[f*(g_f(v))]`` (Nowozin et al.
    2016, eq. 6) — a sample estimate of a lower bound on ``D_f(P_real || P_fake)``."""
    check_pair(real_logits, fake_logits)
    div = get_divergence(divergence)
    return div.activation(real_logits).mean() - div.conjugate_of_activation(fake_logits).mean()


def fgan_d_loss(real_logits: Tensor, fake_logits: Tensor, divergence: str | FDivergence) -> Tensor:
    """f-GAN critic loss (Nowozin et al. 2016): the negated variational bound,

    ``L_D = -(E_real[g_f(v)] - E_fake[f*(g_f(v))])``.
    """
    return -fgan_lower_bound(real_logits, fake_logits, divergence)


def fgan_g_loss(fake_logits: Tensor, divergence: str | FDivergence, *, saturating: bool = False) -> Tensor:
    """f-GAN generator loss (Nowozin et al. 2016, Sec. 3.2).

    Default: the paper's alternative non-saturating objective ``L_G = -E_fake[g_f(v)]``.
    ``saturating=True``: the saddle-point objective ``L_G = -E_fake[f*(g_f(v))]``.
    """
    check_logits("fake_logits", fake_logits)
    div = get_divergence(divergence)
    if saturating:
        return -div.conjugate_of_activation(fake_logits).mean()
    return -div.activation(fake_logits).mean()


def register_fgan_losses(registry: Registry[AdversarialLoss] = LOSSES) -> None:
    """Add ``fgan-kl``, ``fgan-rkl``, ``fgan-js``, ``fgan-pearson``, ``fgan-hellinger`` and
    ``fgan-tv`` (non-saturating G loss) to ``registry``; names already present are skipped,
    so calling it twice is harmless."""
    for name, div in F_DIVERGENCES.items():
        key = f"fgan-{name}"
        if key in registry:
            continue
        pair = AdversarialLoss(partial(fgan_d_loss, divergence=name), partial(fgan_g_loss, divergence=name))
        registry.add(key, pair, f"f-GAN, {div.description}; G loss -E[g_f(v)] (Nowozin et al. 2016)")



register_fgan_losses(LOSSES)  # `recipe.loss=fgan-kl` etc. wherever a loss is chosen by name
