"""DCGAN generator and discriminator (Radford, Metz & Chintala 2016, "Unsupervised
Representation Learning with Deep Convolutional Generative Adversarial Networks").

One class per role, any size: resolution, channels and width are arguments.

**Resolution rule.** ``resolution = s0 · 2^k`` with ``k ≥ 1`` upsampling stages and a start
size ``3 ≤ s0 ≤ 7``, where ``k`` is the *largest* such exponent (halve while the result stays
an integer ``≥ 3``). Examples: 8 = 4·2, 16 = 4·2², 28 = 7·2², 32 = 4·2³, 64 = 4·2⁴,
12 = 3·2², 56 = 7·2³. Unsupported (→ ``ConfigError``): anything below 6, odd sizes, and sizes
whose start would exceed 7 (e.g. 18 = 9·2, 36 = 9·2²). See ``dcgan_geometry``.

**Width.** ``width`` is the channel count of the *last* hidden layer of G (and first of D);
each stage towards the ``s0 × s0`` end doubles it, so the deepest layer has
``width · 2^(k−1)`` channels (the paper's 64-px net: width 64 → 512 at 4×4).

Initialisation: ``nets.init.dcgan_init_`` (N(0, 0.02) weights, N(1, 0.02) norm scales, zero
biases). Conditioning: ``nets.conditioning`` (label embedding concatenated to z; projection D).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import DOutput, MinibatchLogit, NetSpec, family_d_output, minibatch_logit
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
from gankit.nets.discriminator import build_discriminator
from gankit.nets.heads import aux_heads
from gankit.nets.init import dcgan_init_
from gankit.nets.norms import norm1d, norm2d
from gankit.nets.registry import NETWORKS, Family

Norm = Literal["batch", "none", "layer"]
MIN_START, MAX_START = 3, 7  # allowed start sizes s0 of the s0 × s0 bottleneck
KERNEL, STRIDE, PAD = 4, 2, 1  # every up/down-sampling conv doubles/halves the side
LEAK = 0.2  # LeakyReLU slope in D (Radford et al. 2016)


def dcgan_geometry(resolution: int) -> tuple[int, int]:
    """``resolution -> (s0, k)``: ``resolution = s0 · 2^k``, ``k ≥ 1`` maximal, ``3 ≤ s0 ≤ 7``.

    >>> [dcgan_geometry(r) for r in (8, 16, 28, 32, 64)]
    [(4, 1), (4, 2), (7, 2), (4, 3), (4, 4)]
    """
    r = int(resolution)
    s0, k = r, 0
    while s0 % 2 == 0 and s0 // 2 >= MIN_START:
        s0, k = s0 // 2, k + 1
    if k < 1 or not MIN_START <= s0 <= MAX_START:
        raise ConfigError(
            f"DCGAN cannot make resolution {resolution}: it must be s0·2^k with k ≥ 1 and "
            f"{MIN_START} ≤ s0 ≤ {MAX_START} (e.g. 8, 16, 28, 32, 64, 128)"
        )
    return s0, k


def _check_sizes(channels: int, width: int) -> None:
    if channels <= 0 or width <= 0:
        raise ConfigError(f"DCGAN needs channels > 0 and width > 0, got {channels}, {width}")


class DCGANGenerator(nn.Module):
    """``G(z, c) -> x``, shape ``(N, channels, resolution, resolution)``, in ``[-1, 1]``.

    ``z`` (+ label embedding) as ``(N, z, 1, 1)`` → ConvTranspose2d(kernel s0, stride 1) to
    ``(width·2^(k−1), s0, s0)`` → BN → ReLU → (k−1) × [ConvTranspose2d(4, 2, 1) halving the
    channels → BN → ReLU] → ConvTranspose2d(4, 2, 1) to ``channels`` → tanh. Exactly ``k``
    upsampling stages (Radford et al. 2016, Fig. 1). Convolutions followed by BN have no bias.
    ``fc > 0`` replaces the first transposed convolution by two fully connected layers, ``z`` →
    Linear(fc) → BN → ReLU → Linear(width·2^(k−1)·s0²) → BN → ReLU, reshaped to the
    ``s0 × s0`` map (InfoGAN's MNIST G, Chen et al. 2016, App. C: fc 1024, width 64).
    """

    def __init__(
        self,
        z_dim: int,
        resolution: int,
        channels: int,
        width: int,
        num_classes: int = 0,
        label_dim: int | None = None,
        label_unit_norm: bool = False,
        fc: int = 0,
    ) -> None:
        super().__init__()
        s0, k = dcgan_geometry(resolution)
        _check_sizes(channels, width)
        if z_dim <= 0:
            raise ConfigError(f"z_dim must be > 0, got {z_dim}")
        self.z_dim = int(z_dim)
        self.num_classes = int(num_classes)
        self.resolution = int(resolution)
        self.sample_shape = (int(channels), self.resolution, self.resolution)
        self.label = None
        in_ch = self.z_dim
        if self.num_classes > 0:
            label_dim = label_dim or default_label_dim(self.num_classes)
            self.label = LabelEmbedding(self.num_classes, label_dim, label_unit_norm)
            in_ch += self.label.label_dim
        ch = width * 2 ** (k - 1)
        self.fc = None  # z -> (ch, s0, s0) by fully connected layers instead of the first transposed conv
        layers: list[nn.Module] = []
        if fc > 0:
            self.fc = nn.Sequential(
                nn.Linear(in_ch, fc, bias=False), nn.BatchNorm1d(fc), nn.ReLU(inplace=True),
                nn.Linear(fc, ch * s0 * s0, bias=False), nn.BatchNorm1d(ch * s0 * s0), nn.ReLU(inplace=True),
                nn.Unflatten(1, (ch, s0, s0)),
            )
            dcgan_init_(self.fc)
        else:
            layers += [
                nn.ConvTranspose2d(in_ch, ch, kernel_size=s0, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(ch),
                nn.ReLU(inplace=True),
            ]
        for _ in range(k - 1):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, KERNEL, STRIDE, PAD, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(inplace=True),
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, KERNEL, STRIDE, PAD), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self.net)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        check_latent(z, self.z_dim, type(self).__name__)
        check_labels(c, z.shape[0], self.num_classes, type(self).__name__)
        h = self.label(z, c) if self.label is not None else z  # (N, z_dim [+ L])
        if self.fc is not None:
            return self.net(self.fc(h))  # (N, C, H, W)
        return self.net(h[:, :, None, None])  # (N, C, H, W)


class DCGANDiscriminator(nn.Module):
    """``D(x, c) -> DOutput`` for ``x`` of shape ``(N, channels, resolution, resolution)``.

    Mirror of the generator: Conv2d(4, 2, 1) to ``width`` + LeakyReLU(0.2) (no norm on the
    first layer, as in the paper) → (k−1) × [Conv2d(4, 2, 1) doubling the channels → norm →
    LeakyReLU(0.2)] down to ``(width·2^(k−1), s0, s0)``; ``features`` = that, flattened
    ``(N, width·2^(k−1)·s0²)``; final Conv2d(kernel s0) → 1 logit ``(N,)``. With ``fc > 0``
    a fully connected layer Linear(fc) → norm → LeakyReLU(0.2) follows the convolutions, its
    output ``(N, fc)`` is ``features`` and the head is Linear(fc, 1) (InfoGAN's MNIST D, Chen et
    al. 2016, App. C: fc 1024, width 64).
    With ``num_classes > 0`` the logit gets ``⟨E[c], features⟩`` (projection discriminator,
    Miyato & Koyama 2018). ``minibatch``: a ``nets.base.MinibatchLogit`` over ``features``
    (or a factory ``feature_dim -> MinibatchLogit | None``) added before the head.
    ``class_head`` / ``q_categorical`` / ``q_continuous``: auxiliary linear heads over
    ``features`` (``nets.heads``: ``DOutput.class_logits``, ``DOutput.extra["q_*"]``;
    ``q_hidden``: Q's hidden layer).
    ``norm``: ``"batch"`` (paper), ``"layer"`` = GroupNorm(1, C)
    (per-sample, valid with WGAN-GP), ``"none"``.
    """

    def __init__(
        self,
        resolution: int,
        channels: int,
        width: int,
        num_classes: int = 0,
        norm: Norm = "batch",
        minibatch: "MinibatchLogit | Callable[[int], MinibatchLogit | None] | None" = None,
        class_head: int = 0,
        q_categorical: int = 0,
        q_continuous: int = 0,
        fc: int = 0,
        q_hidden: int = 0,
    ) -> None:
        super().__init__()
        s0, k = dcgan_geometry(resolution)
        _check_sizes(channels, width)
        self.num_classes = int(num_classes)
        self.resolution = int(resolution)
        self.sample_shape = (int(channels), self.resolution, self.resolution)
        self.norm = norm
        ch = width
        layers: list[nn.Module] = [
            nn.Conv2d(channels, ch, KERNEL, STRIDE, PAD),
            nn.LeakyReLU(LEAK, inplace=True),
        ]
        for _ in range(k - 1):
            layers += [
                nn.Conv2d(ch, ch * 2, KERNEL, STRIDE, PAD, bias=norm == "none"),
                norm2d(norm, ch * 2),
                nn.LeakyReLU(LEAK, inplace=True),
            ]
            ch *= 2
        self.body = nn.Sequential(*layers)
        self.feature_dim = ch * s0 * s0
        self.fc = None
        if fc > 0:
            self.fc = nn.Sequential(nn.Flatten(), nn.Linear(self.feature_dim, fc, bias=norm == "none"),
                                    norm1d(norm, fc), nn.LeakyReLU(LEAK, inplace=True))
            self.head = nn.Linear(fc, 1)
            self.feature_dim = fc
            dcgan_init_(self.fc)
        else:
            self.head = nn.Conv2d(ch, 1, kernel_size=s0, stride=1, padding=0)
        dcgan_init_(self.body)
        dcgan_init_(self.head)
        self.projection = (
            ProjectionHead(self.num_classes, self.feature_dim) if self.num_classes > 0 else None
        )
        if minibatch is not None and not isinstance(minibatch, nn.Module):
            minibatch = minibatch(self.feature_dim)  # a factory: only here is F known
        self.minibatch = minibatch
        self.aux = aux_heads(self.feature_dim, class_head, q_categorical, q_continuous, q_hidden)  # None: no heads

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        check_samples(x, self.sample_shape, type(self).__name__)
        check_labels(c, x.shape[0], self.num_classes, type(self).__name__)
        h = self.body(x)  # (N, width·2^(k−1), s0, s0)
        if self.fc is not None:
            features = self.fc(h)  # (N, fc)
            logits = self.head(features).squeeze(1)  # (N,)
        else:
            logits = self.head(h).flatten()  # (N,)
            features = h.flatten(1)  # (N, F)
        return family_d_output(logits, features, c, self.minibatch, self.projection, self.aux)


@dataclass(frozen=True)
class DCGANConfig(ModelConfig):
    """``[model]`` keys of the DCGAN family (``model.arch=dcgan``)."""

    arch: str = "dcgan"
    d_norm: Norm = "batch"  # normalisation in D's hidden layers
    g_fc: int = 0  # G: z -> fully connected layer of this many units -> s0·s0 map (Chen et al.: 1024); 0 = off
    d_fc: int = 0  # D: conv trunk -> fully connected layer of this many units = features (Chen et al.: 1024)

    def check(self) -> None:
        for key in ("g_fc", "d_fc"):
            if getattr(self, key) < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {getattr(self, key)}")
        if self.d_fc and self.d_arch != "default":
            raise ConfigError(f"model.d_fc needs model.d_arch=default (got {self.d_arch})")


def build_dcgan(cfg: Any, spec: NetSpec) -> tuple[DCGANGenerator, DCGANDiscriminator]:
    """DCGAN ``(G, D)`` for square images ``spec.sample_shape = (C, R, R)``; widths
    ``cfg.g_width`` / ``cfg.d_width``, D normalisation ``cfg.d_norm``; D heads
    ``cfg.d_class_head``, ``cfg.q_categorical``, ``cfg.q_continuous``, ``cfg.q_hidden``; fully connected
    layers ``cfg.g_fc`` / ``cfg.d_fc``; projection unless
    ``cfg.d_projection=false``; D options
    (``cfg.d_arch``, ``cfg.d_minibatch``, ``cfg.d_spectral_norm``, ``spec.pack``) via
    ``build_discriminator``."""
    shape = tuple(spec.sample_shape)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"DCGAN needs square images (C, R, R), got sample shape {shape}")
    channels, resolution, _ = shape
    num_classes = conditional_classes(cfg, spec)
    g = DCGANGenerator(cfg.z_dim, resolution, channels, cfg.g_width, num_classes, fc=cfg.g_fc,
                        label_unit_norm=cfg.g_label_unit_norm)

    def family_d(d_spec: NetSpec) -> DCGANDiscriminator:
        mb = lambda features: minibatch_logit(cfg, features)  # noqa: E731
        d_classes = num_classes if cfg.d_projection and not cfg.d_concat_labels else 0
        return DCGANDiscriminator(resolution, d_spec.sample_shape[0], cfg.d_width, d_classes, cfg.d_norm, mb,
                                  cfg.d_class_head, cfg.q_categorical, cfg.q_continuous, cfg.d_fc, cfg.q_hidden)

    return g, build_discriminator(cfg, spec, family_d)


NETWORKS.add(
    "dcgan", Family(DCGANConfig, build_dcgan), "DCGAN conv G and D (Radford et al. 2016), any s0·2^k resolution"
)
