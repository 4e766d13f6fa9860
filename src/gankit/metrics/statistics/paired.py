"""Paired image statistics: how close each translated image is to its own target (pix2pix,
super-resolution). Images ``(N, C, H, W)`` in [-1, 1] (dynamic range R = 2); each statistic is
the mean over images of a per-image value.

PSNR and SSIM come from torchmetrics (a maintained implementation, imported inside the
functions so ``import gankit`` stays light).
"""

from __future__ import annotations

import torch

from gankit.errors import ShapeError

DATA_RANGE = 2.0  # images live in [-1, 1]
SSIM_KERNEL, SSIM_SIGMA = 11, 1.5  # Wang et al. 2004: an 11x11 Gaussian window, sigma 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _check(fake: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    fake, target = torch.as_tensor(fake), torch.as_tensor(target)
    if fake.dim() != 4 or fake.shape != target.shape or fake.shape[0] == 0:
        raise ShapeError(f"paired metrics need images (N, C, H, W) of one shape, got {tuple(fake.shape)} and "
                         f"{tuple(target.shape)}")
    return fake.double(), target.double()


def paired_l1(fake: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute error ``E|fake − target|`` over every pixel, channel and image: the L1 distance
    pix2pix trains with (Isola et al. 2017, Eq. 3), as a score of translated outputs; lower is better."""
    fake, target = _check(fake, target)
    return float((fake - target).abs().mean())


def psnr(fake: torch.Tensor, target: torch.Tensor, data_range: float = DATA_RANGE) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(R² / MSE_i)`` per image ``i``, averaged over
    images (the super-resolution convention, e.g. Ledig et al. 2017)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    fake, target = _check(fake, target)
    return float(peak_signal_noise_ratio(fake, target, data_range=data_range, dim=(1, 2, 3),
                                         reduction="elementwise_mean"))


def ssim(fake: torch.Tensor, target: torch.Tensor, data_range: float = DATA_RANGE) -> float:
    """Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004, "Image Quality Assessment:
    From Error Visibility to Structural Similarity", Eq. 13), with local statistics under an 11×11
    Gaussian window (σ = 1.5), ``C1 = (0.01 R)²``, ``C2 = (0.03 R)²``::

        SSIM(x, y) = mean over windows of (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))

    at every pixel (the image mirrored at its borders, as torchmetrics does), averaged over pixels,
    channels and images; 1 for identical images."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    fake, target = _check(fake, target)
    return float(structural_similarity_index_measure(
        fake, target, gaussian_kernel=True, sigma=SSIM_SIGMA, kernel_size=SSIM_KERNEL, data_range=data_range,
        k1=SSIM_K1, k2=SSIM_K2, reduction="elementwise_mean",
    ))
