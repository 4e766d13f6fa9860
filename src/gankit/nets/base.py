"""What every network returns, and the network-family registry (DESIGN.md item 6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.nets.blocks import MinibatchDiscrimination, MinibatchStdDev, spectral_norm_all, weight_norm_all
from gankit.registry import Registry


@dataclass
class DOutput:
    """A discriminator's output.

    ``logits``: ``(N,)`` for a whole-image critic or ``(N, 1, H, W)`` for PatchGAN; higher
    means "more real". ``features``: the penultimate activations ``(N, F)`` (feature
    matching, projection conditioning). Extra heads (ACGAN classes, InfoGAN Q, ...) go in
    named fields or ``extra`` rather than into new forward signatures.
    """

    logits: torch.Tensor
    features: torch.Tensor | None = None
    class_logits: torch.Tensor | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class NetSpec:
    """What a network family needs to know about the data."""

    sample_shape: tuple[int, ...]  # (C, H, W) for images, (D,) for vectors
    num_classes: int = 0  # classes of the data; used only when ModelConfig.conditional
    pack: int = 1  # samples D judges at once, stacked along channels/features (PacGAN, Lin et al. 2018)

    def __post_init__(self) -> None:
        if self.pack < 1:
            raise ConfigError(f"pack must be >= 1, got {self.pack}")

    @property
    def d_sample_shape(self) -> tuple[int, ...]:
        """What one D input looks like: ``(pack·C, H, W)`` or ``(pack·D,)``."""
        first, *rest = self.sample_shape
        return (first * self.pack, *rest)


NetworkBuilder = Callable[[ModelConfig, NetSpec], "tuple[nn.Module, nn.Module]"]
NETWORKS: Registry[NetworkBuilder] = Registry("network family")


def build_networks(cfg: ModelConfig, spec: NetSpec) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` of the family ``cfg.arch`` for data described by ``spec``."""
    return NETWORKS.get(cfg.arch)(cfg, spec)


# --------------------------------------------------------------------------- discriminators

FamilyD = Callable[[NetSpec], nn.Module]  # a family's own D for a (packed) spec
DiscriminatorBuilder = Callable[[ModelConfig, NetSpec, FamilyD], nn.Module]
D_ARCHS: Registry[DiscriminatorBuilder] = Registry("discriminator architecture")


@D_ARCHS.register("default", "the network family's own discriminator (model.arch)")
def _family_d(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> nn.Module:
    return family_d(spec)


@D_ARCHS.register("patchgan", "PatchGAN logit map (Isola et al. 2017); model.d_layers stride-2 convs")
def _patchgan_d(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> nn.Module:
    from gankit.nets.patchgan import build_patchgan_discriminator  # local: patchgan imports base

    return build_patchgan_discriminator(cfg, spec, cfg.d_layers)


@D_ARCHS.register("autoencoder", "autoencoder energy D (EBGAN/BEGAN/MAGAN); lower = more real")
def _autoencoder_d(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> nn.Module:
    from gankit.nets.autoencoder import build_autoencoder_discriminator  # local: imports base

    return build_autoencoder_discriminator(cfg, spec, cfg.ae_code_dim, cfg.ae_energy)


def build_discriminator(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> nn.Module:
    """D of architecture ``cfg.d_arch`` for data ``spec``, called by the family builders.

    The D is built for ``spec.d_sample_shape`` (PacGAN packing) and gets spectral
    normalisation of every layer when ``cfg.d_spectral_norm`` (weight normalisation when
    ``cfg.d_weight_norm``). ``family_d(spec)`` builds the
    family's own D (``d_arch = "default"``).
    """
    if spec.pack > 1 and cfg.conditional:
        raise ConfigError("PacGAN packing (pack > 1) is for unconditional models (model.conditional=false)")
    d_spec = NetSpec(spec.d_sample_shape, spec.num_classes)
    concat = cfg.conditional and cfg.d_concat_labels
    if concat:  # D sees (C + K) channels / (D + K) features; the label is in the input
        from gankit.nets.conditioning import ConcatLabels  # conditioning imports this module

        if cfg.d_arch == "autoencoder":
            raise ConfigError("model.d_concat_labels needs a D that classifies its input (d_arch default or patchgan)")
        first, *rest = spec.d_sample_shape
        d_spec = NetSpec((first + spec.num_classes, *rest), spec.num_classes)
    d = D_ARCHS.get(cfg.d_arch)(cfg, d_spec, family_d)
    if concat:
        d = ConcatLabels(d, spec.num_classes)
    if cfg.d_spectral_norm:
        spectral_norm_all(d)
    if cfg.d_weight_norm:
        weight_norm_all(d)
    return d


def mixes_samples(module: nn.Module) -> bool:
    """Whether ``module``'s training-mode output for one sample depends on the others in its
    batch (batch norm, minibatch discrimination / stddev anywhere in it). When it does not,
    one forward over a concatenation of batches equals separate forwards, and is cheaper."""
    mixing = (nn.modules.batchnorm._BatchNorm, MinibatchDiscrimination, MinibatchStdDev)
    return any(isinstance(m, mixing) for m in module.modules())


class MinibatchLogit(nn.Module):
    """The logit term of a minibatch layer on D's penultimate features ``f`` ``(N, F)``:
    ``w · o(f)`` where ``o`` is the layer's appended part (minibatch discrimination: ``B``
    closeness sums; minibatch stddev: 1 value). Adding it to the family's head is the same
    as a linear head over ``[f, o(f)]``, and leaves the head's own parameters as they were."""

    def __init__(self, layer: nn.Module, extra: int) -> None:
        super().__init__()
        self.layer = layer
        self.head = nn.Linear(extra, 1, bias=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.layer(features)  # (N, F + extra)
        return self.head(out[:, features.shape[1] :]).squeeze(1)  # (N,)


_MINIBATCH: dict[str, Callable[[ModelConfig, int], "MinibatchLogit | None"]] = {
    "none": lambda cfg, f: None,
    "discrimination": lambda cfg, f: MinibatchLogit(
        MinibatchDiscrimination(f, cfg.mbd_kernels, cfg.mbd_kernel_dim), cfg.mbd_kernels
    ),
    "stddev": lambda cfg, f: MinibatchLogit(MinibatchStdDev(cfg.mbstd_group), 1),
}


def minibatch_logit(cfg: ModelConfig, features: int) -> MinibatchLogit | None:
    """The minibatch layer ``cfg.d_minibatch`` over ``features`` penultimate units, or None."""
    return _MINIBATCH[cfg.d_minibatch](cfg, features)
