"""Residual blocks of SNGAN's CIFAR networks (Miyato et al. 2018, "Spectral Normalization for
Generative Adversarial Networks", App. B.4; after Gulrajani et al. 2017's ResNet WGAN-GP), a
class-conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018) and SAGAN's
self-attention block (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks").

Initialisation follows SNGAN's code: Xavier-uniform weights with gain √2 in the residual
branches, gain 1 in shortcuts and heads, zero biases. ``zero_init`` zeroes the last
convolution of each residual branch so every block starts as its shortcut (Fixup-like,
Zhang et al. 2019 "Fixup Initialization"; R3GAN's networks start this way).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BRANCH_GAIN = math.sqrt(2.0)  # Xavier gain of the convolutions inside a residual branch (ReLU)


def xavier_(layer: nn.Module, gain: float = 1.0) -> nn.Module:
    nn.init.xavier_uniform_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def conv3x3(c_in: int, c_out: int, gain: float = BRANCH_GAIN) -> nn.Conv2d:
    return xavier_(nn.Conv2d(c_in, c_out, 3, 1, 1), gain)


def conv1x1(c_in: int, c_out: int) -> nn.Conv2d:
    return xavier_(nn.Conv2d(c_in, c_out, 1, 1, 0))


class CondBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift depend on the class: ``γ[c] · BN(x) + β[c]``
    (conditional batch norm, de Vries et al. 2017; SNGAN's conditional G). ``γ`` starts at 1,
    ``β`` at 0; with ``num_classes = 0`` it is a plain ``BatchNorm2d``."""

    def __init__(self, channels: int, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(channels, affine=num_classes == 0)
        if num_classes:
            self.gamma = nn.Embedding(num_classes, channels)
            self.beta = nn.Embedding(num_classes, channels)
            nn.init.ones_(self.gamma.weight)
            nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.bn(x)  # (N, C, H, W)
        if not self.num_classes:
            return h
        return self.gamma(c)[:, :, None, None] * h + self.beta(c)[:, :, None, None]  # (N, C, H, W)


class GBlock(nn.Module):
    """G's upsampling residual block: ``x ↑ → conv1x1`` (shortcut, when the width changes) plus
    ``norm → ReLU → ↑2 (nearest) → conv3x3 → norm → ReLU → conv3x3``; ``(N, C_in, S, S) ->
    (N, C_out, 2S, 2S)``. ``norm``: (conditional) batch norm, or none."""

    def __init__(self, c_in: int, c_out: int, num_classes: int = 0, norm: bool = True, zero_init: bool = False):
        super().__init__()
        self.norm1 = CondBatchNorm2d(c_in, num_classes) if norm else None
        self.norm2 = CondBatchNorm2d(c_out, num_classes) if norm else None
        self.conv1, self.conv2 = conv3x3(c_in, c_out), conv3x3(c_out, c_out)
        self.shortcut = conv1x1(c_in, c_out) if c_in != c_out else None
        if zero_init:
            nn.init.zeros_(self.conv2.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm1(x, c) if self.norm1 is not None else x
        h = F.interpolate(F.relu(h), scale_factor=2, mode="nearest")  # (N, C_in, 2S, 2S)
        h = self.conv1(h)  # (N, C_out, 2S, 2S)
        h = self.norm2(h, c) if self.norm2 is not None else h
        h = self.conv2(F.relu(h))  # (N, C_out, 2S, 2S)
        skip = F.interpolate(x, scale_factor=2, mode="nearest")  # (N, C_in, 2S, 2S)
        return h + (self.shortcut(skip) if self.shortcut is not None else skip)


class DBlock(nn.Module):
    """D's residual block: ``[ReLU →] conv3x3 → ReLU → conv3x3 [→ avgpool 2]`` plus a shortcut
    ``[conv1x1 →] [avgpool 2]`` (a learnt 1x1 conv when the width changes or it downsamples).
    ``first``: SNGAN's "optimized" first block (no ReLU before the first conv, shortcut pooled
    before its conv); ``(N, C_in, S, S) -> (N, C_out, S/2, S/2)`` when ``down``."""

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool = False, zero_init: bool = False) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1, self.conv2 = conv3x3(c_in, c_out), conv3x3(c_out, c_out)
        self.shortcut = conv1x1(c_in, c_out) if (c_in != c_out or down) else None
        if zero_init:
            nn.init.zeros_(self.conv2.weight)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.down else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = self._pool(self.conv2(F.relu(self.conv1(h))))  # (N, C_out, S', S')
        if self.shortcut is None:
            return h + x
        skip = self.shortcut(self._pool(x)) if self.first else self._pool(self.shortcut(x))  # (N, C_out, S', S')
        return h + skip


class SelfAttention(nn.Module):
    """SAGAN's self-attention block (Zhang et al. 2019, eq. 1-3): with ``f, g`` 1x1 convs to
    ``C/8`` channels and ``h`` to ``C/2``,

        β = softmax_j(f(x)_i · g(x)_j),   o = v(Σ_j β_ij h(x)_j),   y = x + γ o

    over all ``S²`` positions; ``γ`` starts at 0, so the block starts as the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        key = max(channels // 8, 1)
        value = max(channels // 2, 1)
        self.f, self.g, self.h = conv1x1(channels, key), conv1x1(channels, key), conv1x1(channels, value)
        self.v = conv1x1(value, channels)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, ch, s1, s2 = x.shape
        q = self.f(x).flatten(2)  # (N, C/8, S²)
        k = self.g(x).flatten(2)  # (N, C/8, S²)
        v = self.h(x).flatten(2)  # (N, C/2, S²)
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k), dim=-1)  # (N, S², S²): row i over positions j
        o = torch.bmm(v, attn.transpose(1, 2)).view(n, -1, s1, s2)  # (N, C/2, S, S)
        return x + self.gamma * self.v(o)  # (N, C, S, S)


# --------------------------------------------------------------------------- R3GAN-style blocks

R3_LEAK = 0.2  # LeakyReLU slope of R3GAN's blocks


class R3Block(nn.Module):
    """R3GAN's residual block (Huang et al. 2024, Sec. 4, after ConvNeXt): an inverted bottleneck
    ``1×1 conv (C → E·C) → LeakyReLU → grouped 3×3 conv → LeakyReLU → 1×1 conv (E·C → C)`` added
    to the input, no normalisation. Fix-up-like initialisation (Zhang et al. 2019): the last
    conv is zero (the block starts as the identity) and the first two are He-initialised and
    scaled by ``L^(-1/4)`` for ``L`` blocks in the network (``L^(-1/(2m-2))`` with m = 3 layers)."""

    def __init__(self, channels: int, expansion: int = 2, group_size: int = 16, total_blocks: int = 1) -> None:
        super().__init__()
        hidden = channels * expansion
        groups = hidden // group_size if hidden % group_size == 0 and hidden >= group_size else 1
        self.conv1 = nn.Conv2d(channels, hidden, 1)
        self.conv2 = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=groups)
        self.conv3 = nn.Conv2d(hidden, channels, 1)
        scale = float(total_blocks) ** -0.25
        for conv in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(conv.weight, a=R3_LEAK, nonlinearity="leaky_relu")
            with torch.no_grad():
                conv.weight.mul_(scale)
            nn.init.zeros_(conv.bias)
        nn.init.zeros_(self.conv3.weight)
        nn.init.zeros_(self.conv3.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(x), R3_LEAK)  # (N, E·C, S, S)
        h = F.leaky_relu(self.conv2(h), R3_LEAK)  # (N, E·C, S, S)
        return x + self.conv3(h)  # (N, C, S, S)


class R3GBlock(nn.Module):
    """G's stage in R3GAN's style: bilinear ×2 upsampling, then an ``R3Block``;
    ``(N, C, S, S) -> (N, C, 2S, 2S)``. ``c`` is accepted (and unused) like ``GBlock``'s."""

    def __init__(self, channels: int, total_blocks: int) -> None:
        super().__init__()
        self.block = R3Block(channels, total_blocks=total_blocks)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.block(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


class R3DBlock(nn.Module):
    """D's stage in R3GAN's style: an ``R3Block`` then 2×2 average pooling when ``down``; the
    first stage maps the image's channels to the width with a 1×1 conv before it."""

    def __init__(self, c_in: int, channels: int, down: bool, total_blocks: int) -> None:
        super().__init__()
        self.stem = conv1x1(c_in, channels) if c_in != channels else None
        self.block = R3Block(channels, total_blocks=total_blocks)
        self.down = down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block(self.stem(x) if self.stem is not None else x)  # (N, C, S, S)
        return F.avg_pool2d(h, 2) if self.down else h
