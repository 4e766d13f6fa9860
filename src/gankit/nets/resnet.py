"""ResNet generator and discriminator, SNGAN's CIFAR-style networks (Miyato et al. 2018,
"Spectral Normalization for GANs", App. B.4), any ``s0·2^k`` resolution (28 and 32 included).

**G**: ``z`` → Linear → ``(g_width, s0, s0)`` → ``k`` upsampling residual blocks (each
doubling the side, ``nets.resnet_blocks.GBlock``) → norm → ReLU → conv3x3 → tanh. With
``model.conditional`` and batch norm, every norm is a conditional batch norm (class-dependent
scale and shift, as SNGAN's conditional G); with ``g_norm = "none"`` (normalisation-free, as
R3GAN) the label embedding is concatenated to ``z`` instead.

**D**: SNGAN's optimized first block and downsampling residual blocks, halving the side
while it is above 8 (at least once: 32 → 8 as SNGAN's CIFAR D, 28 → 7, 16 → 8, 8 → 4), then
``d_extra_blocks`` blocks at that size, ReLU, sum over positions → ``features (N, d_width)``,
Linear → logit. Class conditioning is the projection term ``⟨E[c], features⟩`` (Miyato &
Koyama 2018). Spectral norm: ``model.d_spectral_norm``.

``res_block = "r3gan"`` swaps the blocks for R3GAN's (Huang et al. 2024): normalisation-free
inverted bottlenecks with a grouped 3×3 convolution and LeakyReLU, bilinear upsampling in G and
average pooling in D, Fix-up-like initialisation (``nets.resnet_blocks.R3Block``); simplified:
constant widths, no transition 1×1 convs between stages, one block per stage.

``attn_res > 0`` adds SAGAN's self-attention block (Zhang et al. 2019) where G's and D's
feature maps have that side. The widths are constant through the blocks (``g_width`` in G,
``d_width`` in D), as in SNGAN (256 / 128 for CIFAR-10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import DOutput, NetSpec, family_d_output, minibatch_logit
from gankit.nets.conditioning import (
    LabelEmbedding,
    ProjectionHead,
    check_labels,
    check_latent,
    check_samples,
    conditional_classes,
    default_label_dim,
)
from gankit.nets.config import ModelConfig
from gankit.nets.dcgan import dcgan_geometry
from gankit.nets.discriminator import build_discriminator
from gankit.nets.heads import aux_heads
from gankit.nets.registry import NETWORKS, Family
from gankit.nets.resnet_blocks import (
    CondBatchNorm2d,
    DBlock,
    GBlock,
    R3DBlock,
    R3GBlock,
    SelfAttention,
    conv3x3,
    xavier_,
)

D_END = 8  # D halves the side while it is above this (SNGAN's CIFAR D: 32 -> 16 -> 8)


def _geometry(resolution: int) -> tuple[int, int, list[int], list[int]]:
    """``(s0, k, G's sides, D's sides)``: the sides of G's maps from the first (s0) to the
    last block, and of D's maps after each of its downsampling blocks."""
    s0, k = dcgan_geometry(resolution)
    g_sides = [s0 * 2**i for i in range(k + 1)]
    d_sides = [resolution // 2]
    while d_sides[-1] > D_END and d_sides[-1] % 2 == 0:
        d_sides.append(d_sides[-1] // 2)
    return s0, k, g_sides, d_sides


def _check_attn(attn_res: int, resolution: int) -> None:
    if attn_res == 0:
        return
    _, _, g_sides, d_sides = _geometry(resolution)
    both = sorted(set(g_sides) & set(d_sides))
    if attn_res not in both:
        raise ConfigError(f"model.attn_res={attn_res} is not a feature-map side of both ResNet nets at resolution "
                          f"{resolution}; choose one of {both or 'none (use 0)'}, or 0")


class ResNetGenerator(nn.Module):
    """``G(z, c) -> x``, shape ``(N, channels, resolution, resolution)``, in ``[-1, 1]`` (see module doc)."""

    def __init__(self, z_dim: int, resolution: int, channels: int, width: int, num_classes: int = 0,
                 norm: bool = True, attn_res: int = 0, zero_init: bool = False, block: str = "sngan") -> None:
        super().__init__()
        s0, _, sides, _ = _geometry(resolution)
        _check_attn(attn_res, resolution)
        self.z_dim, self.num_classes = int(z_dim), int(num_classes)
        self.sample_shape = (int(channels), int(resolution), int(resolution))
        self.s0, self.width = s0, int(width)
        block_classes = num_classes if norm else 0  # conditional batch norm
        self.label = None
        in_dim = self.z_dim
        if num_classes and not norm:
            self.label = LabelEmbedding(num_classes, default_label_dim(num_classes))
            in_dim += self.label.label_dim
        self.fc = xavier_(nn.Linear(in_dim, width * s0 * s0))
        self.attn_first = SelfAttention(width) if attn_res == s0 else None
        if block == "r3gan":
            self.blocks = nn.ModuleList(R3GBlock(width, len(sides) - 1) for _ in sides[1:])
        else:
            self.blocks = nn.ModuleList(GBlock(width, width, block_classes, norm, zero_init) for _ in sides[1:])
        self.attn = nn.ModuleList(SelfAttention(width) if side == attn_res else nn.Identity() for side in sides[1:])
        self.norm = CondBatchNorm2d(width, block_classes) if norm else None
        self.out = conv3x3(width, channels, gain=1.0)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        check_latent(z, self.z_dim, type(self).__name__)
        check_labels(c, z.shape[0], self.num_classes, type(self).__name__)
        h = self.label(z, c) if self.label is not None else z  # (N, z_dim [+ L])
        h = self.fc(h).view(-1, self.width, self.s0, self.s0)  # (N, W, s0, s0)
        if self.attn_first is not None:
            h = self.attn_first(h)
        for block, attn in zip(self.blocks, self.attn):
            h = attn(block(h, c))  # (N, W, 2S, 2S)
        h = self.norm(h, c) if self.norm is not None else h
        return torch.tanh(self.out(torch.relu(h)))  # (N, C, R, R)


class ResNetDiscriminator(nn.Module):
    """``D(x, c) -> DOutput`` for ``(N, channels, resolution, resolution)`` (see module doc);
    ``features`` ``(N, width)`` are the ReLU'd last map summed over positions."""

    def __init__(self, resolution: int, channels: int, width: int, num_classes: int = 0, extra_blocks: int = 2,
                 attn_res: int = 0, zero_init: bool = False, minibatch: Any = None, class_head: int = 0,
                 q_categorical: int = 0, q_continuous: int = 0, q_hidden: int = 0, block: str = "sngan") -> None:
        super().__init__()
        _, _, _, sides = _geometry(resolution)
        _check_attn(attn_res, resolution)
        self.num_classes = int(num_classes)
        self.sample_shape = (int(channels), int(resolution), int(resolution))
        layers: list[nn.Module] = []
        total = len(sides) + extra_blocks
        for i, side in enumerate(sides):
            c_in = channels if i == 0 else width
            layers.append(R3DBlock(c_in, width, True, total) if block == "r3gan" else
                          DBlock(c_in, width, down=True, first=i == 0, zero_init=zero_init))
            if side == attn_res:
                layers.append(SelfAttention(width))
        layers += [R3DBlock(width, width, False, total) if block == "r3gan" else
                   DBlock(width, width, down=False, zero_init=zero_init) for _ in range(extra_blocks)]
        self.body = nn.Sequential(*layers)
        self.feature_dim = int(width)
        self.head = xavier_(nn.Linear(width, 1))
        self.projection = ProjectionHead(self.num_classes, width) if self.num_classes else None
        self.minibatch = minibatch(width) if callable(minibatch) and not isinstance(minibatch, nn.Module) else minibatch
        self.aux = aux_heads(width, class_head, q_categorical, q_continuous, q_hidden)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        check_samples(x, self.sample_shape, type(self).__name__)
        check_labels(c, x.shape[0], self.num_classes, type(self).__name__)
        features = torch.relu(self.body(x)).sum(dim=(2, 3))  # (N, W)
        logits = self.head(features).squeeze(1)  # (N,)
        return family_d_output(logits, features, c, self.minibatch, self.projection, self.aux)


@dataclass(frozen=True)
class ResNetConfig(ModelConfig):
    """``[model]`` keys of the ResNet family (``model.arch=resnet``)."""

    arch: str = "resnet"
    g_norm: Literal["batch", "none"] = "batch"  # G's blocks: batch norm (conditional with model.conditional) | none
    d_extra_blocks: int = 2  # D: residual blocks after the last downsampling one (SNGAN CIFAR: 2)
    attn_res: int = 0  # SAGAN self-attention block at this feature-map side in G and D (e.g. 8 or 16); 0 = none
    res_zero_init: bool = False  # zero the last conv of every residual branch: blocks start as identity (Fixup-like)
    res_block: Literal["sngan", "r3gan"] = "sngan"  # r3gan: normalisation-free inverted bottlenecks, grouped convs

    def check(self) -> None:
        if self.d_extra_blocks < 0:
            raise ConfigError(f"model.d_extra_blocks must be >= 0, got {self.d_extra_blocks}")
        if self.attn_res < 0:
            raise ConfigError(f"model.attn_res must be >= 0, got {self.attn_res}")
        if self.res_block == "r3gan" and self.g_norm != "none":
            raise ConfigError("model.res_block=r3gan is normalisation-free: set model.g_norm=none")
        if (self.res_zero_init or self.res_block == "r3gan") and (self.d_spectral_norm or self.d_weight_norm):
            raise ConfigError("model.res_zero_init and model.res_block=r3gan zero D's residual convolutions, which "
                              "spectral or weight normalisation divides by their norm (0): drop one of them")


def build_resnet(cfg: Any, spec: NetSpec) -> tuple[ResNetGenerator, nn.Module]:
    """ResNet ``(G, D)`` for square images ``spec.sample_shape = (C, R, R)``; D options
    (``d_arch``, minibatch layer, heads, spectral norm, packing) via ``build_discriminator``."""
    shape = tuple(spec.sample_shape)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"the ResNet family needs square images (C, R, R), got sample shape {shape}")
    channels, resolution, _ = shape
    num_classes = conditional_classes(cfg, spec)
    g = ResNetGenerator(cfg.z_dim, resolution, channels, cfg.g_width, num_classes, cfg.g_norm == "batch",
                        cfg.attn_res, cfg.res_zero_init, cfg.res_block)

    def family_d(d_spec: NetSpec) -> ResNetDiscriminator:
        d_classes = num_classes if cfg.d_projection and not cfg.d_concat_labels else 0
        return ResNetDiscriminator(resolution, d_spec.sample_shape[0], cfg.d_width, d_classes, cfg.d_extra_blocks,
                                   cfg.attn_res, cfg.res_zero_init, lambda f: minibatch_logit(cfg, f),
                                   cfg.d_class_head, cfg.q_categorical, cfg.q_continuous, cfg.q_hidden, cfg.res_block)

    return g, build_discriminator(cfg, spec, family_d)


NETWORKS.add(
    "resnet", Family(ResNetConfig, build_resnet),
    "SNGAN ResNet G and D (Miyato et al. 2018), optional SAGAN attention, conditional BN / projection",
)
