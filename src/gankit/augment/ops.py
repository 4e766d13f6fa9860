"""Differentiable image operations with per-sample random parameters, shared by DiffAugment
and ADA: integer translation, cutout, flips, 90° rotations and colour changes.

Every op takes images ``x`` ``(N, C, H, W)`` and returns the same shape; its output is a
(piecewise) linear function of ``x`` given the random draw, so gradients flow back to G
through augmented fakes. Randomness comes from ``generator`` when given (tests) and from the
global stream of ``x``'s device otherwise (training: seeded, and restored on resume).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from gankit.errors import ShapeError

Padding = Literal["zeros", "reflect"]


def check_images(x: Tensor, who: str) -> None:
    """``x`` must be a floating ``(N, C, H, W)`` batch, else ``ShapeError``."""
    if not isinstance(x, Tensor) or x.dim() != 4 or x.shape[0] == 0 or not x.dtype.is_floating_point:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ShapeError(f"{who} augments images (N, C, H, W) of floats, got {shape}")


def rand(n: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
    """``n`` uniforms in [0, 1) as ``x``'s dtype on ``x``'s device."""
    device = generator.device if generator is not None else x.device
    return torch.rand(n, generator=generator, device=device).to(x.device, x.dtype)  # (n,)


def randn(n: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
    device = generator.device if generator is not None else x.device
    return torch.randn(n, generator=generator, device=device).to(x.device, x.dtype)  # (n,)


def randint(low: int, high: int, n: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
    """``n`` integers in ``[low, high)`` on ``x``'s device."""
    device = generator.device if generator is not None else x.device
    return torch.randint(low, high, (n,), generator=generator, device=device).to(x.device)  # (n,)


def _source_index(size: int, shift: Tensor, padding: Padding) -> tuple[Tensor, Tensor]:
    """Source index ``i - shift`` of every output position ``(N, size)`` and whether it lies
    inside the image (zeros) — or its mirror image inside (reflect, |shift| < size)."""
    idx = torch.arange(size, device=shift.device)[None, :] - shift[:, None]  # (N, size)
    inside = (idx >= 0) & (idx < size)  # (N, size)
    if padding == "reflect":
        idx = idx.abs()  # -i -> i
        idx = torch.where(idx > size - 1, 2 * (size - 1) - idx, idx)  # size-1+j -> size-1-j
        inside = torch.ones_like(inside)
    return idx.clamp(0, size - 1), inside


def translate(x: Tensor, shift_h: Tensor, shift_w: Tensor, padding: Padding = "zeros") -> Tensor:
    """Move sample ``n``'s content by ``shift_h[n]`` rows down and ``shift_w[n]`` columns right:
    ``out[n, :, i, j] = x[n, :, i - shift_h[n], j - shift_w[n]]``, zero where that falls outside
    (``padding="zeros"``, DiffAugment) or mirrored back in (``"reflect"``, ADA)."""
    check_images(x, "translate")
    n, _, h, w = x.shape
    rows, row_in = _source_index(h, shift_h.long(), padding)  # (N, H)
    cols, col_in = _source_index(w, shift_w.long(), padding)  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]  # (N, 1, 1)
    out = x.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    keep = (row_in[:, :, None] & col_in[:, None, :]).to(x.dtype)  # (N, H, W)
    return (out * keep[..., None]).permute(0, 3, 1, 2)  # (N, C, H, W)


def random_translation(
    x: Tensor, ratio: float = 0.125, padding: Padding = "zeros", generator: torch.Generator | None = None
) -> Tensor:
    """Integer translation by up to ``round(ratio · size)`` pixels each way, uniform per sample
    (DiffAugment: ratio 1/8, zero fill)."""
    check_images(x, "random_translation")
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    return translate(x, randint(-sh, sh + 1, n, x, generator), randint(-sw, sw + 1, n, x, generator), padding)


def cutout_mask(n: int, h: int, w: int, top: Tensor, left: Tensor, size_h: int, size_w: int) -> Tensor:
    """``(N, 1, H, W)`` ones with a ``size_h × size_w`` hole of zeros at ``(top, left)`` per sample
    (clipped to the image)."""
    rows = torch.arange(h, device=top.device)[None, :]  # (1, H)
    cols = torch.arange(w, device=left.device)[None, :]  # (1, W)
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size_h)  # (N, H)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size_w)  # (N, W)
    return (~(in_rows[:, :, None] & in_cols[:, None, :]))[:, None]  # (N, 1, H, W)


def random_cutout(x: Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Cutout (DeVries & Taylor 2017) as in DiffAugment: a square of side ``ratio · size``
    zeroed at a uniformly random centre per sample (it may overhang the border)."""
    check_images(x, "random_cutout")
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    centre_h = randint(0, h + (1 - ch % 2), n, x, generator)  # (N,)
    centre_w = randint(0, w + (1 - cw % 2), n, x, generator)  # (N,)
    mask = cutout_mask(n, h, w, centre_h - ch // 2, centre_w - cw // 2, ch, cw)  # (N, 1, H, W)
    return x * mask.to(x.dtype)


def flip_x(x: Tensor, where: Tensor) -> Tensor:
    """Mirror left-right the samples with ``where[n]`` true."""
    return torch.where(where[:, None, None, None], x.flip(3), x)


def rotate90(x: Tensor, quarter_turns: Tensor) -> Tensor:
    """Rotate sample ``n`` by ``quarter_turns[n]`` × 90° counter-clockwise (square images)."""
    if x.shape[2] != x.shape[3]:
        raise ShapeError(f"rotate90 needs square images, got {x.shape[2]}x{x.shape[3]}")
    out = x
    for k in (1, 2, 3):
        out = torch.where((quarter_turns == k)[:, None, None, None], torch.rot90(x, k, dims=(2, 3)), out)
    return out


def brightness(x: Tensor, shift: Tensor) -> Tensor:
    """``x + b[n]``: add ``shift[n]`` to every pixel of sample ``n``."""
    return x + shift[:, None, None, None]


def contrast(x: Tensor, scale: Tensor, around: Tensor | float) -> Tensor:
    """``(x − m)·s[n] + m``: scale every pixel of sample ``n`` around ``around``."""
    return (x - around) * scale[:, None, None, None] + around


def saturation(x: Tensor, scale: Tensor) -> Tensor:
    """``(x − x̄)·s[n] + x̄`` with ``x̄`` the per-pixel mean over channels (grey axis)."""
    grey = x.mean(dim=1, keepdim=True)  # (N, 1, H, W)
    return (x - grey) * scale[:, None, None, None] + grey
