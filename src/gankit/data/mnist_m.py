"""MNIST-M-style digits for domain adaptation (Ganin et al. 2016, "Domain-Adversarial
Training of Neural Networks", JMLR 17, §5.1.1).

Ganin et al. blend each MNIST digit over a random patch of a BSDS500 colour photograph,
``out = |patch - digit|`` per channel and pixel. Here the patches are random crops of the two
photographs scikit-learn ships (``sklearn.datasets.load_sample_images``: china.jpg and
flower.jpg, 427x640), so nothing is downloaded. With ``d = (x + 1) / 2`` the digit and ``p``
the crop, both in [0, 1], the blend is ``m = |p - d|``, returned as ``2 m - 1`` in [-1, 1].
Each example's photograph and crop corner are drawn from ``data.seed``.

Dataset ``mnist-m``: unpaired (see ``gankit.data.unpaired``), group ``a`` = MNIST
``(N, 1, S, S)`` (``data.channels=3`` replicates it to RGB) with labels ``y_a``, group ``b``
= the same digits blended, ``(N, 3, S, S)``, labels ``y_b``, as in Ganin et al., whose
MNIST-M is made from MNIST's own training digits. ``S = data.resolution`` or 28.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset, build_dataset
from gankit.data.transforms import check_data_config, convert_channels
from gankit.data.unpaired import domain_of, unpaired_dataset
from gankit.errors import ConfigError

CHUNK = 1024  # crops gathered per step (bounds the index tensors' memory)


def sample_photos() -> torch.Tensor:
    """scikit-learn's two sample photographs as float32 ``(2, 3, 427, 640)`` in [0, 1]."""
    from sklearn.datasets import load_sample_images  # local: sklearn is slow to import

    images = np.stack(load_sample_images().images)  # (2, 427, 640, 3) uint8
    return torch.from_numpy(images).permute(0, 3, 1, 2).to(torch.float32) / 255.0


def crop_params(n: int, side: int, photo_shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Per example ``(photo, top, left)``, int64 ``(n, 3)``: ``floor(u * range)`` of float64
    uniforms ``u ~ U(0, 1)^3`` from a generator seeded with ``seed``; the ranges are the number
    of photographs and of crop positions along each axis."""
    k, h, w = photo_shape[0], photo_shape[-2], photo_shape[-1]
    if side > min(h, w):
        raise ConfigError(f"mnist-m crops of side {side} do not fit the {h}x{w} sample photographs")
    u = torch.rand(n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)  # (n, 3)
    ranges = torch.tensor([k, h - side + 1, w - side + 1], dtype=torch.float64)  # (3,)
    return (u * ranges).floor().to(torch.int64)  # (n, 3)


def crops(photos: torch.Tensor, params: torch.Tensor, side: int) -> torch.Tensor:
    """Crops ``(n, C, side, side)`` of ``photos`` ``(K, C, H, W)`` at ``params`` ``(n, 3)``."""
    channels = torch.arange(photos.shape[1])[None, :, None, None]  # (1, C, 1, 1)
    offsets = torch.arange(side)  # (S,)
    out = []
    for chunk in params.split(CHUNK):
        k, top, left = chunk[:, 0], chunk[:, 1], chunk[:, 2]  # (m,) each
        rows = (top[:, None] + offsets)[:, None, :, None]  # (m, 1, S, 1)
        cols = (left[:, None] + offsets)[:, None, None, :]  # (m, 1, 1, S)
        out.append(photos[k[:, None, None, None], channels, rows, cols])  # (m, C, S, S)
    return torch.cat(out) if out else photos.new_zeros(0, photos.shape[1], side, side)


def blend(digits: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
    """Ganin et al.'s ``|patch - digit|`` for digits ``(N, 1, S, S)`` in [-1, 1] and patches
    ``(N, 3, S, S)`` in [0, 1]; the result ``(N, 3, S, S)`` is in [-1, 1]."""
    d = (digits + 1.0) / 2.0  # (N, 1, S, S) in [0, 1]
    return 2.0 * (patches - d).abs() - 1.0  # (N, 3, S, S)


@DATASETS.register("mnist-m", "unpaired MNIST (a) and MNIST-M-style digits on photo crops (b, RGB), labels y_a, y_b")
def build_mnist_m(cfg: DataConfig) -> Dataset:
    """MNIST and its MNIST-M-style blend as domains ``a`` and ``b`` (see the module docstring)."""
    check_data_config(cfg)
    photos = sample_photos()  # (2, 3, 427, 640)
    crop_params(0, cfg.resolution, tuple(photos.shape), cfg.seed)  # a side too large fails before MNIST loads
    mnist = build_dataset(dataclasses.replace(cfg, name="mnist", channels=0))
    x = mnist.x  # (N, 1, S, S)
    side = x.shape[-1]
    blended = blend(x, crops(photos, crop_params(x.shape[0], side, tuple(photos.shape), cfg.seed), side))
    a = domain_of(mnist, cfg.channels)
    b = dataclasses.replace(a, name="mnist-m", x=convert_channels(blended, cfg.channels), y=mnist.y.clone())
    return unpaired_dataset("mnist-m", a, b, meta={"photos": ["china.jpg", "flower.jpg"]})
