"""What every network returns, and the network-family registry (DESIGN.md item 6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from gankit.config import ModelConfig
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


NetworkBuilder = Callable[[ModelConfig, NetSpec], "tuple[nn.Module, nn.Module]"]
NETWORKS: Registry[NetworkBuilder] = Registry("network family")


def build_networks(cfg: ModelConfig, spec: NetSpec) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` of the family ``cfg.arch`` for data described by ``spec``."""
    return NETWORKS.get(cfg.arch)(cfg, spec)
