"""PatchGAN discriminator (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", §3.2.2 and App. 6.1.2): a fully convolutional critic that scores
every overlapping patch, returning a logit map ``(N, 1, H', W')``.

Layout (pix2pix's ``NLayerDiscriminator``, ``n_layers = 3`` is the 70×70 PatchGAN)::

    C64(k4 s2, no norm) - [C(64·min(2^i, 8)) k4 s2 + norm] for i = 1..n_layers-1
                        - C(64·min(2^n, 8)) k4 s1 + norm - C1 k4 s1      (LeakyReLU 0.2)

Every conv has padding 1, so a stride-2 conv maps a side ``s`` to ``floor(s / 2)`` and a
stride-1 conv to ``s - 1``: ``H' = floor^n(H) - 2`` (256 -> 30 for n = 3). The receptive
field of one output logit is 16, 34, 70, 142 pixels for ``n_layers = 1, 2, 3, 4``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.conditioning import check_labels, conditional_classes
from gankit.nets.config import ModelConfig, PatchGANOptions
from gankit.nets.init import dcgan_init_
from gankit.nets.registry import D_ARCHS, DArch, FamilyD

Norm = Literal["batch", "instance", "layer", "none"]
KERNEL, PAD = 4, 1
LEAK = 0.2
MAX_MULT = 8  # channel multiplier cap (pix2pix)

__all__ = ["PatchGANDiscriminator", "patchgan_output_size", "build_patchgan_discriminator"]


def patchgan_output_size(size: int, n_layers: int) -> int:
    """Side of the logit map for an input side ``size``: ``floor(size / 2^n) - 2``."""
    s = int(size)
    for _ in range(n_layers):
        s //= 2  # k4 s2 p1
    return s - 2  # two k4 s1 p1 convs


def _norm(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels)  # affine=False, as in pix2pix/CycleGAN
    if norm == "layer":
        return nn.GroupNorm(1, channels)  # per-sample; valid with gradient penalties
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {norm!r} (known: batch, instance, layer, none)")


class PatchGANDiscriminator(nn.Module):
    """``D(x, c) -> DOutput(logits=(N, 1, H', W'))`` for images ``(N, channels, H, W)`` of any
    size with ``H', W' >= 1`` (see :func:`patchgan_output_size`).

    ``width``: channels of the first conv (64 in pix2pix). ``n_layers``: stride-2 convs
    (3 -> 70×70 patches). ``norm``: ``"batch"`` (pix2pix), ``"instance"`` (CycleGAN),
    ``"layer"`` (GroupNorm(1, C)) or ``"none"``; convs followed by batch/layer norm have no
    bias. ``features``: the penultimate activation map, flattened ``(N, F)``.
    Class conditioning (``num_classes > 0``): a learned embedding ``E[c] ∈ R^K`` is
    broadcast over the image and concatenated as ``K`` extra input channels (the cGAN input
    conditioning of Mirza & Osindero 2014, applied to every patch). Paired image
    translation instead concatenates the source image: pass ``channels = C_src + C_tgt``.
    DCGAN initialisation (N(0, 0.02)), as in pix2pix.
    """

    def __init__(
        self,
        channels: int,
        width: int = 64,
        n_layers: int = 3,
        num_classes: int = 0,
        norm: Norm = "batch",
    ) -> None:
        super().__init__()
        if channels <= 0 or width <= 0:
            raise ConfigError(f"PatchGAN needs channels > 0 and width > 0, got {channels}, {width}")
        if n_layers < 1:
            raise ConfigError(f"PatchGAN needs n_layers >= 1, got {n_layers}")
        self.channels, self.n_layers, self.num_classes = int(channels), int(n_layers), int(num_classes)
        self.label = nn.Embedding(num_classes, num_classes) if num_classes > 0 else None
        in_ch = channels + (num_classes if num_classes > 0 else 0)
        bias = norm in ("none", "instance")
        layers: list[nn.Module] = [nn.Conv2d(in_ch, width, KERNEL, 2, PAD), nn.LeakyReLU(LEAK, inplace=True)]
        mult = 1
        for i in range(1, n_layers):
            prev, mult = mult, min(2**i, MAX_MULT)
            layers += [
                nn.Conv2d(width * prev, width * mult, KERNEL, 2, PAD, bias=bias),
                _norm(norm, width * mult),
                nn.LeakyReLU(LEAK, inplace=True),
            ]
        prev, mult = mult, min(2**n_layers, MAX_MULT)
        layers += [
            nn.Conv2d(width * prev, width * mult, KERNEL, 1, PAD, bias=bias),
            _norm(norm, width * mult),
            nn.LeakyReLU(LEAK, inplace=True),
        ]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(width * mult, 1, KERNEL, 1, PAD)
        dcgan_init_(self.body)
        dcgan_init_(self.head)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        who = type(self).__name__
        if x.dim() != 4 or x.shape[1] != self.channels or x.shape[0] == 0:
            raise ShapeError(f"{who}: x must have shape (N, {self.channels}, H, W), got {tuple(x.shape)}")
        if min(patchgan_output_size(s, self.n_layers) for s in x.shape[2:]) < 1:
            raise ShapeError(f"{who}: {tuple(x.shape[2:])} images are too small for n_layers={self.n_layers}")
        check_labels(c, x.shape[0], self.num_classes, who)
        if self.label is not None:
            e = self.label(c).to(x.dtype)  # (N, K)
            x = torch.cat([x, e[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)  # (N, C + K, H, W)
        h = self.body(x)  # (N, width·mult, H' + 1, W' + 1)
        logits = self.head(h)  # (N, 1, H', W')
        return DOutput(logits=logits, features=h.flatten(1))


def build_patchgan_discriminator(cfg: ModelConfig, spec: NetSpec, n_layers: int = 3) -> PatchGANDiscriminator:
    """A PatchGAN D for ``spec`` images ``(C, H, W)``: width ``cfg.d_width``, norm
    ``cfg.d_norm``, conditional when ``cfg.conditional`` (see ``conditioning.py``)."""
    shape = tuple(spec.sample_shape)
    if len(shape) != 3:
        raise ConfigError(f"PatchGAN needs images (C, H, W), got sample shape {shape}")
    if min(patchgan_output_size(shape[1], n_layers), patchgan_output_size(shape[2], n_layers)) < 1:
        raise ConfigError(f"PatchGAN with n_layers={n_layers} needs larger images than {shape[1:]}")
    return PatchGANDiscriminator(shape[0], cfg.d_width, n_layers, conditional_classes(cfg, spec), cfg.d_norm)


def _build(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> PatchGANDiscriminator:
    return build_patchgan_discriminator(cfg, spec, cfg.d_layers)


D_ARCHS.add("patchgan", DArch(PatchGANOptions, _build),
            "PatchGAN logit map (Isola et al. 2017); model.d_layers stride-2 convs")
