"""Synthetic 2-D datasets: Gaussian mixtures with known modes, and a spiral.

Every toy draws ``cfg.n_samples`` points once from a ``torch.Generator`` seeded with
``cfg.seed``, so the same seed gives the same points. The toys have no train/test split
(``cfg.split`` is ignored); ``cfg.limit`` keeps the first N points.

* ``ring``: 8 Gaussians on the unit circle at angles ``2*pi*k/8`` (k = 0..7), std 0.01.
* ``grid``: 25 Gaussians at ``{-4, -2, 0, 2, 4}^2``, std 0.05.
* ``spiral``: an Archimedean spiral (see ``sample_spiral``); no modes.
"""

from __future__ import annotations

import math

import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError

RING_MODES = 8
RING_RADIUS = 1.0
RING_STD = 0.01
GRID_VALUES = (-4.0, -2.0, 0.0, 2.0, 4.0)
GRID_STD = 0.05
SPIRAL_TURNS = 2.0
SPIRAL_MAX_RADIUS = 2.0
SPIRAL_NOISE = 0.02


def ring_centres(k: int = RING_MODES, radius: float = RING_RADIUS) -> torch.Tensor:
    """``(k, 2)`` float32 centres ``radius * (cos a, sin a)`` with ``a = 2*pi*i/k``, i = 0..k-1."""
    angles = torch.arange(k, dtype=torch.float64) * (2.0 * math.pi / k)
    centres = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1) * radius
    return centres.to(torch.float32)


def grid_centres(values: tuple[float, ...] = GRID_VALUES) -> torch.Tensor:
    """``(len(values)**2, 2)`` float32 centres of the grid ``values x values``, row-major
    (first coordinate varies slowest)."""
    v = torch.tensor(values, dtype=torch.float32)
    xs, ys = torch.meshgrid(v, v, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def sample_mixture(
    centres: torch.Tensor, std: float, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points from an equal-weight isotropic Gaussian mixture.

    Component ``i`` is used for ``n // K`` or ``n // K + 1`` points (exactly balanced, in a
    random order drawn from ``generator``). Returns ``(x, y)``: float32 ``(n, D)`` points and
    int64 ``(n,)`` component indices.
    """
    if centres.ndim != 2 or centres.shape[0] == 0:
        raise ValueError(f"centres must be a non-empty (K, D) tensor, got {tuple(centres.shape)}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    k, d = centres.shape
    order = torch.randperm(n, generator=generator)
    y = (torch.arange(n) % k)[order].to(torch.int64)
    noise = torch.randn(n, d, generator=generator, dtype=torch.float32)
    x = centres.to(torch.float32)[y] + std * noise
    return x, y


def sample_spiral(
    n: int,
    generator: torch.Generator,
    turns: float = SPIRAL_TURNS,
    max_radius: float = SPIRAL_MAX_RADIUS,
    noise: float = SPIRAL_NOISE,
) -> torch.Tensor:
    """``(n, 2)`` float32 points on the Archimedean spiral ``r = max_radius * theta / theta_max``.

    ``theta = theta_max * sqrt(u)`` with ``u ~ U(0, 1)`` and ``theta_max = 2*pi*turns``
    (the square root makes the density per unit of arc length roughly uniform), plus isotropic
    Gaussian noise of std ``noise``. Defaults: 2 turns, radius 2 (arms 1 apart), noise 0.02.
    """
    theta_max = 2.0 * math.pi * turns
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    theta = theta_max * u.sqrt()
    r = max_radius * theta / theta_max
    points = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1).to(torch.float32)
    return points + noise * torch.randn(n, 2, generator=generator, dtype=torch.float32)


def _generator(cfg: DataConfig) -> torch.Generator:
    check_data_config(cfg)
    if cfg.n_samples <= 0:
        raise ConfigError(f"data.n_samples must be > 0, got {cfg.n_samples}")
    return torch.Generator().manual_seed(cfg.seed)


def _mixture_dataset(name: str, cfg: DataConfig, centres: torch.Tensor, std: float) -> Dataset:
    x, y = sample_mixture(centres, std, cfg.n_samples, _generator(cfg))
    return Dataset(
        name=name,
        x=apply_limit(x, cfg.limit),
        y=apply_limit(y, cfg.limit),
        num_classes=centres.shape[0],
        mode_centres=centres,
        mode_std=std,
    )


@DATASETS.register("ring", "8 Gaussians on the unit circle, std 0.01 (2-D toy, known modes)")
def build_ring(cfg: DataConfig) -> Dataset:
    """The 8-mode ring; labels are the component index."""
    return _mixture_dataset("ring", cfg, ring_centres(), RING_STD)


@DATASETS.register("grid", "25 Gaussians on {-4,-2,0,2,4}^2, std 0.05 (2-D toy, known modes)")
def build_grid(cfg: DataConfig) -> Dataset:
    """The 5x5 grid of Gaussians; labels are the component index."""
    return _mixture_dataset("grid", cfg, grid_centres(), GRID_STD)


@DATASETS.register("spiral", "2-turn Archimedean spiral, radius 2, noise 0.02 (2-D toy)")
def build_spiral(cfg: DataConfig) -> Dataset:
    """The spiral; no labels and no modes."""
    x = sample_spiral(cfg.n_samples, _generator(cfg))
    return Dataset(name="spiral", x=apply_limit(x, cfg.limit))
