"""Small helpers shared by the dataset builders: scaling, resizing, limits and splits."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from gankit.config import DataConfig
from gankit.errors import ConfigError

T = TypeVar("T", np.ndarray, torch.Tensor)


def check_data_config(cfg: DataConfig) -> None:
    """Raise ``ConfigError`` for values no dataset accepts (negative limit/resolution, channels not 0/1/3)."""
    if cfg.limit < 0:
        raise ConfigError(f"data.limit must be >= 0 (0 = all), got {cfg.limit}")
    if cfg.resolution < 0:
        raise ConfigError(f"data.resolution must be >= 0 (0 = native), got {cfg.resolution}")
    if cfg.split not in ("train", "test", "all"):
        raise ConfigError(f"data.split must be train, test or all, got {cfg.split!r}")
    if cfg.channels not in (0, 1, 3):
        raise ConfigError(f"data.channels must be 0 (as stored), 1 (grayscale) or 3 (RGB), got {cfg.channels}")


def apply_limit(array: T, limit: int) -> T:
    """The first ``limit`` rows of ``array`` (all of them when ``limit`` is 0)."""
    return array[:limit] if limit > 0 else array


def scale_to_unit(values: np.ndarray | torch.Tensor, max_value: float) -> torch.Tensor:
    """Map values in ``[0, max_value]`` linearly to float32 in ``[-1, 1]``.

    ``0 -> -1`` and ``max_value -> 1`` exactly: computed in float32 as
    ``v / (max_value / 2) - 1`` (``max_value / 2`` is exact for integer maxima).
    """
    if isinstance(values, np.ndarray):  # astype copies, so read-only buffers are fine
        t = torch.from_numpy(values.astype(np.float32))
    else:
        t = values.to(torch.float32, copy=True)
    return t.div_(max_value / 2.0).sub_(1.0)


def labels_to_tensor(labels: np.ndarray) -> torch.Tensor:
    """Class labels as a contiguous int64 ``(N,)`` tensor (a copy; never a read-only view)."""
    return torch.from_numpy(np.array(labels, dtype=np.int64, copy=True).reshape(-1))


def resize_images(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Resize float images ``(N, C, H, W)`` to ``resolution x resolution`` (0 = unchanged).

    Bilinear with ``align_corners=False``; anti-aliased when shrinking. The result is
    clamped to [-1, 1] so the [-1, 1] contract survives the filter.
    """
    if resolution <= 0 or tuple(x.shape[-2:]) == (resolution, resolution):
        return x
    shrinking = resolution < x.shape[-2] or resolution < x.shape[-1]
    out = F.interpolate(
        x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=shrinking
    )
    return out.clamp_(-1.0, 1.0)


LUMA_601 = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma weights of R, G, B (Pillow's "L" conversion)


def convert_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Images ``(N, C, H, W)`` with ``channels`` channels: 1 from RGB by BT.601 luma
    ``0.299 R + 0.587 G + 0.114 B``, 3 from gray by replication; 0 (or the same count) leaves
    ``x`` as it is."""
    if channels in (0, x.shape[1]):
        return x
    if channels == 3 and x.shape[1] == 1:
        return x.repeat(1, 3, 1, 1)  # (N, 3, H, W)
    if channels == 1 and x.shape[1] == 3:
        weights = torch.tensor(LUMA_601, dtype=x.dtype, device=x.device)
        return (x * weights[:, None, None]).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    raise ConfigError(f"data.channels={channels} cannot convert images with {x.shape[1]} channels")
