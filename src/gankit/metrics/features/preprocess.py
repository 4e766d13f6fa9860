"""Input pipelines for the FID Inception: images -> (N, 3, 299, 299) float32 network input.

Accepted images (gankit's conventions):

* float tensors/arrays ``(N, C, H, W)`` in ``[-1, 1]`` with ``C`` = 1 or 3 (values up to
  1e-3 outside are clamped; further out is a ``DataError``, which catches [0, 255] input);
* uint8 ``(N, H, W, C)``, ``(N, C, H, W)`` or ``(N, H, W)`` (grayscale) with values 0..255.
  With ``layout="auto"`` a 4-D uint8 array is NCHW when dim 1 is 1 or 3, else NHWC when
  the last dim is 1 or 3 (when both are, NCHW wins: pass ``layout="NHWC"`` for that case).

Grayscale is replicated to 3 channels, as both reference tools do by converting to RGB
with PIL first (before the resize in "pytorch-fid" mode, since torch's bilinear kernel
rounds differently for 1 and 3 channels; after it in "clean" mode, where PIL resizes each
channel on its own anyway, so the numbers are identical at a third of the cost).

``mode="pytorch-fid"`` reproduces pytorch-fid (``ImagePathDataset`` + ``InceptionV3`` with
``resize_input=True, normalize_input=True``): a [0, 1] image (uint8 / 255 as
``ToTensor`` does; gankit floats map as ``(x + 1) / 2``) is resized with
``F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)`` and scaled
``2 * x - 1``. pytorch-fid reads PNG files, i.e. quantised images: pass uint8 images to
reproduce numbers computed from saved PNGs bit for bit; floats skip the quantisation.

``mode="clean"`` reproduces clean-fid's ``mode="clean"`` (Parmar et al. 2022, "On Aliased
Resizing and Surprising Subtleties in GAN Evaluation"): the image is quantised to uint8
(floats as ``floor(x * 127.5 + 128)`` clipped to 0..255, StyleGAN2-ADA's convention, an
exact inverse of ``u / 127.5 - 1``), each channel is resized on its own as a 32-bit float
PIL image (mode ``"F"``) with ``Image.resize((299, 299), BICUBIC)`` (clean-fid's
``make_resizer("PIL", quantize_after=False, "bicubic")``, anti-aliased, no second
quantisation), clipped to [0, 255], and normalised the way clean-fid's network wrapper and
the original TF graph do: ``(x - 128) / 128``, i.e. into ``[-1, 0.9921875]`` (not
``x / 127.5 - 1``). Decided so to match clean-fid's numbers, which use exactly this.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from gankit.errors import ConfigError, DataError, ShapeError

Mode = Literal["pytorch-fid", "clean"]
MODES: tuple[str, ...] = ("pytorch-fid", "clean")
Layout = Literal["auto", "NCHW", "NHWC"]

INPUT_SIZE = 299
RANGE_TOLERANCE = 1e-3  # floats this far outside [-1, 1] are clamped, further is an error
_CLEAN_OFFSET = 128.0  # clean-fid / TF graph: (x - 128) / 128


def _to_tensor(images: Any) -> Tensor:
    if isinstance(images, Tensor):
        return images.detach()
    if isinstance(images, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(images))
    raise ShapeError(f"images must be a torch.Tensor or numpy array, got {type(images).__name__}")


def as_nchw(images: Any, layout: Layout = "auto") -> Tensor:
    """Validate images and return them as an (N, C, H, W) tensor (C = 1 or 3), uint8 or
    float32 (floats checked to lie in [-1, 1] and clamped there). No copy when possible."""
    x = _to_tensor(images)
    if x.dtype == torch.uint8:
        if x.dim() == 3:  # (N, H, W) grayscale
            x = x.unsqueeze(1)
        elif x.dim() == 4:
            if layout == "NHWC" or (layout == "auto" and x.shape[1] not in (1, 3) and x.shape[3] in (1, 3)):
                x = x.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
        else:
            raise ShapeError(f"uint8 images must be (N, H, W, C), (N, C, H, W) or (N, H, W), got {tuple(x.shape)}")
    elif x.is_floating_point():
        if x.dim() != 4:
            raise ShapeError(f"float images must be (N, C, H, W) in [-1, 1], got shape {tuple(x.shape)}")
        if layout == "NHWC":
            x = x.permute(0, 3, 1, 2)
        x = x.to(torch.float32)
        if x.numel():
            lo, hi = torch.aminmax(x)
            if not (torch.isfinite(lo) and torch.isfinite(hi)):
                raise DataError("images contain NaN or infinite values")
            if lo < -1 - RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
                raise DataError(
                    f"float images must be in [-1, 1] (gankit's convention), got values in "
                    f"[{lo.item():.4g}, {hi.item():.4g}]; pass uint8 for 0..255 images"
                )
            if lo < -1 or hi > 1:
                x = x.clamp(-1.0, 1.0)
    else:
        raise ShapeError(f"images must be float in [-1, 1] or uint8, got dtype {x.dtype}")
    if x.shape[1] not in (1, 3):
        raise ShapeError(f"images must have 1 or 3 channels, got shape {tuple(x.shape)} (N, C, H, W)")
    if x.shape[0] and (x.shape[2] < 1 or x.shape[3] < 1):
        raise ShapeError(f"images have an empty spatial size: {tuple(x.shape)}")
    return x


def quantize_uint8(x: Tensor) -> Tensor:
    """float [-1, 1] -> uint8 0..255 as ``floor(x * 127.5 + 128)`` clipped (StyleGAN2-ADA)."""
    return (x * 127.5 + 128.0).clamp_(0.0, 255.0).to(torch.uint8)


def _gray_to_rgb(x: Tensor) -> Tensor:
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def preprocess_pytorch_fid(images: Any, *, layout: Layout = "auto", channels_last: bool = False) -> Tensor:
    """pytorch-fid's pipeline (module docstring) -> (N, 3, 299, 299) float32 in [-1, 1]."""
    x = as_nchw(images, layout)
    # gray -> RGB first and the resize in NCHW, as pytorch-fid does: torch's bilinear kernel
    # rounds differently for 1 channel or channels_last input (by ~4e-7)
    unit = x.to(torch.float32).div_(255.0) if x.dtype == torch.uint8 else (x + 1.0) / 2.0  # (N, C, H, W) in [0, 1]
    unit = _gray_to_rgb(unit).contiguous()  # (N, 3, H, W)
    if unit.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        unit = F.interpolate(unit, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    out = unit.mul_(2.0).sub_(1.0)  # (N, 3, 299, 299); unit is always a fresh tensor here
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return out.contiguous(memory_format=memory_format)  # (N, 3, 299, 299)


def _pil_resize_float(channel: np.ndarray) -> np.ndarray:
    """One (H, W) float32 channel -> (299, 299) float32, PIL mode "F" bicubic, clipped."""
    img = Image.fromarray(np.ascontiguousarray(channel, dtype=np.float32))  # mode "F"
    img = img.resize((INPUT_SIZE, INPUT_SIZE), resample=Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32).clip(0.0, 255.0)


def preprocess_clean(images: Any, *, layout: Layout = "auto", channels_last: bool = False) -> Tensor:
    """clean-fid's ``mode="clean"`` pipeline (module docstring) -> (N, 3, 299, 299) float32
    in [-1, 0.9921875]."""
    x = as_nchw(images, layout)
    u8 = x if x.dtype == torch.uint8 else quantize_uint8(x)  # (N, C, H, W) uint8
    channels = u8.cpu().numpy().astype(np.float32)
    n, c = channels.shape[:2]
    resized = np.empty((n, c, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i in range(n):
        for ch in range(c):
            resized[i, ch] = _pil_resize_float(channels[i, ch])
    out = torch.from_numpy(resized).sub_(_CLEAN_OFFSET).div_(_CLEAN_OFFSET)  # (N, C, 299, 299)
    out = _gray_to_rgb(out)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return out.contiguous(memory_format=memory_format)  # (N, 3, 299, 299)


def preprocess(
    images: Any, mode: Mode = "pytorch-fid", *, layout: Layout = "auto", channels_last: bool = False
) -> Tensor:
    """Images -> FID Inception input (N, 3, 299, 299) float32 with ``mode`` "pytorch-fid"
    or "clean" (module docstring)."""
    if mode == "pytorch-fid":
        return preprocess_pytorch_fid(images, layout=layout, channels_last=channels_last)
    if mode == "clean":
        return preprocess_clean(images, layout=layout, channels_last=channels_last)
    raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
