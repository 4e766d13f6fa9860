"""Adversarial losses as pure (D loss, G loss) function pairs over discriminator logits.

One sign convention everywhere: a higher discriminator output means "more real".
Every D loss takes ``(real_logits, fake_logits)`` (real first); every G loss takes
``fake_logits``. Logits may be ``[N]``, ``[N, 1]`` or PatchGAN ``[N, 1, H, W]``; every
expectation is a mean over *all* elements, so a PatchGAN map whose entries all equal the
``[N]`` logits gives the same value. BCE-type losses use ``softplus`` (never
``log(sigmoid(.))``), using ``-log sigmoid(t) = softplus(-t)`` and
``-log(1 - sigmoid(t)) = softplus(t)``.

Each pair is registered in :data:`LOSSES` (``"minimax"``, ``"ns"``, ``"lsgan"``,
``"wgan"``, ``"hinge"``) as an :class:`AdversarialLoss`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ConfigError
from gankit.losses.checks import check_logits, check_pair
from gankit.registry import Registry

__all__ = [
    "single_sided_loss",
    "AdversarialLoss",
    "LOSSES",
    "minimax_d_loss",
    "minimax_g_loss",
    "ns_d_loss",
    "ns_g_loss",
    "lsgan_d_loss",
    "lsgan_g_loss",
    "wgan_d_loss",
    "wgan_g_loss",
    "hinge_d_loss",
    "hinge_g_loss",
]


# --------------------------------------------------------------------------- minimax / NS


def minimax_d_loss(real_logits: Tensor, fake_logits: Tensor, *, real_label: float = 1.0) -> Tensor:
    """Discriminator loss of the original GAN (Goodfellow et al. 2014, "Generative Adversarial
    Nets").

    D maximises ``E[log D(x)] + E[log(1 - D(G(z)))]`` with ``D = sigmoid(logit)``; we minimise
    the negation::

        L_D = E_x[softplus(-r)] + E_z[softplus(f)]

    ``real_label`` < 1 gives one-sided label smoothing (Salimans et al. 2016): the real
    term becomes the BCE against target ``t = real_label``,
    ``E_x[t * softplus(-r) + (1 - t) * softplus(r)]``. Fake targets stay 0. Default 1.0
    (no smoothing).
    """
    check_pair(real_logits, fake_logits)
    if not 0.0 <= real_label <= 1.0:
        raise ValueError(f"real_label must be in [0, 1], got {real_label}")
    # BCE against target t = real_label: t * softplus(-r) + (1 - t) * softplus(r)
    real_term = real_label * F.softplus(-real_logits)
    if real_label != 1.0:
        real_term = real_term + (1.0 - real_label) * F.softplus(real_logits)
    return real_term.mean() + F.softplus(fake_logits).mean()


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """Saturating generator loss of the original GAN (Goodfellow et al. 2014).

    G minimises ``E_z[log(1 - D(G(z)))] = -E_z[softplus(f)]``. Its gradient w.r.t. a fake
    logit is ``-sigmoid(f) / n``, which vanishes when D confidently rejects fakes
    (``f -> -inf``) — the reason the paper recommends the non-saturating loss (``"ns"``).
    """
    check_logits("fake_logits", fake_logits)
    return -F.softplus(fake_logits).mean()


def ns_d_loss(real_logits: Tensor, fake_logits: Tensor, *, real_label: float = 1.0) -> Tensor:
    """Discriminator loss of the non-saturating GAN (Goodfellow et al. 2014, Sec. 3).

    Identical to :func:`minimax_d_loss`: ``L_D = E_x[softplus(-r)] + E_z[softplus(f)]``,
    with optional one-sided smoothing ``real_label`` (default 1.0 = none).
    """
    return minimax_d_loss(real_logits, fake_logits, real_label=real_label)


def ns_g_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss (Goodfellow et al. 2014, Sec. 3).

    G maximises ``log D(G(z))`` instead of minimising ``log(1 - D(G(z)))``::

        L_G = -E_z[log sigmoid(f)] = E_z[softplus(-f)]

    Gradient w.r.t. a fake logit: ``-sigmoid(-f) / n`` (strong when D rejects fakes).
    """
    check_logits("fake_logits", fake_logits)
    return F.softplus(-fake_logits).mean()


# --------------------------------------------------------------------------- LSGAN


def lsgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Least-squares GAN discriminator loss (Mao et al. 2017, "Least Squares GANs"), a=0, b=1.

    ``L_D = 1/2 E_x[(D(x) - 1)^2] + 1/2 E_z[D(G(z))^2]`` on the raw (linear) outputs.
    """
    check_pair(real_logits, fake_logits)
    return 0.5 * (real_logits - 1.0).square().mean() + 0.5 * fake_logits.square().mean()


def lsgan_g_loss(fake_logits: Tensor) -> Tensor:
    """Least-squares GAN generator loss (Mao et al. 2017), c=1.

    ``L_G = 1/2 E_z[(D(G(z)) - 1)^2]``.
    """
    check_logits("fake_logits", fake_logits)
    return 0.5 * (fake_logits - 1.0).square().mean()


# --------------------------------------------------------------------------- WGAN


def wgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Wasserstein GAN critic loss (Arjovsky et al. 2017, "Wasserstein GAN").

    The critic maximises ``E_x[D(x)] - E_z[D(G(z))]``; we minimise
    ``L_D = E_z[D(G(z))] - E_x[D(x)]``. Needs a Lipschitz constraint (weight clipping or a
    gradient penalty, see :mod:`gankit.losses.penalties`).
    """
    check_pair(real_logits, fake_logits)
    return fake_logits.mean() - real_logits.mean()


def wgan_g_loss(fake_logits: Tensor) -> Tensor:
    """Wasserstein GAN generator loss (Arjovsky et al. 2017): ``L_G = -E_z[D(G(z))]``."""
    check_logits("fake_logits", fake_logits)
    return -fake_logits.mean()


# --------------------------------------------------------------------------- hinge


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge discriminator loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, SN-GAN).

    ``L_D = E_x[relu(1 - D(x))] + E_z[relu(1 + D(G(z)))]``.
    """
    check_pair(real_logits, fake_logits)
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """Hinge generator loss (Lim & Ye 2017; Miyato et al. 2018): ``L_G = -E_z[D(G(z))]``."""
    check_logits("fake_logits", fake_logits)
    return -fake_logits.mean()


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class AdversarialLoss:
    """A matched pair: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits)``.

    ``relativistic``: G's loss compares fakes with reals (RSGAN, RaGAN, RpGAN in
    :mod:`gankit.losses.relativistic`) and is called ``g_loss(fake_logits, real_logits)``; a
    recipe computes D's real logits in its G phase only for such losses."""

    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[..., Tensor]
    relativistic: bool = False


LOSSES: Registry[AdversarialLoss] = Registry("loss")
LOSSES.add(
    "minimax",
    AdversarialLoss(minimax_d_loss, minimax_g_loss),
    "original minimax GAN with saturating G loss log(1 - D(G(z))) (Goodfellow et al. 2014)",
)
LOSSES.add(
    "ns",
    AdversarialLoss(ns_d_loss, ns_g_loss),
    "non-saturating GAN, G loss -log D(G(z)) (Goodfellow et al. 2014)",
)
LOSSES.add(
    "lsgan",
    AdversarialLoss(lsgan_d_loss, lsgan_g_loss),
    "least-squares GAN with 0/1 targets (Mao et al. 2017)",
)
LOSSES.add(
    "wgan",
    AdversarialLoss(wgan_d_loss, wgan_g_loss),
    "Wasserstein critic loss; pair with clipping or a gradient penalty (Arjovsky et al. 2017)",
)
LOSSES.add(
    "hinge",
    AdversarialLoss(hinge_d_loss, hinge_g_loss),
    "hinge loss (Lim & Ye 2017; Miyato et al. 2018)",
)



def single_sided_loss(name: str, recipe: str) -> AdversarialLoss:
    """The registered loss ``name`` for a recipe whose G loss reads only fake logits; a
    relativistic loss (its G loss needs D's real logits too) is one ``ConfigError`` line when the
    config is parsed, not a failure at the first G step."""
    loss = LOSSES.get(name)
    if loss.relativistic:
        raise ConfigError(f"recipe.loss={name} is relativistic (G's loss compares fakes with reals), which recipe "
                          f"{recipe} does not compute; use it with recipe gan, or choose another loss")
    return loss
