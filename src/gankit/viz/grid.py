"""Image grids from a batch of generator outputs in [-1, 1] (no torchvision).

Layout (as torchvision's ``make_grid``): ``ncol = min(nrow, N)`` images per row,
``rows = ceil(N / ncol)``; every image is surrounded by ``padding`` pixels of ``pad_value``,
so the grid is ``rows*(H+padding)+padding`` high and ``ncol*(W+padding)+padding`` wide.
Empty cells of the last row are ``pad_value``.

Pixel mapping to 8 bits: ``u8 = clamp(round((x + 1) * 127.5), 0, 255)`` with round half to
even (``torch.round``), so -1 -> 0, 0 -> 128 (127.5 rounds to even 128), 1 -> 255.
NaN maps to 0 (black), +inf to 255, -inf to 0. Channel order is kept (RGB stays RGB).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit.atomic import save_atomically
from gankit.errors import ConfigError, DataError, ShapeError

__all__ = ["make_grid", "grid_to_pil", "save_image_grid"]

_ALLOWED_CHANNELS = (1, 3)


def _as_image_batch(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise ShapeError(f"images must be a tensor (N, C, H, W), got {type(images).__name__}")
    if images.dim() != 4:
        raise ShapeError(f"images must be 4-D (N, C, H, W), got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    if c not in _ALLOWED_CHANNELS:
        raise ShapeError(f"images must have 1 or 3 channels, got shape {tuple(images.shape)}")
    if n == 0 or h == 0 or w == 0:
        raise ShapeError(f"images must be non-empty, got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise DataError(f"images must be floating point in [-1, 1], got dtype {images.dtype}")
    return images.detach()


def make_grid(
    images: torch.Tensor,
    nrow: int | None = None,
    padding: int = 2,
    pad_value: float = 1.0,
) -> torch.Tensor:
    """Tile ``images`` (N, C, H, W) into one image (C, H', W'); ``nrow`` = images per row
    (default ``ceil(sqrt(N))``). Values are copied unchanged (no normalisation)."""
    images = _as_image_batch(images)  # (N, C, H, W)
    n, c, h, w = images.shape
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    if not isinstance(nrow, int) or isinstance(nrow, bool) or nrow < 1:
        raise ConfigError(f"nrow must be a positive integer, got {nrow!r}")
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise ConfigError(f"padding must be a non-negative integer, got {padding!r}")
    ncol = min(nrow, n)
    rows = math.ceil(n / ncol)
    cell_h, cell_w = h + padding, w + padding
    grid = images.new_full((c, rows * cell_h + padding, ncol * cell_w + padding), pad_value)
    for k in range(n):
        r, col = divmod(k, ncol)
        top, left = r * cell_h + padding, col * cell_w + padding
        grid[:, top : top + h, left : left + w] = images[k]  # (C, H, W)
    return grid  # (C, H', W')


def _to_uint8(grid: torch.Tensor) -> np.ndarray:
    x = grid.detach().to("cpu", torch.float64)
    x = torch.nan_to_num(x, nan=-1.0, posinf=1.0, neginf=-1.0)
    u8 = torch.round((x + 1.0) * 127.5).clamp_(0, 255).to(torch.uint8)  # (C, H, W)
    return u8.permute(1, 2, 0).numpy()  # (H, W, C)


def grid_to_pil(grid: torch.Tensor) -> Image.Image:
    """(C, H, W) tensor in [-1, 1] -> PIL image ("L" for C=1, "RGB" for C=3); see module
    docstring for the exact rounding."""
    if isinstance(grid, np.ndarray):
        grid = torch.from_numpy(grid)
    if not isinstance(grid, torch.Tensor) or grid.dim() != 3:
        shape = tuple(grid.shape) if hasattr(grid, "shape") else type(grid).__name__
        raise ShapeError(f"grid must be 3-D (C, H, W), got {shape}")
    if grid.shape[0] not in _ALLOWED_CHANNELS:
        raise ShapeError(f"grid must have 1 or 3 channels, got shape {tuple(grid.shape)}")
    if not grid.is_floating_point():
        raise DataError(f"grid must be floating point in [-1, 1], got dtype {grid.dtype}")
    hwc = _to_uint8(grid)  # (H, W, C) uint8
    if hwc.shape[2] == 1:
        return Image.fromarray(np.ascontiguousarray(hwc[:, :, 0]))  # uint8 (H, W) -> "L"
    return Image.fromarray(np.ascontiguousarray(hwc))  # uint8 (H, W, 3) -> "RGB"


def save_image_grid(
    images: torch.Tensor,
    path: str | os.PathLike[str],
    nrow: int | None = None,
    padding: int = 2,
    upscale: int = 1,
    pad_value: float = 1.0,
) -> Path:
    """Write ``make_grid(images, ...)`` as a PNG (atomically), each pixel enlarged to an
    ``upscale`` x ``upscale`` block (nearest neighbour, for tiny images such as 8x8 digits).
    Returns the path."""
    if not isinstance(upscale, int) or isinstance(upscale, bool) or upscale < 1:
        raise ConfigError(f"upscale must be a positive integer, got {upscale!r}")
    img = grid_to_pil(make_grid(images, nrow=nrow, padding=padding, pad_value=pad_value))
    if upscale > 1:
        img = img.resize((img.width * upscale, img.height * upscale), Image.Resampling.NEAREST)
    return save_atomically(path, lambda fh: img.save(fh, format="PNG"))
