"""Coupled networks (Liu & Tuzel 2016, "Coupled Generative Adversarial Networks").

Two GANs, one per domain, with tied weights:

- **generators** ``G_A, G_B : z -> x`` share their *first* ``s`` layers (those that decode
  the high-level semantics of ``z``) and keep separate *last* layers (the domain's
  low-level rendering); the same ``z`` through both gives a corresponding pair;
- **discriminators** ``D_A, D_B : x -> logit`` keep separate *first* layers (low-level
  features) and share their *last* ``s`` layers (high-level features and the logit).

Sharing is literal: a shared layer is one ``nn.Module`` instance on both domains' paths
(``G.layers("A")[i] is G.layers("B")[i]`` for ``i < s``), so it is stored, stepped and
averaged (EMA) once and receives the gradients of both domains' losses.

The layers are those of the model's own family (``model.arch``: ``mlp`` or ``dcgan``): two
copies of the family's ``(G, D)`` are built with ``build_networks`` and cut into layers,
each starting at a ``Linear`` / ``Conv2d`` / ``ConvTranspose2d`` and taking the norm and
activation after it. Both families have ``n`` layers in G and ``n`` in D (MLP:
``model.mlp_layers`` hidden + output; DCGAN: ``k + 1`` for ``resolution = s0 · 2^k``).
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.conditioning import check_labels, check_latent, check_samples
from gankit.nets.config import ModelConfig
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.nets.registry import build_networks

DOMAIN_NAMES = ("A", "B")
LAYER_TYPES = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)  # each starts a new layer


def _check_domain(domain: str) -> None:
    if domain not in DOMAIN_NAMES:
        raise ConfigError(f"domain must be one of {', '.join(DOMAIN_NAMES)}, got {domain!r}")


def split_layers(modules: Iterable[nn.Module]) -> list[nn.Sequential]:
    """Cut a flat run of modules into layers, each starting at a ``Linear`` / ``Conv2d`` /
    ``ConvTranspose2d``; modules before the first such (reshapes) join the first layer."""
    layers: list[list[nn.Module]] = []
    pending: list[nn.Module] = []
    for m in modules:
        if isinstance(m, LAYER_TYPES):
            layers.append([*pending, m])
            pending = []
        elif layers:
            layers[-1].append(m)
        else:
            pending.append(m)
    return [nn.Sequential(*layer) for layer in layers]


def resolve_shared_layers(shared_layers: int, n_layers: int) -> int:
    """``shared_layers`` as a count in ``[0, n − 1]``; a negative value counts from the end as
    a Python index does (``-1`` = all but one layer, the paper's choice; ``-n`` = none)."""
    s = shared_layers + n_layers if shared_layers < 0 else shared_layers
    if not 0 <= s <= n_layers - 1:
        raise ConfigError(
            f"recipe.shared_layers must be in [{-n_layers}, {n_layers - 1}] for networks of {n_layers} layers "
            f"(at least one layer per domain stays separate), got {shared_layers}"
        )
    return s


# --------------------------------------------------------------------------- family -> layers


def _mlp_generator_layers(g: MLPGenerator) -> list[nn.Sequential]:
    tail = [nn.Tanh()] if g.is_image else []
    return split_layers([*g.body, g.out, *tail, nn.Unflatten(1, g.sample_shape)])


def _dcgan_generator_layers(g: DCGANGenerator) -> list[nn.Sequential]:
    return split_layers([nn.Unflatten(1, (g.z_dim, 1, 1)), *g.net])


def _mlp_discriminator_layers(d: MLPDiscriminator) -> list[nn.Sequential]:
    return split_layers([nn.Flatten(1), *d.body, d.head])


def _dcgan_discriminator_layers(d: DCGANDiscriminator) -> list[nn.Sequential]:
    return split_layers([*d.body, d.head])


_G_LAYERS: dict[type, Callable[[nn.Module], list[nn.Sequential]]] = {
    MLPGenerator: _mlp_generator_layers,
    DCGANGenerator: _dcgan_generator_layers,
}
_D_LAYERS: dict[type, Callable[[nn.Module], list[nn.Sequential]]] = {
    MLPDiscriminator: _mlp_discriminator_layers,
    DCGANDiscriminator: _dcgan_discriminator_layers,
}


# --------------------------------------------------------------------------- networks


class CoupledGenerator(nn.Module):
    """``G_A, G_B : z -> x`` (Liu & Tuzel 2016, §3): ``G_d = head_d ∘ shared``, the first
    ``shared_layers`` layers one module for both domains, the rest separate per domain.

    ``forward(z, c=None, domain="A")`` is one domain's generator (so ``G(z)`` is domain A);
    ``pair(z) -> (x_A, x_B)`` runs the shared layers once for both.
    """

    def __init__(
        self, layers_a: Sequence[nn.Module], layers_b: Sequence[nn.Module], shared_layers: int, z_dim: int
    ) -> None:
        super().__init__()
        if len(layers_a) != len(layers_b):
            raise ConfigError(f"coupled generators need equally deep nets, got {len(layers_a)} and {len(layers_b)}")
        s = resolve_shared_layers(shared_layers, len(layers_a))
        self.z_dim = int(z_dim)
        self.shared_layers = s
        self.shared = nn.Sequential(*layers_a[:s])  # decodes z's semantics, both domains
        self.separate = nn.ModuleDict({"A": nn.Sequential(*layers_a[s:]), "B": nn.Sequential(*layers_b[s:])})

    def layers(self, domain: str) -> list[nn.Module]:
        """The layers of ``G_domain`` in order (shared ones are the same instances for A and B)."""
        _check_domain(domain)
        return [*self.shared, *self.separate[domain]]

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, domain: str = "A") -> torch.Tensor:
        _check_domain(domain)
        check_latent(z, self.z_dim, type(self).__name__)
        check_labels(c, z.shape[0], 0, type(self).__name__)
        return self.separate[domain](self.shared(z))  # (N, *sample_shape)

    def pair(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(G_A(z), G_B(z))``, the shared layers computed once."""
        check_latent(z, self.z_dim, type(self).__name__)
        h = self.shared(z)  # the shared code of z
        return self.separate["A"](h), self.separate["B"](h)  # (N, *sample_shape) each


class CoupledDiscriminator(nn.Module):
    """``D_A, D_B : x -> DOutput`` (Liu & Tuzel 2016, §3): ``D_d = shared ∘ stem_d``, the first
    layers separate per domain, the last ``shared_layers`` layers (the logit layer included
    when ``shared_layers ≥ 1``) one module for both domains.

    ``forward(x, c=None, domain="A")``: ``logits`` ``(N,)``, ``features`` = the input of
    the last layer, flattened ``(N, F)``.
    """

    def __init__(
        self,
        layers_a: Sequence[nn.Module],
        layers_b: Sequence[nn.Module],
        shared_layers: int,
        sample_shape: Sequence[int],
    ) -> None:
        super().__init__()
        if len(layers_a) != len(layers_b):
            raise ConfigError(f"coupled discriminators need equally deep nets, got {len(layers_a)} and {len(layers_b)}")
        n = len(layers_a)
        s = resolve_shared_layers(shared_layers, n)
        self.sample_shape = tuple(int(v) for v in sample_shape)
        self.shared_layers = s
        self.separate = nn.ModuleDict({"A": nn.Sequential(*layers_a[: n - s]), "B": nn.Sequential(*layers_b[: n - s])})
        self.shared = nn.Sequential(*layers_a[n - s :])  # high-level features and logit, both domains

    def layers(self, domain: str) -> list[nn.Module]:
        """The layers of ``D_domain`` in order (shared ones are the same instances for A and B)."""
        _check_domain(domain)
        return [*self.separate[domain], *self.shared]

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None, domain: str = "A") -> DOutput:
        check_samples(x, self.sample_shape, type(self).__name__)
        check_labels(c, x.shape[0], 0, type(self).__name__)
        *body, head = self.layers(domain)
        h = x
        for layer in body:
            h = layer(h)
        logits = head(h).reshape(x.shape[0])  # (N,)
        return DOutput(logits=logits, features=h.flatten(1))  # features (N, F)


def _check_coupled_model(cfg: ModelConfig) -> None:
    if cfg.conditional:
        raise ConfigError("coupled networks are unconditional: set model.conditional=false")
    options = {"d_arch": "default", "d_minibatch": "none", "d_class_head": 0, "q_categorical": 0, "q_continuous": 0}
    for key, plain in options.items():
        if getattr(cfg, key) != plain:
            raise ConfigError(f"coupled networks support the family's plain D only: set model.{key}={plain}")


def _layers(table: dict[type, Callable[[nn.Module], list[nn.Sequential]]], net: nn.Module) -> list[nn.Sequential]:
    cut = table.get(type(net))
    if cut is None:
        raise ConfigError(f"coupled networks support model.arch mlp or dcgan, got a {type(net).__name__}")
    return cut(net)


def build_coupled_networks(
    cfg: ModelConfig, spec: NetSpec, shared_layers: int
) -> tuple[CoupledGenerator, CoupledDiscriminator]:
    """Coupled ``(G, D)`` of family ``cfg.arch`` (Liu & Tuzel 2016): G shares its first
    ``shared_layers`` layers, D its last ``shared_layers`` (negative: counted from the end,
    ``-1`` = all but one). Unconditional, the family's plain D (spectral norm allowed)."""
    _check_coupled_model(cfg)
    spec = NetSpec(spec.sample_shape, spec.num_classes)
    g_a, d_a = build_networks(cfg, spec)
    g_b, d_b = build_networks(cfg, spec)
    G = CoupledGenerator(_layers(_G_LAYERS, g_a), _layers(_G_LAYERS, g_b), shared_layers, cfg.z_dim)
    D = CoupledDiscriminator(_layers(_D_LAYERS, d_a), _layers(_D_LAYERS, d_b), shared_layers, spec.sample_shape)
    return G, D
