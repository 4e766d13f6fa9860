"""The perceptual adversarial loss of PAN (Wang, Xu, Wang & Tao 2018, "Perceptual Adversarial
Networks for Image-to-Image Transformation", §III-B).

With ``H_j`` the ``j``-th hidden layer of the discriminator (``j = 0`` may be the image itself),
``y`` the target and ``T(x)`` the translation, the perceptual distance is::

    P(y, T(x)) = Σ_j λ_j · E|H_j(y) − H_j(T(x))|          (the mean absolute difference per layer)

G minimises its adversarial loss plus ``P``; D maximises ``P`` up to a margin ``m`` (it is
rewarded for keeping real and translated images apart in its features, and not beyond ``m``)::

    L_D = ℓ_D(real, fake) + [m − P(y, T(x))]⁺
"""

from __future__ import annotations

from typing import Sequence

import torch

from gankit.errors import ShapeError


def pan_perceptual_distance(
    real: Sequence[torch.Tensor], fake: Sequence[torch.Tensor], weights: Sequence[float]
) -> torch.Tensor:
    """``Σ_j λ_j · mean|real_j − fake_j|`` over layers ``j`` (Wang et al. 2018, Eq. 7); ``real``,
    ``fake`` and ``weights`` have one entry per layer, each pair of one shape ``(N, ...)``."""
    if not len(real) == len(fake) == len(weights) or not weights:
        raise ShapeError(f"PAN needs one weight per layer, got {len(weights)} weights for {len(real)} real and "
                         f"{len(fake)} fake layers")
    total = real[0].new_zeros(())
    for j, (r, f, w) in enumerate(zip(real, fake, weights)):
        if r.shape != f.shape:
            raise ShapeError(f"PAN layer {j}: real {tuple(r.shape)} and fake {tuple(f.shape)} differ")
        total = total + w * (r - f).abs().mean()
    return total


def pan_margin_loss(distance: torch.Tensor, margin: float) -> torch.Tensor:
    """D's perceptual term ``[m − P]⁺ = max(0, m − P)`` (Wang et al. 2018, Eq. 9): zero once the
    features of real and translated images are ``m`` apart."""
    return torch.clamp(margin - distance, min=0.0)
