"""Encoders ``E(x)``: deterministic ones (``x -> code``) and Gaussian ones
(``x -> (mu, logvar)`` of ``q(z | x) = N(mu, diag exp(logvar))``, Kingma & Welling 2014,
"Auto-Encoding Variational Bayes", §3 / Appendix C.2).

* ``MLPEncoder``: flatten, ``layers`` × [Linear(hidden) + LeakyReLU(0.2)], Linear(out_dim)
  (MRGAN's encoder; vectors or images).
* ``DCGANEncoder``: the DCGAN discriminator's convolutional trunk (``nets.dcgan``: strided
  Conv(4, 2, 1) stages doubling ``width`` down to ``s0 × s0``) and a Conv(kernel ``s0``) head
  with ``out_dim`` outputs where the discriminator has one logit.
* ``GaussianEncoder`` wraps either with ``out_dim = 2 · z_dim`` and splits the output into
  ``(mu, logvar)``; ``build_gaussian_encoder(cfg, sample_shape)`` sizes it like the model's
  discriminator (``model.arch``, ``model.d_width``, ``model.mlp_layers``, ``model.d_norm``).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.conditioning import check_samples
from gankit.nets.config import ModelConfig
from gankit.nets.dcgan import DCGANDiscriminator, Norm, dcgan_geometry
from gankit.nets.init import dcgan_init_

ENCODER_LEAK = 0.2  # LeakyReLU slope of the MLP encoder

__all__ = ["MLPEncoder", "DCGANEncoder", "GaussianEncoder", "build_gaussian_encoder"]


class MLPEncoder(nn.Module):
    """``E(x) -> (N, out_dim)``: flatten, ``layers`` × [Linear(hidden) + LeakyReLU(0.2)],
    Linear(out_dim). PyTorch's default initialisation (as ``nets.mlp``)."""

    def __init__(self, sample_shape: tuple[int, ...], hidden: int, layers: int, out_dim: int) -> None:
        super().__init__()
        in_dim = math.prod(sample_shape)
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks += [nn.Linear(in_dim, hidden), nn.LeakyReLU(ENCODER_LEAK)]
            in_dim = hidden
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(in_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x.flatten(1)))  # (N, out_dim)


class DCGANEncoder(nn.Module):
    """``E(x) -> (N, out_dim)`` for images ``(N, channels, resolution, resolution)``.

    ``body`` is exactly ``DCGANDiscriminator(resolution, channels, width, norm=norm).body``
    (Conv(4, 2, 1) to ``width`` + LeakyReLU(0.2), then (k−1) × [Conv(4, 2, 1) doubling the
    channels → norm → LeakyReLU(0.2)] down to ``(width·2^(k−1), s0, s0)``); ``head`` is
    Conv2d(kernel ``s0``) to ``out_dim`` (a linear map of the flattened trunk). DCGAN
    initialisation (N(0, 0.02) weights), so a fresh Gaussian head starts near
    ``mu = 0, logvar = 0``.
    """

    def __init__(self, resolution: int, channels: int, width: int, out_dim: int, norm: Norm = "batch") -> None:
        super().__init__()
        s0, k = dcgan_geometry(resolution)
        if out_dim <= 0:
            raise ConfigError(f"DCGANEncoder needs out_dim > 0, got {out_dim}")
        self.sample_shape = (int(channels), int(resolution), int(resolution))
        self.body = DCGANDiscriminator(resolution, channels, width, norm=norm).body  # the D's trunk, reused
        trunk_channels = width * 2 ** (k - 1)
        self.head = dcgan_init_(nn.Conv2d(trunk_channels, out_dim, kernel_size=s0, stride=1, padding=0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_samples(x, self.sample_shape, type(self).__name__)
        return self.head(self.body(x)).flatten(1)  # (N, out_dim)


class GaussianEncoder(nn.Module):
    """``E(x) -> (mu, logvar)``, each ``(N, z_dim)``: the diagonal Gaussian posterior
    ``q(z | x) = N(mu, diag σ²)`` with ``log σ² = logvar`` (Kingma & Welling 2014).

    ``net`` maps ``x`` to ``(N, 2·z_dim)``; the first half is ``mu``, the second ``logvar``.
    """

    def __init__(self, net: nn.Module, z_dim: int) -> None:
        super().__init__()
        if z_dim <= 0:
            raise ConfigError(f"z_dim must be > 0, got {z_dim}")
        self.net = net
        self.z_dim = int(z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(x).chunk(2, dim=1)  # (N, z_dim) each
        return mu, logvar


def _mlp_net(cfg: ModelConfig, shape: tuple[int, ...], out_dim: int) -> nn.Module:
    if cfg.d_width <= 0 or cfg.mlp_layers < 1:
        raise ConfigError(f"the MLP encoder needs model.d_width > 0 and model.mlp_layers >= 1, "
                          f"got {cfg.d_width}, {cfg.mlp_layers}")
    return MLPEncoder(shape, cfg.d_width, cfg.mlp_layers, out_dim)


def _dcgan_net(cfg: ModelConfig, shape: tuple[int, ...], out_dim: int) -> nn.Module:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"the DCGAN encoder needs square images (C, R, R), got sample shape {shape}")
    return DCGANEncoder(shape[1], shape[0], cfg.d_width, out_dim, cfg.d_norm)


_ENCODER_NETS: dict[str, Callable[[ModelConfig, tuple[int, ...], int], nn.Module]] = {
    "mlp": _mlp_net,
    "dcgan": _dcgan_net,
}


def build_gaussian_encoder(cfg: ModelConfig, sample_shape: Sequence[int]) -> GaussianEncoder:
    """A Gaussian encoder for the family ``cfg.arch`` (``mlp`` or ``dcgan``), sized like
    its discriminator: width ``cfg.d_width``, ``cfg.mlp_layers`` MLP layers, conv norm
    ``cfg.d_norm``; latent size ``cfg.z_dim``."""
    if cfg.arch not in _ENCODER_NETS:
        raise ConfigError(f"no encoder for model.arch={cfg.arch!r} (known: {', '.join(_ENCODER_NETS)})")
    shape = tuple(int(s) for s in sample_shape)
    return GaussianEncoder(_ENCODER_NETS[cfg.arch](cfg, shape, 2 * cfg.z_dim), cfg.z_dim)
