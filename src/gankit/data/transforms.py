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


def frame_images(x: torch.Tensor, side: int) -> torch.Tensor:
    """Centre images ``(N, C, h, w)`` in a ``side x side`` frame of background (-1)."""
    top, left = (side - x.shape[-2]) // 2, (side - x.shape[-1]) // 2
    pad = (left, side - x.shape[-1] - left, top, side - x.shape[-2] - top)
    return F.pad(x, pad, value=-1.0)


def box_crop(x: torch.Tensor, box: int) -> torch.Tensor:
    """The centred ``box x box`` window of images ``(N, C, S, S)``: the inverse of :func:`frame_images`."""
    top, left = (x.shape[-2] - box) // 2, (x.shape[-1] - box) // 2
    return x[..., top : top + box, left : left + box]


def bilinear_upscale_matrix(n: int, size: int) -> torch.Tensor:
    """``(size, n)``: the linear map of :func:`resize_images`' bilinear upscaling of a length-``n``
    signal to ``size`` (``align_corners=False``; applied to rows and columns of an image)."""
    basis = torch.eye(n, dtype=torch.float64)[:, None, None, :]  # (n, 1, 1, n): one unit signal per row
    return F.interpolate(basis, size=(1, size), mode="bilinear", align_corners=False)[:, 0, 0, :].T


def invert_upscale(x: torch.Tensor, native: int) -> torch.Tensor:
    """Least-squares inverse of upscaling ``native x native`` images bilinearly to ``x``'s side:
    ``P X Pᵀ`` with ``P`` the pseudo-inverse of :func:`bilinear_upscale_matrix`, clamped to [-1, 1].
    Exact (to float error) on images that are such an upscaling; for any other image, the
    ``native``-side image whose upscaling is nearest in L2. Images ``(N, C, S, S)`` -> ``(N, C, native, native)``."""
    p = torch.linalg.pinv(bilinear_upscale_matrix(native, x.shape[-1])).to(x.dtype)  # (native, S)
    return (p @ x @ p.T).clamp(-1.0, 1.0)


def domain_view(x: torch.Tensor, box: int = 0, native: int = 0) -> torch.Tensor:
    """Images ``(N, C, S, S)`` of a domain framed into a centred ``box`` square (0: the whole
    image) and upscaled bilinearly from ``native`` (0: not upscaled), as the domain's own
    classifier reads them: the box, brought back to ``native`` by :func:`invert_upscale`."""
    x = box_crop(x, box) if box else x
    return invert_upscale(x, native) if native else x
