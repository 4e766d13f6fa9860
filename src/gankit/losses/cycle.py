"""The reconstruction terms of CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation
using Cycle-Consistent Adversarial Networks", §3.2 and §5.2): pure functions of images.

``G: A -> B`` and ``F: B -> A`` are the two translators. Every expectation is a mean over all
elements, as in the paper's code (``nn.L1Loss``).
"""

from __future__ import annotations

from torch import Tensor

from gankit.errors import ShapeError

__all__ = ["cycle_consistency_loss", "identity_loss"]


def _check_images(name: str, x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise ShapeError(f"{name} compares images of one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.numel() == 0:
        raise ShapeError(f"{name} got empty images of shape {tuple(x.shape)}")


def cycle_consistency_loss(real: Tensor, reconstructed: Tensor) -> Tensor:
    """One direction of the cycle-consistency loss (Zhu et al. 2017, Eq. 2)::

        L_cyc(G, F) = E_a[‖F(G(a)) − a‖₁]

    ``real`` = ``a`` and ``reconstructed`` = ``F(G(a))``, same shape ``(N, C, H, W)``; the
    mean absolute difference over every element. The full loss adds the other direction,
    ``E_b[‖G(F(b)) − b‖₁]``, and the recipe weighs the sum by λ (10 in the paper).
    """
    _check_images("cycle_consistency_loss", real, reconstructed)
    return (reconstructed - real).abs().mean()


def identity_loss(target: Tensor, mapped: Tensor) -> Tensor:
    """One direction of the identity-mapping loss (Zhu et al. 2017, §5.2, after Taigman et
    al. 2017)::

        L_identity(G) = E_b[‖G(b) − b‖₁]

    ``target`` = ``b``, an image already in G's output domain, and ``mapped`` = ``G(b)``: G
    should leave it unchanged. The paper weighs it by 0.5·λ.
    """
    _check_images("identity_loss", target, mapped)
    return (mapped - target).abs().mean()
