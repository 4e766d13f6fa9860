"""The registries of network families and discriminator architectures, and the ``[model]``
config class they make together.

A family registers ``Family(config_class, build)``: its frozen config dataclass (a subclass of
``ModelConfig``) and ``build(cfg, spec) -> (G, D)``. A discriminator architecture registers
``DArch(options_class, build, scores)``: its options dataclass, ``build(cfg, spec, family_d)``
and what its output means (``"logits"``: higher = more real; ``"energy"``: lower = more real),
so a recipe that reads logits can refuse an energy D when the config is parsed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Literal

from torch import nn

from gankit.config import build_dataclass
from gankit.errors import ConfigError
from gankit.nets.base import NetSpec
from gankit.nets.config import ModelConfig
from gankit.registry import Registry

Scores = Literal["logits", "energy"]
FamilyD = Callable[[NetSpec], nn.Module]  # a family's own D for a (packed) spec


@dataclass(frozen=True)
class Family:
    config_class: type  # a frozen dataclass subclassing ModelConfig
    build: Callable[[Any, NetSpec], "tuple[nn.Module, nn.Module]"]


@dataclass(frozen=True)
class DArch:
    options_class: type  # a frozen dataclass of the architecture's own keys
    build: Callable[[Any, NetSpec, FamilyD], nn.Module]
    scores: Scores = "logits"


NETWORKS: Registry[Family] = Registry("network family (model.arch)")
D_ARCHS: Registry[DArch] = Registry("discriminator architecture (model.d_arch)")


@lru_cache(maxsize=None)
def model_config_class(arch: str, d_arch: str = "default") -> type:
    """The ``[model]`` dataclass of family ``arch`` with discriminator ``d_arch``: the family's
    keys, then the discriminator's options (unknown ``arch``/``d_arch``: ``ConfigError``)."""
    family, disc = NETWORKS.get(arch), D_ARCHS.get(d_arch)
    name = f"{family.config_class.__name__}With{disc.options_class.__name__}"
    return dataclasses.make_dataclass(name, [], bases=(disc.options_class, family.config_class), frozen=True)


def model_config(**values: Any) -> ModelConfig:
    """A validated ``[model]`` config from keyword values: ``model_config(arch="mlp", z_dim=2)``."""
    arch, d_arch = values.get("arch", ModelConfig.arch), values.get("d_arch", ModelConfig.d_arch)
    cls = model_config_class(arch, d_arch)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown key model.{unknown[0]} for model.arch={arch!r}, d_arch={d_arch!r} "
                          f"(valid keys: {', '.join(sorted(names))})")
    return build_dataclass(cls, values, "model")  # types and choices checked as in a preset


def with_model_options(cfg: ModelConfig, who: str, **changes: Any) -> ModelConfig:
    """``cfg`` with ``changes`` (a recipe adding the heads it needs), or one ``ConfigError`` line
    when the chosen networks have no such keys (e.g. heads on a PatchGAN D)."""
    names = {f.name for f in dataclasses.fields(cfg)}
    missing = sorted(set(changes) - names)
    if missing:
        raise ConfigError(f"{who} sets model.{missing[0]}, which model.arch={cfg.arch}, model.d_arch={cfg.d_arch} "
                          f"does not have (use model.d_arch=default)")
    out = dataclasses.replace(cfg, **changes)
    out.validate()
    return out


def d_scores(cfg: ModelConfig) -> Scores:
    """What ``cfg``'s discriminator outputs: ``"logits"`` (higher = more real) or ``"energy"``."""
    return D_ARCHS.get(cfg.d_arch).scores


def build_networks(cfg: ModelConfig, spec: NetSpec) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` of the family ``cfg.arch`` for data described by ``spec``."""
    return NETWORKS.get(cfg.arch).build(cfg, spec)
