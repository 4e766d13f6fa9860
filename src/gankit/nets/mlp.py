"""Fully connected GAN networks, as in Goodfellow et al. 2014 ("Generative Adversarial Nets")
and the 2-D toy experiments of the GAN literature (mixtures of Gaussians on a ring/grid).

Works on vectors ``(D,)`` and on images ``(C, H, W)`` (flattened). Conditioning follows
``conditioning.py``: G concatenates a label embedding to ``z``; D is a projection
discriminator on its last hidden layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import DOutput, MinibatchLogit, NetSpec, family_d_output, minibatch_logit
from gankit.nets.blocks import GaussianNoise
from gankit.nets.categorical_outputs import CategoricalMode, CategoricalOutputs
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
from gankit.nets.norms import norm1d
from gankit.nets.registry import NETWORKS, Family

Norm = Literal["none", "batch", "layer"]
LEAK = 0.2  # LeakyReLU slope in D (Radford et al. 2016)
Activation = Literal["leaky_relu", "relu"]


def _check_sample_shape(sample_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(s) for s in sample_shape)
    if len(shape) not in (1, 3) or any(s <= 0 for s in shape):
        raise ConfigError(
            f"MLP networks take vectors (D,) or images (C, H, W), got sample shape {shape}"
        )
    return shape


def _check_layers(hidden: int, layers: int) -> None:
    if hidden <= 0:
        raise ConfigError(f"MLP hidden width must be > 0, got {hidden}")
    if layers < 1:
        raise ConfigError(f"MLP networks need at least one hidden layer, got {layers}")


class MLPGenerator(nn.Module):
    """``G(z, c) -> x``: ``layers`` × [Linear(hidden) + norm + ReLU], then Linear(prod(sample_shape)).

    Image sample shapes ``(C, H, W)`` get a ``tanh`` (outputs in ``[-1, 1]``) and are reshaped;
    vector shapes ``(D,)`` are a plain linear output (unbounded, for real-valued data).
    With ``num_classes > 0`` a label embedding of width ``label_dim`` (default
    ``num_classes``) is concatenated to ``z``. ``norm``: ``"none"`` or ``"batch"`` (BatchNorm1d,
    as in Salimans et al.'s semi-supervised MNIST generator). ``categorical``: a
    ``CategoricalOutputs`` over a vector output (softmax / Gumbel-softmax groups), or None.
    """

    def __init__(
        self,
        z_dim: int,
        sample_shape: Sequence[int],
        hidden: int,
        layers: int,
        num_classes: int = 0,
        label_dim: int | None = None,
        label_unit_norm: bool = False,
        norm: Norm = "none",
        categorical: CategoricalOutputs | None = None,
    ) -> None:
        super().__init__()
        self.z_dim = int(z_dim)
        self.sample_shape = _check_sample_shape(sample_shape)
        self.num_classes = int(num_classes)
        _check_layers(hidden, layers)
        if self.z_dim <= 0:
            raise ConfigError(f"z_dim must be > 0, got {z_dim}")
        in_dim = self.z_dim
        self.label = None
        if self.num_classes > 0:
            label_dim = label_dim or default_label_dim(self.num_classes)
            self.label = LabelEmbedding(self.num_classes, label_dim, label_unit_norm)
            in_dim += self.label.label_dim
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks.append(nn.Linear(in_dim, hidden, bias=norm == "none"))
            if norm != "none":  # (no Identity: the parameter names of plain G checkpoints stay as they were)
                blocks.append(norm1d(norm, hidden))
            blocks.append(nn.ReLU(inplace=True))
            in_dim = hidden
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(hidden, math.prod(self.sample_shape))
        self.is_image = len(self.sample_shape) == 3
        if categorical is not None and self.is_image:
            raise ConfigError("model.categorical_outputs applies to vector samples (D,), not images")
        self.categorical = categorical

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        check_latent(z, self.z_dim, type(self).__name__)
        check_labels(c, z.shape[0], self.num_classes, type(self).__name__)
        h = self.label(z, c) if self.label is not None else z  # (N, z_dim [+ L])
        x = self.out(self.body(h))  # (N, prod(sample_shape))
        if self.is_image:
            x = torch.tanh(x)
        elif self.categorical is not None:
            x = self.categorical(x)
        return x.view(x.shape[0], *self.sample_shape)  # (N, *sample_shape)


class MLPDiscriminator(nn.Module):
    """``D(x, c) -> DOutput``: flatten, ``layers`` × [Linear(hidden) + norm + activation], Linear -> 1 logit.

    ``activation``: ``"leaky_relu"`` (slope 0.2, Radford et al. 2016) or ``"relu"`` (Salimans et
    al. 2016's semi-supervised D).

    ``features`` is the last hidden layer ``(N, hidden)``. With ``num_classes > 0`` the logit
    gets the projection term ``⟨E[c], features⟩`` (Miyato & Koyama 2018). ``minibatch``
    (``nets.base.minibatch_logit``) adds a minibatch discrimination / stddev term computed
    from ``features`` before the head. ``class_head`` / ``q_categorical`` / ``q_continuous``
    add auxiliary linear heads over ``features`` (``nets.heads``: ``DOutput.class_logits``,
    ``DOutput.extra["q_*"]``; ``q_hidden``: Q's hidden layer).
    ``norm``: ``"none"``, ``"batch"`` (BatchNorm1d) or ``"layer"`` (LayerNorm; per-sample,
    so valid with gradient penalties).
    ``hidden_noise``: std of Gaussian noise added after every hidden layer in training mode
    (Salimans et al. 2016's semi-supervised MNIST D: 0.5); ``features`` are the last hidden
    layer before its noise, and every head reads the noisy copy, as in the authors' code.
    """

    def __init__(
        self,
        sample_shape: Sequence[int],
        hidden: int,
        layers: int,
        num_classes: int = 0,
        norm: Norm = "none",
        minibatch: MinibatchLogit | None = None,
        class_head: int = 0,
        q_categorical: int = 0,
        q_continuous: int = 0,
        hidden_noise: float = 0.0,
        q_hidden: int = 0,
        activation: Activation = "leaky_relu",
    ) -> None:
        super().__init__()
        self.sample_shape = _check_sample_shape(sample_shape)
        self.num_classes = int(num_classes)
        self.norm = norm
        if activation not in ("leaky_relu", "relu"):
            raise ConfigError(f"MLPDiscriminator: activation must be 'leaky_relu' or 'relu', got {activation!r}")
        _check_layers(hidden, layers)
        in_dim = math.prod(self.sample_shape)
        blocks: list[nn.Module] = []
        for i in range(layers):
            blocks += [
                nn.Linear(in_dim, hidden, bias=norm == "none"),  # a norm brings its own shift
                norm1d(norm, hidden),
                nn.LeakyReLU(LEAK, inplace=True) if activation == "leaky_relu" else nn.ReLU(inplace=True),
            ]
            if hidden_noise and i < layers - 1:  # the last hidden layer's noise is self.noise
                blocks.append(GaussianNoise(hidden_noise))
            in_dim = hidden
        self.body = nn.Sequential(*blocks)
        self.noise = GaussianNoise(hidden_noise) if hidden_noise else None  # on the features, before the heads
        self.head = nn.Linear(hidden, 1)
        self.feature_dim = hidden
        self.projection = ProjectionHead(self.num_classes, hidden) if self.num_classes > 0 else None
        self.minibatch = minibatch  # over the last hidden layer (None: no minibatch layer)
        self.aux = aux_heads(hidden, class_head, q_categorical, q_continuous, q_hidden)  # None: no extra heads

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        check_samples(x, self.sample_shape, type(self).__name__)
        check_labels(c, x.shape[0], self.num_classes, type(self).__name__)
        features = self.body(x.flatten(1))  # (N, hidden)
        h = self.noise(features) if self.noise is not None else features  # what the heads read
        logits = self.head(h).squeeze(1)  # (N,)
        return family_d_output(logits, features, c, self.minibatch, self.projection, self.aux, head_input=h)


@dataclass(frozen=True)
class MLPConfig(ModelConfig):
    """``[model]`` keys of the MLP family (``model.arch=mlp``)."""

    arch: str = "mlp"
    mlp_layers: int = 3  # hidden layers of G and D
    mlp_g_norm: Literal["none", "batch"] = "none"  # G: batch norm after every hidden linear layer
    d_norm: Norm = "batch"  # normalisation in D's hidden layers
    mlp_d_activation: Activation = "leaky_relu"  # D: LeakyReLU(0.2) or ReLU (Salimans et al. 2016)
    d_hidden_noise: float = 0.0  # D: std of Gaussian noise on every hidden layer while training (0 = off)
    categorical_outputs: tuple[int, ...] = ()  # G: sizes of one-hot groups at the start of a vector output
    categorical_activation: CategoricalMode = "gumbel"  # G's categorical groups: gumbel (-softmax draw) | softmax
    gumbel_tau: float = 1.0  # temperature tau of the categorical groups
    gumbel_hard: bool = False  # Gumbel groups: one-hot forward, relaxed gradient (straight-through)

    def check(self) -> None:
        if not self.gumbel_tau > 0:
            raise ConfigError(f"model.gumbel_tau must be > 0, got {self.gumbel_tau}")
        if any(k < 2 for k in self.categorical_outputs):
            raise ConfigError(f"model.categorical_outputs: every group needs >= 2 categories, got "
                              f"{list(self.categorical_outputs)}")
        if self.mlp_layers < 1:
            raise ConfigError(f"model.mlp_layers must be >= 1, got {self.mlp_layers}")
        if self.d_hidden_noise < 0:
            raise ConfigError(f"model.d_hidden_noise must be >= 0, got {self.d_hidden_noise}")
        own_d = {"d_hidden_noise": self.d_hidden_noise != 0, "mlp_d_activation": self.mlp_d_activation != "leaky_relu"}
        for key, set_ in own_d.items():
            if set_ and self.d_arch != "default":
                raise ConfigError(f"model.{key} is an option of the MLP discriminator: it needs model.d_arch=default "
                                  f"(got {self.d_arch})")


def build_mlp(cfg: Any, spec: NetSpec) -> tuple[MLPGenerator, MLPDiscriminator]:
    """MLP ``(G, D)``: hidden = ``cfg.g_width`` / ``cfg.d_width``, ``cfg.mlp_layers`` hidden
    layers, G normalisation ``cfg.mlp_g_norm``, D normalisation ``cfg.d_norm`` as configured;
    D heads ``cfg.d_class_head``, ``cfg.q_categorical``, ``cfg.q_continuous``, ``cfg.q_hidden``; projection unless
    ``cfg.d_projection=false``; D hidden-layer noise ``cfg.d_hidden_noise``; D options
    (``cfg.d_arch``, ``cfg.d_minibatch``, ``cfg.d_spectral_norm``, ``cfg.d_weight_norm``,
    ``spec.pack``) via ``build_discriminator``; G's categorical output groups ``cfg.categorical_outputs``
    (``cfg.categorical_activation``, ``cfg.gumbel_tau``, ``cfg.gumbel_hard``)."""
    num_classes = conditional_classes(cfg, spec)
    categorical = None
    if cfg.categorical_outputs:
        if len(spec.sample_shape) != 1:
            raise ConfigError("model.categorical_outputs applies to vector samples (D,), not images")
        categorical = CategoricalOutputs(cfg.categorical_outputs, spec.sample_shape[0], cfg.categorical_activation,
                                         cfg.gumbel_tau, cfg.gumbel_hard)
    g = MLPGenerator(cfg.z_dim, spec.sample_shape, cfg.g_width, cfg.mlp_layers, num_classes, norm=cfg.mlp_g_norm,
                     label_unit_norm=cfg.g_label_unit_norm, categorical=categorical)

    def family_d(d_spec: NetSpec) -> MLPDiscriminator:
        mb = minibatch_logit(cfg, cfg.d_width)
        d_classes = num_classes if cfg.d_projection and not cfg.d_concat_labels else 0
        return MLPDiscriminator(d_spec.sample_shape, cfg.d_width, cfg.mlp_layers, d_classes, cfg.d_norm, mb,
                                cfg.d_class_head, cfg.q_categorical, cfg.q_continuous, cfg.d_hidden_noise,
                                cfg.q_hidden, cfg.mlp_d_activation)

    return g, build_discriminator(cfg, spec, family_d)



NETWORKS.add("mlp", Family(MLPConfig, build_mlp), "fully connected G and D (vectors or flattened images)")
