"""The content loss of SRGAN (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution
Using a Generative Adversarial Network", §2.2.1): a squared distance between the features of a
fixed network, of any network.

The paper's features are VGG19's ``φ_{5,4}`` maps; gankit cannot download VGG weights, so its
``srgan`` recipe reads the penultimate features of the shipped domain classifiers
(``gankit.metrics.classifier``). The function below takes any feature map.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor

from gankit.errors import ShapeError

__all__ = ["content_loss", "pixel_mse_loss"]


def content_loss(features: Callable[[Tensor], Tensor], generated: Tensor, target: Tensor) -> Tensor:
    """Feature-space content loss (Ledig et al. 2017, Eq. 5, "VGG loss")::

        l_φ = 1 / (W·H) Σ_{x,y} (φ(I_HR)_{x,y} − φ(G(I_LR))_{x,y})²

    i.e. the mean over every element of ``(φ(target) − φ(generated))²``; ``features`` is φ
    (a fixed network: its parameters are not trained by this loss, gradients flow to
    ``generated`` only). ``generated`` and ``target`` are ``(N, C, H, W)`` of one shape.
    """
    if generated.shape != target.shape or generated.numel() == 0:
        raise ShapeError(f"content_loss compares images of one non-empty shape, got {tuple(generated.shape)} "
                         f"and {tuple(target.shape)}")
    fake_f = features(generated)  # (N, F) or (N, F, h, w)
    real_f = features(target).detach()  # the target's features are constants
    return (fake_f - real_f).square().mean()


def pixel_mse_loss(generated: Tensor, target: Tensor) -> Tensor:
    """Pixel-wise MSE of SRResNet (Ledig et al. 2017, Eq. 4)::

        l_MSE = 1 / (r²·W·H) Σ_{x,y} (I_HR_{x,y} − G(I_LR)_{x,y})²

    the mean over every element of ``(target − generated)²``, shapes ``(N, C, H, W)``.
    """
    if generated.shape != target.shape or generated.numel() == 0:
        raise ShapeError(f"pixel_mse_loss compares images of one non-empty shape, got {tuple(generated.shape)} "
                         f"and {tuple(target.shape)}")
    return (generated - target).square().mean()
