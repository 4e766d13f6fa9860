"""CTGAN's networks (Xu et al. 2019, "Modeling Tabular Data using Conditional GAN"), ``model.arch=tabular``.

G: ``h_0 = z ⊕ cond``; residual blocks ``h_{i+1} = h_i ⊕ ReLU(BN(W_i h_i))`` (widths ``g_dims``);
a linear layer to the encoded row's raw outputs (the recipe applies tanh / Gumbel-softmax).
D (PacGAN, Lin et al. 2018): ``pack`` rows ``(row ⊕ cond)`` concatenated into one input, then
``Dropout(LeakyReLU_0.2(W_i h))`` layers (widths ``d_dims``) and a linear logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import NetSpec
from gankit.nets.config import ModelConfig
from gankit.nets.registry import NETWORKS, Family


class Residual(nn.Module):
    """``h ↦ h ⊕ ReLU(BN(W h))``: width ``i -> i + o``."""

    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(h))), h], dim=1)


class ResidualGenerator(nn.Module):
    """Inputs ``(B, in_dim)`` -> raw outputs ``(B, out_dim)``."""

    def __init__(self, in_dim: int, dims: tuple[int, ...], out_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for d in dims:
            layers.append(Residual(width, d))
            width += d
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class PacDiscriminator(nn.Module):
    """Packed inputs ``(B/pack, pack · in_dim)`` -> logits ``(B/pack,)``."""

    def __init__(self, in_dim: int, dims: tuple[int, ...], pack: int, dropout: float) -> None:
        super().__init__()
        self.in_dim, self.pack = in_dim, pack
        layers: list[nn.Module] = []
        width = in_dim * pack
        for d in dims:
            layers += [nn.Linear(width, d), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = d
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        if packed.ndim != 2 or packed.shape[1] != self.in_dim * self.pack:
            raise ShapeError(f"D takes packed rows (M, {self.in_dim * self.pack}), got {tuple(packed.shape)}")
        return self.net(packed).squeeze(1)


@dataclass(frozen=True)
class TabularConfig(ModelConfig):
    """``[model]`` keys of the tabular family; CTGAN's sizes by default."""

    arch: str = "tabular"
    z_dim: int = 128  # CTGAN: embedding_dim 128
    g_dims: tuple[int, ...] = (256, 256)  # G: residual block widths
    d_dims: tuple[int, ...] = (256, 256)  # D: hidden widths
    d_dropout: float = 0.5  # D: dropout after each hidden layer

    def check(self) -> None:
        if not self.g_dims or not self.d_dims or min(self.g_dims + self.d_dims) < 1:
            raise ConfigError("model.g_dims and model.d_dims need at least one width, each >= 1")
        if not 0.0 <= self.d_dropout < 1.0:
            raise ConfigError(f"model.d_dropout must be in [0, 1), got {self.d_dropout}")
        if self.conditional:
            raise ConfigError("model.arch=tabular conditions on its own vector: set model.conditional=false")


def _build_from_spec(cfg: TabularConfig, spec: NetSpec) -> tuple[nn.Module, nn.Module]:
    raise ConfigError("model.arch=tabular builds the tabular GAN's networks: choose recipe.name=tabgan")


NETWORKS.add("tabular", Family(TabularConfig, _build_from_spec), "CTGAN's residual G, PacGAN D over rows")
