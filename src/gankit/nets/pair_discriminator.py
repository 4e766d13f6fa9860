"""The conditional discriminator of paired image translation (Isola et al. 2017, "Image-to-Image
Translation with Conditional Adversarial Networks", §3.2.2 and §4.4): ``D(a, b)`` sees the source
``a`` and a real or translated target ``b`` concatenated along channels, and scores every patch of
a chosen receptive field.

Three receptive fields (``field``), the paper's ablation (its Table 3) at our resolution:

* ``"pixel"`` — the 1×1 *PixelGAN*: 1×1 convs C(w) - C(2w) + norm - C1, a logit per pixel;
* ``"patch"`` — the *PatchGAN* of ``nets.patchgan`` with ``patch_layers`` stride-2 convs
  (k4 p1): C(w) s2 - [C(w·2^i) s2 + norm] - C(w·2^n) s1 + norm - C1 s1, a logit map whose
  logits each see 16 (n = 1), 34 (n = 2) or 70 (n = 3) pixels;
* ``"image"`` — the *ImageGAN*: stride-2 convs until the side is at most 4, then one linear
  logit over the whole image ``(N,)``.

LeakyReLU(0.2) after every hidden conv; no norm on the first layer; DCGAN initialisation.
``DOutput.features`` is the last hidden map, flattened; the hidden maps in order are
``extra["h0"], extra["h1"], ...`` (PAN's perceptual loss, Wang et al. 2018, reads them).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import DOutput
from gankit.nets.init import dcgan_init_
from gankit.nets.patchgan import patchgan_output_size

Field = Literal["pixel", "patch", "image"]
PairNorm = Literal["batch", "instance", "layer", "none"]
FIELDS = ("pixel", "patch", "image")
KERNEL, PAD = 4, 1
LEAK = 0.2
MAX_MULT = 8  # channel multiplier cap (pix2pix)
IMAGE_SIDE = 4  # the ImageGAN halves the side until it is at most this, then reads the whole map


def pair_norm(norm: str, channels: int) -> nn.Module:
    """``"batch"`` (pix2pix), ``"instance"`` (CycleGAN), ``"layer"`` (GroupNorm(1, C)) or ``"none"``."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {norm!r} (known: batch, instance, layer, none)")


def _block(c_in: int, c_out: int, kernel: int, stride: int, pad: int, norm: str, first: bool) -> nn.Sequential:
    use_norm = not first and norm != "none"
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, pad, bias=not use_norm or norm == "instance")]
    if use_norm:
        layers.append(pair_norm(norm, c_out))
    layers.append(nn.LeakyReLU(LEAK))
    return nn.Sequential(*layers)


def image_gan_stages(size: int) -> int:
    """Stride-2 convs (k4 s2 p1: side ``s -> floor(s / 2)``) until the side is at most 4."""
    stages, s = 0, int(size)
    while s > IMAGE_SIDE:
        s, stages = s // 2, stages + 1
    return max(stages, 1)


class PairDiscriminator(nn.Module):
    """``D(x) -> DOutput`` for ``x = cat(a, b)``, shape ``(N, channels, H, W)``; ``logits``
    ``(N, 1, H', W')`` (pixel: ``H' = H``; patch: ``patchgan_output_size(H, patch_layers)``) or
    ``(N,)`` (image). ``width``: channels of the first conv (64 in pix2pix)."""

    def __init__(
        self,
        channels: int,
        size: tuple[int, int],
        width: int = 64,
        field: Field = "patch",
        patch_layers: int = 1,
        norm: PairNorm = "batch",
    ) -> None:
        super().__init__()
        if channels < 1 or width < 1:
            raise ConfigError(f"PairDiscriminator needs channels >= 1 and width >= 1, got {channels}, {width}")
        if field not in FIELDS:
            raise ConfigError(f"unknown discriminator field {field!r} (known: {', '.join(FIELDS)})")
        h, w = (int(s) for s in size)
        self.channels, self.size, self.field = int(channels), (h, w), field
        blocks: list[nn.Module] = []
        if field == "pixel":
            blocks = [_block(channels, width, 1, 1, 0, norm, True), _block(width, 2 * width, 1, 1, 0, norm, False)]
            self.head: nn.Module = nn.Conv2d(2 * width, 1, 1)
        elif field == "patch":
            if patch_layers < 1 or min(patchgan_output_size(s, patch_layers) for s in (h, w)) < 1:
                raise ConfigError(f"a PatchGAN with model.d_patch_layers={patch_layers} needs images larger "
                                  f"than {h}x{w}")
            chans = [width * min(2**i, MAX_MULT) for i in range(patch_layers + 1)]
            blocks = [_block(channels, chans[0], KERNEL, 2, PAD, norm, True)]
            blocks += [_block(chans[i - 1], chans[i], KERNEL, 2, PAD, norm, False) for i in range(1, patch_layers)]
            blocks.append(_block(chans[patch_layers - 1], chans[patch_layers], KERNEL, 1, PAD, norm, False))
            self.head = nn.Conv2d(chans[patch_layers], 1, KERNEL, 1, PAD)
        else:
            stages = image_gan_stages(min(h, w))
            chans = [width * min(2**i, MAX_MULT) for i in range(stages)]
            blocks = [_block(channels, chans[0], KERNEL, 2, PAD, norm, True)]
            blocks += [_block(chans[i - 1], chans[i], KERNEL, 2, PAD, norm, False) for i in range(1, stages)]
            side_h, side_w = h >> stages, w >> stages  # k4 s2 p1 floors every halving
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(chans[-1] * side_h * side_w, 1))
        self.blocks = nn.ModuleList(blocks)
        dcgan_init_(self)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        who = type(self).__name__
        if x.dim() != 4 or x.shape[0] == 0 or tuple(x.shape[1:]) != (self.channels, *self.size):
            raise ShapeError(f"{who}: x = cat(a, b) must have shape (N, {self.channels}, {self.size[0]}, "
                             f"{self.size[1]}), got {tuple(x.shape)}")
        if c is not None:
            raise ShapeError(f"{who} is conditioned on the source image, not on class labels")
        hidden: dict[str, torch.Tensor] = {}
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)  # (N, C_i, H_i, W_i)
            hidden[f"h{i}"] = h
        logits = self.head(h)  # (N, 1, H', W') or (N, 1)
        if self.field == "image":
            logits = logits.squeeze(1)  # (N,)
        return DOutput(logits=logits, features=h.flatten(1), extra=hidden)
