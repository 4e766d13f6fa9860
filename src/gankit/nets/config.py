"""The typed ``[model]`` table: what every network family shares, and the options of the
family's own discriminator.

``[model]`` is resolved per experiment from ``model.arch`` (the network family) and
``model.d_arch`` (the discriminator architecture): its class combines the family's config
class (``MLPConfig``, ``DCGANConfig``, ...) with the options of that discriminator
(``DefaultDOptions``, ``PatchGANOptions``, ``AutoencoderOptions``), so ``--dry-run`` shows,
and the parser accepts, only the keys the chosen networks use (``gankit.nets.registry.
model_config_class``). Each part validates its own fields in a ``check`` method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gankit.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    """Keys of every network family."""

    arch: str = "dcgan"  # registered network family (`gankit` lists them under model.arch)
    d_arch: str = "default"  # discriminator: default (the family's own) | patchgan | autoencoder
    z_dim: int = 100  # latent dimension
    g_width: int = 64  # generator width (its own meaning per family)
    d_width: int = 64  # discriminator width (same meaning)
    conditional: bool = False  # feed class labels c to G(z, c) and D(x, c)
    g_label_unit_norm: bool = False  # conditional G: label embedding projected onto the unit sphere (Liu et al. 2020)
    d_concat_labels: bool = False  # conditional D sees one-hot label maps concatenated to x (Mirza & Osindero)
    d_spectral_norm: bool = False  # spectral normalisation of every D weight (Miyato et al. 2018)
    d_weight_norm: bool = False  # weight normalisation of every D weight, W = g v/||v|| (Salimans & Kingma 2016)

    def check(self) -> None:
        if self.d_spectral_norm and self.d_weight_norm:
            raise ConfigError("model.d_spectral_norm and model.d_weight_norm exclude each other: choose one")
        for key in ("z_dim", "g_width", "d_width"):
            if getattr(self, key) < 1:
                raise ConfigError(f"model.{key} must be >= 1, got {getattr(self, key)}")

    def validate(self) -> None:
        """Run the ``check`` of every part this config is made of (family and D options)."""
        for cls in reversed(type(self).__mro__):
            check = cls.__dict__.get("check")
            if check is not None:
                check(self)


@dataclass(frozen=True)
class DefaultDOptions:
    """Options of a family's own discriminator (``model.d_arch=default``): heads over its
    penultimate features and the minibatch layer before its logit."""

    d_projection: bool = True  # conditional D adds the projection term <E[c], features>; false: D ignores c (ACGAN)
    d_class_head: int = 0  # D's auxiliary classifier: K class logits over its features (ACGAN); 0 = none
    q_categorical: int = 0  # D's InfoGAN Q head: logits of one categorical code with this many values; 0 = none
    q_continuous: int = 0  # D's InfoGAN Q head: Gaussian (mean, log-std) of this many continuous codes; 0 = none
    q_hidden: int = 0  # Q head: one hidden layer of this many units (BN, LeakyReLU; Chen et al.: 128); 0 = linear
    d_minibatch: Literal["none", "discrimination", "stddev"] = "none"  # minibatch layer before D's head
    mbd_kernels: int = 100  # minibatch discrimination: kernels B (Salimans et al. 2016)
    mbd_kernel_dim: int = 5  # minibatch discrimination: kernel dimension C
    mbstd_group: int = 4  # minibatch stddev: group size (Karras et al. 2018)

    def check(self) -> None:
        for key in ("mbd_kernels", "mbd_kernel_dim", "mbstd_group"):
            if getattr(self, key) < 1:
                raise ConfigError(f"model.{key} must be >= 1, got {getattr(self, key)}")
        for key in ("d_class_head", "q_categorical", "q_continuous", "q_hidden"):
            if getattr(self, key) < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {getattr(self, key)}")


@dataclass(frozen=True)
class PatchGANOptions:
    """Options of the PatchGAN discriminator (``model.d_arch=patchgan``)."""

    d_layers: int = 3  # PatchGAN stride-2 convs (3 = 70x70 patches)

    def check(self) -> None:
        if self.d_layers < 1:
            raise ConfigError(f"model.d_layers must be >= 1, got {self.d_layers}")


@dataclass(frozen=True)
class AutoencoderOptions:
    """Options of the autoencoder (energy) discriminator (``model.d_arch=autoencoder``)."""

    ae_code_dim: int = 32  # autoencoder D: width of the encoder's code
    ae_energy: Literal["l2", "l1"] = "l2"  # autoencoder D: per-sample reconstruction error

    def check(self) -> None:
        if self.ae_code_dim < 1:
            raise ConfigError(f"model.ae_code_dim must be >= 1, got {self.ae_code_dim}")
