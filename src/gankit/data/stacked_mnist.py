"""Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN): three MNIST digits as the RGB channels of
one image, so the data has 10³ = 1,000 equally likely modes (digit triples)."""

from __future__ import annotations

import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.mnist import load_mnist_arrays
from gankit.data.transforms import apply_limit, check_data_config, labels_to_tensor, resize_images, scale_to_unit
from gankit.errors import ConfigError


def stack_digits(
    images: torch.Tensor, labels: torch.Tensor, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` stacked images from single-channel ``images`` (M, 1, H, W) with ``labels`` (M,):
    channel j of example i is ``images[idx[i, j]]`` for uniform random indices ``idx`` (n, 3);
    the label is the mode ``100·d0 + 10·d1 + d2``. Returns ((n, 3, H, W), (n,))."""
    idx = torch.randint(0, images.shape[0], (n, 3), generator=generator)
    x = images[idx.flatten(), 0].reshape(n, 3, *images.shape[2:])
    d = labels[idx]  # (n, 3)
    return x, d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]


@DATASETS.register("stacked-mnist", "three MNIST digits as RGB channels, 28x28, 1,000 modes (data.n_samples examples)")
def build_stacked_mnist(cfg: DataConfig) -> Dataset:
    """``data.n_samples`` triples drawn (with ``data.seed``) from the MNIST ``data.split``
    (its first ``data.limit`` digits when > 0), in [-1, 1]."""
    check_data_config(cfg)
    if cfg.n_samples <= 0:
        raise ConfigError(f"data.n_samples must be > 0, got {cfg.n_samples}")
    images, labels = load_mnist_arrays("mnist", cfg.split, path=cfg.path, download=cfg.download)
    images, labels = apply_limit(images, cfg.limit), apply_limit(labels, cfg.limit)
    digits = resize_images(scale_to_unit(images[:, None], 255.0), cfg.resolution)  # (M, 1, H, W)
    x, y = stack_digits(digits, labels_to_tensor(labels), cfg.n_samples, torch.Generator().manual_seed(cfg.seed))
    return Dataset(name="stacked-mnist", x=x, y=y, num_classes=1000)
