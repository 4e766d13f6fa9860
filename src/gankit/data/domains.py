"""Second domains made from the first: tensor transforms for coupled GANs.

Liu & Tuzel 2016 ("Coupled Generative Adversarial Networks", §5) learn a joint
distribution of two domains from unpaired samples; for MNIST the second domain is the
digits' edge maps or their negatives. Each transform maps a batch of samples in ``[-1, 1]``
to a batch of the same shape in ``[-1, 1]`` and is registered in ``DOMAINS`` by name
(``recipe.domain_b`` of recipe ``cogan``).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from gankit.errors import ConfigError
from gankit.registry import Registry

DomainTransform = Callable[[torch.Tensor], torch.Tensor]
DOMAINS: Registry[DomainTransform] = Registry("domain transform")

# Sobel kernels (cross-correlation, as conv2d computes): d/dx (columns) and d/dy (rows)
SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
SOBEL_Y = ((-1.0, -2.0, -1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 1.0))
FLAT_EPS = 1e-12  # an image with no gradient anywhere maps to all -1 instead of 0/0


@DOMAINS.register("negative", "the negative image -x (Liu & Tuzel 2016, MNIST negatives)")
def negative(x: torch.Tensor) -> torch.Tensor:
    """``-x``: the negative of samples in ``[-1, 1]`` (black digits on white), any shape.
    Liu & Tuzel 2016 ("Coupled GANs", §5, digits and negative digits)."""
    return -x


@DOMAINS.register("edges", "Sobel gradient magnitude, rescaled to [-1, 1] per image (Liu & Tuzel 2016)")
def edges(x: torch.Tensor) -> torch.Tensor:
    """Edge map of images ``(N, C, H, W)``: the Sobel gradient magnitude
    ``m = sqrt(G_x² + G_y²)`` per channel (``G_x = S_x ⋆ x``, ``G_y = S_y ⋆ x``, the 3×3
    Sobel kernels by ``torch.nn.functional.conv2d``; borders replicate-padded so a flat
    background has no edge), rescaled per image to ``2 · m / max(m) − 1`` in ``[-1, 1]``
    (the max over the image's channels and pixels; an image without any gradient gives
    all −1). Liu & Tuzel 2016 ("Coupled GANs", §5, digits and their edge maps)."""
    if x.dim() != 4:
        raise ConfigError(f"edge maps need images (N, C, H, W), got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    kernels = torch.tensor((SOBEL_X, SOBEL_Y), dtype=x.dtype, device=x.device)  # (2, 3, 3)
    weight = kernels[:, None].repeat(c, 1, 1, 1)  # (2C, 1, 3, 3): x- and y-kernel per channel
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")  # (N, C, H+2, W+2)
    grad = F.conv2d(padded, weight, groups=c)  # (N, 2C, H, W): (G_x, G_y) of channel 0, 1, ...
    gx, gy = grad[:, 0::2], grad[:, 1::2]  # (N, C, H, W) each
    magnitude = torch.sqrt(gx.square() + gy.square())  # (N, C, H, W)
    peak = magnitude.reshape(n, -1).amax(dim=1).clamp_min(FLAT_EPS)  # (N,)
    return 2.0 * magnitude / peak[:, None, None, None] - 1.0  # (N, C, H, W) in [-1, 1]

