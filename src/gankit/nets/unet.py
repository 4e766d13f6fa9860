"""U-Net generator for paired image translation (Isola et al. 2017, "Image-to-Image Translation
with Conditional Adversarial Networks", §3.2.1 and App. 6.1.1; Ronneberger et al. 2015), and the
``unet`` network family: ``G(a) -> b`` with the conditional discriminator ``D(cat(a, b))`` of
``nets.pair_discriminator``.

**Depth follows the resolution.** The input is padded (replicating its border) to ``P × P``,
``P`` the smallest power of two ``>= max(H, W)`` (28 -> 32), and halved ``depth = log2(P)``
times down to a 1×1 bottleneck, as the paper's 256 px net; the output is cropped back to
``H × W``. ``depth`` may be set lower (a larger bottleneck).

Encoder (k4 s2 p1 convs): C(w) - C(2w) - C(4w) - C(8w) - C(8w) ..., LeakyReLU(0.2) before every
conv but the first, norm after every conv but the first and the innermost. Decoder (k4 s2 p1
transposed convs): ReLU - ConvT - norm [- dropout], mirrored; with skips, decoder level ``i``
reads ``cat(up_i, down_i)`` (twice the channels); without skips (``skips=False``) it is the
paper's encoder–decoder ablation. The last level maps to the output channels with ``tanh``.
Dropout (p = 0.5) on the ``dropout_layers`` decoder levels after the innermost is G's only noise
(the paper's §3.2); ``dropout_at_test`` keeps it on in eval mode too, as the paper does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import NetSpec
from gankit.nets.config import ModelConfig
from gankit.nets.discriminator import build_discriminator
from gankit.nets.init import dcgan_init_
from gankit.nets.pair_discriminator import FIELDS, PairDiscriminator, PairNorm, pair_norm
from gankit.nets.registry import NETWORKS, Family

KERNEL, STRIDE, PAD = 4, 2, 1  # every level halves / doubles the side
LEAK = 0.2
MAX_MULT = 8  # channel multiplier cap (pix2pix: 64 ... 512)
GNorm = Literal["batch", "instance", "none"]


class TranslationDropout(nn.Dropout):
    """Dropout that stays on in eval mode when ``always`` (pix2pix's test-time noise)."""

    def __init__(self, p: float, always: bool = False) -> None:
        super().__init__(p)
        self.always = always

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, self.training or self.always)


def unet_padded_side(height: int, width: int) -> int:
    """``P``: the smallest power of two ``>= max(height, width)`` (28 -> 32, 32 -> 32)."""
    return 1 << max(1, math.ceil(math.log2(max(height, width))))


class UNetGenerator(nn.Module):
    """``G(a) -> b``: ``(N, in_channels, H, W) -> (N, out_channels, H, W)`` in ``[-1, 1]``.

    ``width``: channels of the first encoder level. ``depth``: levels (0 = ``log2(P)``, the
    1×1 bottleneck). ``skips``: U-Net skip connections (False: encoder–decoder). ``norm``:
    ``"batch"`` (pix2pix), ``"instance"`` or ``"none"``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        size: tuple[int, int],
        width: int = 64,
        depth: int = 0,
        skips: bool = True,
        dropout: float = 0.5,
        dropout_layers: int = 3,
        dropout_at_test: bool = False,
        norm: GNorm = "batch",
    ) -> None:
        super().__init__()
        h, w = (int(s) for s in size)
        if min(in_channels, out_channels, width, h, w) < 1:
            raise ConfigError(f"U-Net needs positive channels, width and size, got {in_channels}, {out_channels}, "
                              f"{width}, {(h, w)}")
        side = unet_padded_side(h, w)
        max_depth = int(math.log2(side))
        depth = depth or max_depth
        if not 1 <= depth <= max_depth:
            raise ConfigError(f"model.unet_depth must be in 1..{max_depth} for {h}x{w} images, got {depth}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model.unet_dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.out_channels, self.size = int(in_channels), int(out_channels), (h, w)
        self.side, self.depth, self.skips = side, depth, bool(skips)
        chans = [width * min(2**i, MAX_MULT) for i in range(depth)]
        down: list[nn.Module] = [nn.Conv2d(in_channels, chans[0], KERNEL, STRIDE, PAD)]
        for i in range(1, depth):
            innermost = i == depth - 1
            layers: list[nn.Module] = [nn.LeakyReLU(LEAK), nn.Conv2d(chans[i - 1], chans[i], KERNEL, STRIDE, PAD)]
            if not innermost and norm != "none":
                layers.append(pair_norm(norm, chans[i]))
            down.append(nn.Sequential(*layers))
        up: list[nn.Module] = []
        for i in reversed(range(depth)):  # decoder level i undoes encoder level i
            c_in = chans[i] * (2 if skips and i < depth - 1 else 1)
            if i == 0:
                up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, KERNEL, STRIDE, PAD),
                                        nn.Tanh()))
                continue
            layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, chans[i - 1], KERNEL, STRIDE, PAD)]
            if norm != "none":
                layers.append(pair_norm(norm, chans[i - 1]))
            if dropout > 0 and depth - 1 - dropout_layers <= i < depth - 1:
                layers.append(TranslationDropout(dropout, dropout_at_test))
            up.append(nn.Sequential(*layers))
        self.down, self.up = nn.ModuleList(down), nn.ModuleList(up)
        dcgan_init_(self)

    def forward(self, a: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        who = type(self).__name__
        if a.dim() != 4 or a.shape[0] == 0 or tuple(a.shape[1:]) != (self.in_channels, *self.size):
            raise ShapeError(f"{who}: a must have shape (N, {self.in_channels}, {self.size[0]}, {self.size[1]}), "
                             f"got {tuple(a.shape)}")
        if c is not None:
            raise ShapeError(f"{who} translates images; it takes no class labels")
        h, w = self.size
        x = F.pad(a, (0, self.side - w, 0, self.side - h), mode="replicate") if (h, w) != (self.side,) * 2 else a
        skips: list[torch.Tensor] = []
        for level in self.down:
            x = level(x)  # (N, C_i, P / 2^(i+1), P / 2^(i+1))
            skips.append(x)
        x = self.up[0](skips[-1])  # (N, C_{d-2}, ...): the innermost level has nothing to concatenate
        for j, level in enumerate(self.up[1:], start=1):
            if self.skips:
                x = torch.cat([x, skips[self.depth - 1 - j]], dim=1)  # (N, 2·C_i, ...)
            x = level(x)
        return x[:, :, :h, :w]  # (N, out_channels, H, W)


@dataclass(frozen=True)
class UNetConfig(ModelConfig):
    """``[model]`` keys of the U-Net family (``model.arch=unet``): G(a) -> b and D(cat(a, b))."""

    arch: str = "unet"
    unet_skips: bool = True  # U-Net skip connections; false = the encoder-decoder ablation (Isola et al. §4.3)
    unet_depth: int = 0  # encoder levels; 0 = down to a 1x1 bottleneck (log2 of the padded side)
    unet_dropout: float = 0.5  # dropout p on decoder levels after the innermost: G's noise (Isola et al. §3.2)
    unet_dropout_layers: int = 3  # decoder levels with dropout (pix2pix: 3)
    unet_dropout_at_test: bool = False  # keep dropout on when sampling (the paper does; off = deterministic outputs)
    g_norm: GNorm = "batch"  # normalisation in G
    d_norm: PairNorm = "batch"  # normalisation in D's hidden layers
    d_field: Literal["pixel", "patch", "image"] = "patch"  # D's receptive field: 1x1 PixelGAN | PatchGAN | ImageGAN
    d_patch_layers: int = 1  # d_field=patch: stride-2 convs (16 px patches for 1, 34 px for 2)

    def check(self) -> None:
        for key in ("unet_depth", "unet_dropout_layers"):
            if getattr(self, key) < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {getattr(self, key)}")
        if not 0.0 <= self.unet_dropout < 1.0:
            raise ConfigError(f"model.unet_dropout must be in [0, 1), got {self.unet_dropout}")
        if self.d_field not in FIELDS:
            raise ConfigError(f"model.d_field must be one of {', '.join(FIELDS)}, got {self.d_field!r}")
        if self.d_patch_layers < 1:
            raise ConfigError(f"model.d_patch_layers must be >= 1, got {self.d_patch_layers}")
        if self.conditional:
            raise ConfigError("model.arch=unet is conditioned on the source image; leave model.conditional=false")


def pair_shapes(spec: NetSpec) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """``(input (C_a, H, W), output (C_b, H, W))`` of a translation spec, or ``ConfigError``."""
    if spec.input_shape is None:
        raise ConfigError("model.arch=unet translates images: it needs paired data with an input field (a recipe "
                          "such as pix2pix)")
    a, b = tuple(int(s) for s in spec.input_shape), tuple(int(s) for s in spec.sample_shape)
    if len(a) != 3 or len(b) != 3:
        raise ConfigError(f"model.arch=unet needs images (C, H, W), got input {a} and output {b}")
    if a[1:] != b[1:]:
        raise ConfigError(f"model.arch=unet maps images to images of the same size, got input {a[1:]} and "
                          f"output {b[1:]}")
    return a, b  # type: ignore[return-value]


def build_unet(cfg: Any, spec: NetSpec) -> tuple[UNetGenerator, nn.Module]:
    """U-Net ``G`` for ``spec.input_shape -> spec.sample_shape`` (width ``cfg.g_width``) and the
    conditional ``D`` over ``cat(a, b)`` of ``cfg.d_arch``: the family's own ``PairDiscriminator``
    (receptive field ``cfg.d_field``, width ``cfg.d_width``, norm ``cfg.d_norm``), or e.g. the
    ``patchgan`` D built for ``C_a + C_b`` channels."""
    a, b = pair_shapes(spec)
    g = UNetGenerator(a[0], b[0], b[1:], cfg.g_width, cfg.unet_depth, cfg.unet_skips, cfg.unet_dropout,
                      cfg.unet_dropout_layers, cfg.unet_dropout_at_test, cfg.g_norm)
    pair = NetSpec((a[0] + b[0], *b[1:]), spec.num_classes, spec.pack)

    def family_d(d_spec: NetSpec) -> PairDiscriminator:
        c, h, w = d_spec.sample_shape
        return PairDiscriminator(c, (h, w), cfg.d_width, cfg.d_field, cfg.d_patch_layers, cfg.d_norm)

    return g, build_discriminator(cfg, pair, family_d)


NETWORKS.add("unet", Family(UNetConfig, build_unet),
             "U-Net G(a) -> b and conditional PatchGAN D(a, b) (Isola et al. 2017), paired translation")
