"""LeCam regularisation (Tseng et al. 2021, "Regularizing Generative Adversarial Networks under
Limited Data", eq. 3): keep D's predictions near moving anchors of the other side's predictions.

::

    R_LC = E_x[||D(x) - α_F||²] + E_z[||D(G(z)) - α_R||²]

with ``α_R`` and ``α_F`` exponential moving averages of D's mean logit on real and on fake data.
The paper shows that, added to the D loss with weight λ, it turns the objective into a
LeCam-divergence one that stays bounded when D could tell a small training set apart. The
authors' code clips each term to one side (``relu(D(x) - α_F)²``, ``relu(α_R - D(G(z)))²``);
``one_sided=True`` gives that variant.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.losses.checks import check_pair

__all__ = ["lecam_penalty", "lecam_anchor_update"]


def lecam_penalty(
    real_logits: Tensor, fake_logits: Tensor, anchor_real: Tensor, anchor_fake: Tensor, *, one_sided: bool = False
) -> Tensor:
    """``R_LC = mean((D(x) - α_F)²) + mean((D(G(z)) - α_R)²)`` (Tseng et al. 2021, eq. 3);
    ``anchor_real`` = α_R and ``anchor_fake`` = α_F are scalars (detached: no gradient flows
    into them). ``one_sided``: the authors' code, ``relu(D(x) - α_F)²`` and ``relu(α_R - D(G(z)))²``.
    """
    check_pair(real_logits, fake_logits)
    real_gap = real_logits - anchor_fake.detach()  # like real_logits
    fake_gap = anchor_real.detach() - fake_logits  # like fake_logits
    if one_sided:
        real_gap, fake_gap = F.relu(real_gap), F.relu(fake_gap)
    return real_gap.square().mean() + fake_gap.square().mean()


@torch.no_grad()
def lecam_anchor_update(anchors: Tensor | None, real_logits: Tensor, fake_logits: Tensor, decay: float) -> Tensor:
    """The anchors ``(α_R, α_F)`` ``(2,)`` after one D step: ``α ← decay·α + (1 − decay)·mean``
    of this step's real and fake logits; the first step (``anchors`` None) starts them at those
    means. Float64, on the logits' device (no host sync)."""
    means = torch.stack([real_logits.detach().double().mean(), fake_logits.detach().double().mean()])  # (2,)
    if anchors is None:
        return means
    return decay * anchors + (1.0 - decay) * means
