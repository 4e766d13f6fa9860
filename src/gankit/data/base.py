"""The in-memory dataset every loader returns, and the dataset registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from gankit.config import DataConfig
from gankit.registry import Registry


@dataclass
class Dataset:
    """Examples held in memory as one tensor.

    Images are float32 ``(N, C, H, W)`` scaled to [-1, 1]; vectors (2-D toys, tables) are
    float32 ``(N, D)``. ``y`` holds int64 class labels ``(N,)`` when the data has them.
    Synthetic mixtures expose their true mode centres ``(K, D)`` and per-mode std.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor | None = None
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    mode_centres: torch.Tensor | None = None
    mode_std: float | None = None

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])


DatasetBuilder = Callable[[DataConfig], Dataset]
DATASETS: Registry[DatasetBuilder] = Registry("dataset")


def build_dataset(cfg: DataConfig) -> Dataset:
    """Build the dataset named by ``cfg.name`` (raises ``ConfigError`` if unknown)."""
    return DATASETS.get(cfg.name)(cfg)
