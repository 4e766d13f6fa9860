"""Building a discriminator of the configured architecture (``model.d_arch``) for a family.

The family's own D is ``d_arch = "default"``; PatchGAN and the autoencoder D register
themselves in their own files. Every D may be packed (PacGAN), label-concatenated
(Mirza & Osindero 2014), spectrally normalised (Miyato et al. 2018) or weight-normalised
(Salimans & Kingma 2016).
"""

from __future__ import annotations

from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import NetSpec
from gankit.nets.blocks import spectral_norm_all, weight_norm_all
from gankit.nets.conditioning import ConcatLabels
from gankit.nets.config import DefaultDOptions, ModelConfig
from gankit.nets.registry import D_ARCHS, DArch, FamilyD


def _family_d(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> nn.Module:
    return family_d(spec)


D_ARCHS.add("default", DArch(DefaultDOptions, _family_d), "the network family's own discriminator (model.arch)")


def build_discriminator(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> nn.Module:
    """D of architecture ``cfg.d_arch`` for data ``spec``, called by the family builders.

    The D is built for ``spec.d_sample_shape`` (PacGAN packing) and gets spectral
    normalisation of every layer when ``cfg.d_spectral_norm`` (weight normalisation when
    ``cfg.d_weight_norm``). ``family_d(spec)`` builds the family's own D (``d_arch = "default"``).
    """
    if spec.pack > 1 and cfg.conditional:
        raise ConfigError("PacGAN packing (pack > 1) is for unconditional models (model.conditional=false)")
    arch = D_ARCHS.get(cfg.d_arch)
    d_spec = NetSpec(spec.d_sample_shape, spec.num_classes)
    concat = cfg.conditional and cfg.d_concat_labels
    if concat:  # D sees (C + K) channels / (D + K) features; the label is in the input
        if arch.scores != "logits":
            raise ConfigError("model.d_concat_labels needs a D that classifies its input (d_arch default or patchgan)")
        first, *rest = spec.d_sample_shape
        d_spec = NetSpec((first + spec.num_classes, *rest), spec.num_classes)
    d = arch.build(cfg, d_spec, family_d)
    if concat:
        d = ConcatLabels(d, spec.num_classes)
    if cfg.d_spectral_norm:
        spectral_norm_all(d)
    if cfg.d_weight_norm:
        weight_norm_all(d)
    return d
