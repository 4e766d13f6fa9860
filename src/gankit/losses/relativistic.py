"""Relativistic adversarial losses: D judges whether real data is *more* real than fake data.

Jolicoeur-Martineau 2019, "The relativistic discriminator: a key element missing from standard
GAN" (RSGAN, RaGAN); Sun et al. 2020 and Huang et al. 2024, "The GAN is dead; long live the GAN!
A Modern GAN Baseline" (R3GAN: RpGAN, the relativistic pairing loss with R1 + R2).

Same sign convention as :mod:`gankit.losses.adversarial` (higher logit = more real), with
``C`` the critic's logit, ``r = C(x_real)`` and ``f = C(G(z))``. Unlike the classic pairs, the
G losses need real logits too: each pair registers as ``AdversarialLoss(..., relativistic=True)``
and its G loss is ``g_loss(fake_logits, real_logits)``. A recipe that passes only fake logits
gets a ``ConfigError`` naming the loss.

Pairing: RSGAN and RpGAN compare sample ``i`` of the real batch with sample ``i`` of the fake
batch, so ``real_logits`` and ``fake_logits`` must have the same shape. With the logistic
``softplus`` as the pairing function, Jolicoeur-Martineau's RSGAN and R3GAN's RpGAN are the same
formula; both names are registered (the paper each recipe follows) and tested to agree.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ConfigError, ShapeError
from gankit.losses.adversarial import LOSSES, AdversarialLoss
from gankit.losses.checks import check_logits, check_pair

__all__ = [
    "rsgan_d_loss",
    "rsgan_g_loss",
    "ragan_d_loss",
    "ragan_g_loss",
    "rpgan_d_loss",
    "rpgan_g_loss",
]


def _real_for_g(name: str, fake_logits: Tensor, real_logits: Tensor | None) -> Tensor:
    check_logits("fake_logits", fake_logits)
    if real_logits is None:
        raise ConfigError(
            f"loss {name} is relativistic: its G loss needs D's real logits, which this recipe does not pass; "
            f"choose a non-relativistic recipe.loss (ns, hinge, ...)"
        )
    return real_logits


# --------------------------------------------------------------------------- RSGAN / RpGAN


def rpgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Relativistic pairing D loss (Huang et al. 2024, R3GAN eq. 2; Sun et al. 2020)::

        L_D = E_{x, z}[softplus(C(G(z)) - C(x))] = E[-log sigmoid(r_i - f_i)]

    over pairs ``(r_i, f_i)`` of the same index: D learns to rank each real sample above
    its paired fake. Equals RSGAN's D loss (Jolicoeur-Martineau 2019, eq. 9).
    """
    check_pair(real_logits, fake_logits)
    _check_paired(real_logits, fake_logits)
    return F.softplus(fake_logits - real_logits).mean()


def rpgan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """Relativistic pairing G loss (Huang et al. 2024, R3GAN)::

        L_G = E_{x, z}[softplus(C(x) - C(G(z)))] = E[-log sigmoid(f_i - r_i)]
    """
    real_logits = _real_for_g("rpgan", fake_logits, real_logits)
    _check_paired(real_logits, fake_logits)
    return F.softplus(real_logits - fake_logits).mean()


def rsgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Relativistic standard GAN D loss (Jolicoeur-Martineau 2019, eq. 9)::

        L_D = -E_{(x_r, x_f)}[log sigmoid(C(x_r) - C(x_f))] = E[softplus(f_i - r_i)]
    """
    return rpgan_d_loss(real_logits, fake_logits)


def rsgan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """Relativistic standard GAN G loss (Jolicoeur-Martineau 2019, eq. 10)::

        L_G = -E_{(x_r, x_f)}[log sigmoid(C(x_f) - C(x_r))] = E[softplus(r_i - f_i)]
    """
    real_logits = _real_for_g("rsgan", fake_logits, real_logits)
    _check_paired(real_logits, fake_logits)
    return F.softplus(real_logits - fake_logits).mean()


def _check_paired(real_logits: Tensor, fake_logits: Tensor) -> None:
    if real_logits.shape != fake_logits.shape:
        raise ShapeError(
            f"paired relativistic losses compare real and fake sample by sample: shapes must match, "
            f"got {tuple(real_logits.shape)} and {tuple(fake_logits.shape)}"
        )


# --------------------------------------------------------------------------- RaGAN


def ragan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Relativistic average GAN D loss (Jolicoeur-Martineau 2019, eq. 15)::

        L_D = E_x[softplus(-(r - E[f]))] + E_z[softplus(f - E[r])]

    i.e. ``-E[log sigmoid(r - mean f)] - E[log(1 - sigmoid(f - mean r))]``; the means are over
    the batch (every element of a PatchGAN map), so the batches need not pair up.
    """
    check_pair(real_logits, fake_logits)
    real_rel = real_logits - fake_logits.mean()  # like real_logits
    fake_rel = fake_logits - real_logits.mean()  # like fake_logits
    return F.softplus(-real_rel).mean() + F.softplus(fake_rel).mean()


def ragan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """Relativistic average GAN G loss (Jolicoeur-Martineau 2019, eq. 16)::

        L_G = E_z[softplus(-(f - E[r]))] + E_x[softplus(r - E[f])]

    The real term depends on G through ``E[f]``.
    """
    real_logits = _real_for_g("ragan", fake_logits, real_logits)
    fake_rel = fake_logits - real_logits.mean()  # like fake_logits
    real_rel = real_logits - fake_logits.mean()  # like real_logits
    return F.softplus(-fake_rel).mean() + F.softplus(real_rel).mean()


LOSSES.add(
    "rsgan",
    AdversarialLoss(rsgan_d_loss, rsgan_g_loss, relativistic=True),
    "relativistic standard GAN on paired logits, softplus(f - r) (Jolicoeur-Martineau 2019)",
)
LOSSES.add(
    "ragan",
    AdversarialLoss(ragan_d_loss, ragan_g_loss, relativistic=True),
    "relativistic average GAN: each logit against the other side's batch mean (Jolicoeur-Martineau 2019)",
)
LOSSES.add(
    "rpgan",
    AdversarialLoss(rpgan_d_loss, rpgan_g_loss, relativistic=True),
    "relativistic pairing loss of R3GAN, softplus(D(fake) - D(real)) per pair; use with R1 + R2 (Huang et al. 2024)",
)
