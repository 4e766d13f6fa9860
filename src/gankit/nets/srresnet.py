"""SRResNet and the SRGAN discriminator (Ledig et al. 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network", Fig. 4).

**Generator** ``G(x_LR) -> x_SR``, ``(N, C, h, w) -> (N, C, s·h, s·w)`` for scale ``s = 2^m``,
with ``k = width`` (64 in the paper) and ``B`` residual blocks (16)::

    conv9-k, PReLU                                        (u)
    B × [conv3-k, BN, PReLU, conv3-k, BN] + skip
    conv3-k, BN, + u                                      (the long skip)
    m × [conv3-4k, PixelShuffle(2), PReLU]                (sub-pixel up-sampling, Shi et al. 2016)
    conv9-C, tanh

All convs stride 1 with "same" padding. The output is in ``[-1, 1]`` like every gankit G.

**Discriminator** ``D(x) -> DOutput(logits (N,))``: conv3-k + LeakyReLU(0.2), then seven
conv3 + BN + LeakyReLU layers with channels ``k, 2k, 2k, 4k, 4k, 8k, 8k`` and strides
``2, 1, 2, 1, 2, 1, 2``, then Dense(1024) + LeakyReLU and Dense(1) (the paper's sigmoid is
in the loss). ``features`` is the Dense(1024) activation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.config import ModelConfig
from gankit.nets.discriminator import build_discriminator
from gankit.nets.registry import NETWORKS, Family

OUTER_KERNEL, INNER_KERNEL = 9, 3
LEAK = 0.2
D_PLAN = ((1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2))  # (width multiple, stride) after the first conv
D_DENSE = 1024

__all__ = ["SRResNet", "SRGANDiscriminator", "SRResNetConfig", "build_srresnet"]


def _conv(c_in: int, c_out: int, kernel: int, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2, bias=bias)


class SRResidualBlock(nn.Module):
    """``x + [conv3, BN, PReLU, conv3, BN](x)``, ``(N, k, h, w)`` kept."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, INNER_KERNEL, bias=False), nn.BatchNorm2d(channels), nn.PReLU(channels),
            _conv(channels, channels, INNER_KERNEL, bias=False), nn.BatchNorm2d(channels),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # (N, k, h, w)


class SRResNet(nn.Module):
    """The SRResNet generator (see the module docstring): low-resolution images ``(N, channels,
    *in_size)`` to ``(N, channels, scale·h, scale·w)``; ``scale`` a power of two. Any other input
    size is refused with one ``ShapeError`` line."""

    def __init__(self, channels: int, in_size: tuple[int, int], scale: int = 4, width: int = 64,
                 blocks: int = 16) -> None:
        super().__init__()
        if channels < 1 or width < 1 or blocks < 0:
            raise ConfigError(f"SRResNet needs channels >= 1, width >= 1, blocks >= 0, got {channels}, {width}, "
                              f"{blocks}")
        if scale < 2 or scale & (scale - 1):
            raise ConfigError(f"SRResNet up-samples by a power of two >= 2, got scale {scale}")
        self.channels, self.scale = int(channels), int(scale)
        self.in_size = (int(in_size[0]), int(in_size[1]))
        self.head = nn.Sequential(_conv(channels, width, OUTER_KERNEL), nn.PReLU(width))
        self.blocks = nn.Sequential(*(SRResidualBlock(width) for _ in range(blocks)))
        self.trunk_out = nn.Sequential(_conv(width, width, INNER_KERNEL, bias=False), nn.BatchNorm2d(width))
        up: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            up += [_conv(width, 4 * width, INNER_KERNEL), nn.PixelShuffle(2), nn.PReLU(width)]
        self.upsample = nn.Sequential(*up)
        self.tail = nn.Sequential(_conv(width, channels, OUTER_KERNEL), nn.Tanh())

    @property
    def out_size(self) -> tuple[int, int]:
        return self.in_size[0] * self.scale, self.in_size[1] * self.scale

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h, w = self.in_size
        if x.dim() != 4 or x.shape[1] != self.channels or tuple(x.shape[2:]) != self.in_size or x.shape[0] == 0:
            raise ShapeError(f"SRResNet x{self.scale} upscales images of shape (N, {self.channels}, {h}, {w}), "
                             f"got {tuple(x.shape)}")
        u = self.head(x)  # (N, k, h, w)
        t = self.trunk_out(self.blocks(u)) + u  # (N, k, h, w)
        return self.tail(self.upsample(t))  # (N, C, s·h, s·w)


class SRGANDiscriminator(nn.Module):
    """The SRGAN discriminator (see the module docstring) for images ``(N, channels, H, W)``."""

    def __init__(self, channels: int, size: tuple[int, int], width: int = 64) -> None:
        super().__init__()
        if channels < 1 or width < 1:
            raise ConfigError(f"SRGAN D needs channels >= 1 and width >= 1, got {channels}, {width}")
        self.channels, self.size = int(channels), (int(size[0]), int(size[1]))
        layers: list[nn.Module] = [_conv(channels, width, INNER_KERNEL), nn.LeakyReLU(LEAK, inplace=True)]
        ch, (h, w) = width, self.size
        for mult, stride in D_PLAN:
            layers += [nn.Conv2d(ch, width * mult, INNER_KERNEL, stride, 1, bias=False), nn.BatchNorm2d(width * mult),
                       nn.LeakyReLU(LEAK, inplace=True)]
            ch = width * mult
            h, w = (h - 1) // stride + 1, (w - 1) // stride + 1  # k3 p1
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.dense = nn.Sequential(nn.Linear(ch * h * w, D_DENSE), nn.LeakyReLU(LEAK, inplace=True))
        self.head = nn.Linear(D_DENSE, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        if x.dim() != 4 or x.shape[1] != self.channels or tuple(x.shape[2:]) != self.size or x.shape[0] == 0:
            raise ShapeError(f"SRGANDiscriminator: x must have shape (N, {self.channels}, {self.size[0]}, "
                             f"{self.size[1]}), got {tuple(x.shape)}")
        features = self.dense(self.body(x))  # (N, 1024)
        return DOutput(logits=self.head(features).squeeze(1), features=features)  # (N,)


@dataclass(frozen=True)
class SRResNetConfig(ModelConfig):
    """``[model]`` keys of SRResNet (``model.arch=srresnet``): ``g_width`` is ``k`` (64 in the
    paper), ``d_width`` the SRGAN D's first width (64)."""

    arch: str = "srresnet"
    sr_blocks: int = 16  # residual blocks B (Ledig et al.: 16)
    d_norm: Literal["batch", "instance", "layer", "none"] = "batch"  # D norm under model.d_arch=patchgan only

    def check(self) -> None:
        if self.sr_blocks < 0:
            raise ConfigError(f"model.sr_blocks must be >= 0, got {self.sr_blocks}")
        if self.conditional:
            raise ConfigError("model.arch=srresnet takes no class labels (model.conditional=false)")


def sr_geometry(spec: NetSpec) -> tuple[int, tuple[int, int], int]:
    """``(channels, low-resolution size, scale)`` from ``spec``: output ``spec.sample_shape``
    ``(C, H, W)``, input ``spec.input_shape`` ``(C, H/s, W/s)``, ``s`` a power of two."""
    out = tuple(spec.sample_shape)
    inp = tuple(spec.input_shape or ())
    if len(out) != 3 or len(inp) != 3:
        raise ConfigError(f"SRResNet needs low- and high-resolution images (C, H, W), got input {inp or None} "
                          f"and output {out}")
    if inp[0] != out[0]:
        raise ConfigError(f"SRResNet keeps the channels: input has {inp[0]}, output {out[0]}")
    scale = out[1] // inp[1]
    if out[1] != scale * inp[1] or out[2] != scale * inp[2] or scale < 2 or scale & (scale - 1):
        raise ConfigError(f"SRResNet up-samples by a power of two: {inp[1]}x{inp[2]} -> {out[1]}x{out[2]} is not")
    return out[0], (inp[1], inp[2]), scale


def build_srresnet(cfg: Any, spec: NetSpec) -> tuple[SRResNet, nn.Module]:
    """``(G, D)``: SRResNet from ``spec.input_shape`` to ``spec.sample_shape`` and a D of the
    high-resolution images (the family's own: the SRGAN D; or ``cfg.d_arch``)."""
    channels, in_size, scale = sr_geometry(spec)
    g = SRResNet(channels, in_size, scale, cfg.g_width, cfg.sr_blocks)

    def family_d(d_spec: NetSpec) -> SRGANDiscriminator:
        return SRGANDiscriminator(d_spec.sample_shape[0], tuple(d_spec.sample_shape[1:]), cfg.d_width)

    return g, build_discriminator(cfg, NetSpec(tuple(spec.sample_shape), spec.num_classes, spec.pack), family_d)


NETWORKS.add("srresnet", Family(SRResNetConfig, build_srresnet),
             "SRResNet super-resolution G (PixelShuffle) and the SRGAN D (Ledig et al. 2017)")
