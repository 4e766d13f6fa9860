"""Autoencoder discriminator: the energy function of EBGAN (Zhao et al. 2017), BEGAN
(Berthelot et al. 2017) and MAGAN (Wang et al. 2017).

``D(x) = Dec(Enc(x))`` and the discriminator's output is the per-sample reconstruction
**energy** (lower = closer to the data manifold)::

    "l2" (default):  E(x) = mean_k (x_k - D(x)_k)^2        (per-sample MSE)
    "l1":            E(x) = mean_k |x_k - D(x)_k|          (BEGAN's eta = 1)

the mean running over all ``k`` entries of one sample (``C·H·W`` or ``D``).

**Sign convention.** ``DOutput.logits`` holds this energy ``(N,)``: *lower means more real*,
the opposite of :mod:`gankit.losses`. Use it with :mod:`gankit.losses.energy` only.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.conditioning import check_labels, check_samples
from gankit.nets.config import AutoencoderOptions, ModelConfig
from gankit.nets.dcgan import dcgan_geometry
from gankit.nets.init import dcgan_init_
from gankit.nets.registry import D_ARCHS, DArch, FamilyD

Arch = Literal["mlp", "conv"]
Energy = Literal["l2", "l1"]
Norm = Literal["none", "batch", "layer"]
KERNEL, STRIDE, PAD = 4, 2, 1
LEAK = 0.2

__all__ = ["AEDiscriminator", "build_autoencoder_discriminator"]


def _norm(norm: str, width: int, conv: bool) -> nn.Module:
    if norm == "none":
        return nn.Identity()
    if norm == "batch":
        return nn.BatchNorm2d(width) if conv else nn.BatchNorm1d(width)
    if norm == "layer":
        return nn.GroupNorm(1, width) if conv else nn.LayerNorm(width)
    raise ConfigError(f"unknown norm {norm!r} (known: batch, layer, none)")


def _mlp(
    sample_shape: tuple[int, ...], width: int, code_dim: int, layers: int, norm: str
) -> tuple[nn.Module, nn.Module]:
    """Encoder ``x -> code`` and decoder ``code -> x`` of mirrored Linear stacks."""
    dim = math.prod(sample_shape)
    enc: list[nn.Module] = [nn.Flatten()]
    d = dim
    for _ in range(layers):
        enc += [nn.Linear(d, width), _norm(norm, width, False), nn.LeakyReLU(LEAK)]
        d = width
    enc.append(nn.Linear(d, code_dim))
    dec: list[nn.Module] = []
    d = code_dim
    for _ in range(layers):
        dec += [nn.Linear(d, width), _norm(norm, width, False), nn.ReLU()]
        d = width
    dec += [nn.Linear(d, dim), nn.Unflatten(1, sample_shape)]
    return nn.Sequential(*enc), nn.Sequential(*dec)


def _conv(sample_shape: tuple[int, ...], width: int, code_dim: int, norm: str) -> tuple[nn.Module, nn.Module]:
    """DCGAN-like encoder (strided convs down to ``s0 × s0``, then Linear to the code) and
    decoder (Linear, then transposed convs back up); see ``nets.dcgan``."""
    channels, res, res_w = sample_shape
    if res != res_w:
        raise ConfigError(f"the conv autoencoder needs square images, got {sample_shape}")
    s0, k = dcgan_geometry(res)
    ch = width
    enc: list[nn.Module] = [nn.Conv2d(channels, ch, KERNEL, STRIDE, PAD), nn.LeakyReLU(LEAK)]
    for _ in range(k - 1):
        enc += [nn.Conv2d(ch, ch * 2, KERNEL, STRIDE, PAD), _norm(norm, ch * 2, True), nn.LeakyReLU(LEAK)]
        ch *= 2
    enc += [nn.Flatten(), nn.Linear(ch * s0 * s0, code_dim)]
    dec: list[nn.Module] = [nn.Linear(code_dim, ch * s0 * s0), nn.Unflatten(1, (ch, s0, s0)), nn.ReLU()]
    for _ in range(k - 1):
        dec += [nn.ConvTranspose2d(ch, ch // 2, KERNEL, STRIDE, PAD), _norm(norm, ch // 2, True), nn.ReLU()]
        ch //= 2
    dec.append(nn.ConvTranspose2d(ch, channels, KERNEL, STRIDE, PAD))
    return nn.Sequential(*enc), nn.Sequential(*dec)


class AEDiscriminator(nn.Module):
    """``D(x) -> DOutput(logits=energy (N,), features=code (N, code_dim),
    extra={"reconstruction": (N, *sample_shape)})``.

    ``arch="mlp"``: ``layers`` × [Linear(width) + norm + LeakyReLU(0.2)] -> Linear(code_dim)
    and the mirror image (ReLU) back to ``prod(sample_shape)``; vectors or images.
    ``arch="conv"``: DCGAN-like, images ``(C, R, R)`` with ``R = s0·2^k``
    (``nets.dcgan.dcgan_geometry``): Conv(4, 2, 1) stages doubling ``width`` down to
    ``s0 × s0`` -> Linear(code_dim); decoder Linear -> ConvTranspose(4, 2, 1) stages back up.
    The reconstruction has no output activation (linear), so it can match any data range.
    ``energy``: ``"l2"`` per-sample mean squared error (default) or ``"l1"`` mean absolute
    error. Unconditional (``c`` must be ``None`` or empty). The conv variant gets DCGAN
    initialisation, the MLP keeps PyTorch's default (as ``nets.mlp``).
    """

    def __init__(
        self,
        sample_shape: Sequence[int],
        width: int = 64,
        code_dim: int = 32,
        arch: Arch = "mlp",
        layers: int = 2,
        norm: Norm = "none",
        energy: Energy = "l2",
    ) -> None:
        super().__init__()
        self.sample_shape = tuple(int(s) for s in sample_shape)
        if width <= 0 or code_dim <= 0 or layers < 1:
            raise ConfigError(
                f"AEDiscriminator needs width > 0, code_dim > 0, layers >= 1; got {width}, {code_dim}, {layers}"
            )
        if energy not in ("l2", "l1"):
            raise ConfigError(f"unknown energy {energy!r} (known: l2, l1)")
        self.energy, self.code_dim, self.arch = energy, int(code_dim), arch
        if arch == "mlp":
            self.encoder, self.decoder = _mlp(self.sample_shape, width, code_dim, layers, norm)
        elif arch == "conv":
            if len(self.sample_shape) != 3:
                raise ConfigError(f"the conv autoencoder needs images (C, H, W), got {self.sample_shape}")
            self.encoder, self.decoder = _conv(self.sample_shape, width, code_dim, norm)
            dcgan_init_(self)
        else:
            raise ConfigError(f"unknown autoencoder arch {arch!r} (known: mlp, conv)")

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        who = type(self).__name__
        check_samples(x, self.sample_shape, who)
        check_labels(c, x.shape[0], 0, who)
        code = self.encoder(x)  # (N, code_dim)
        rec = self.decoder(code)  # (N, *sample_shape)
        diff = (x - rec).flatten(1)  # (N, K)
        energy = diff.square().mean(1) if self.energy == "l2" else diff.abs().mean(1)  # (N,)
        return DOutput(logits=energy, features=code, extra={"reconstruction": rec})


def build_autoencoder_discriminator(
    cfg: ModelConfig, spec: NetSpec, code_dim: int = 32, energy: Energy = "l2"
) -> AEDiscriminator:
    """An autoencoder D matching the family ``cfg.arch``: ``"dcgan"`` -> conv, else MLP
    (``cfg.mlp_layers`` layers); width ``cfg.d_width``; norm ``cfg.d_norm``."""
    if cfg.conditional:
        raise ConfigError("the autoencoder discriminator is unconditional (model.conditional=false)")
    arch: Arch = "conv" if cfg.arch == "dcgan" else "mlp"
    if arch == "conv":  # its depth follows the resolution
        return AEDiscriminator(spec.sample_shape, cfg.d_width, code_dim, arch, norm=cfg.d_norm, energy=energy)
    return AEDiscriminator(spec.sample_shape, cfg.d_width, code_dim, arch, cfg.mlp_layers, cfg.d_norm, energy)


def _build(cfg: ModelConfig, spec: NetSpec, family_d: FamilyD) -> AEDiscriminator:
    return build_autoencoder_discriminator(cfg, spec, cfg.ae_code_dim, cfg.ae_energy)


D_ARCHS.add("autoencoder", DArch(AutoencoderOptions, _build, scores="energy"),
            "autoencoder energy D (EBGAN/BEGAN/MAGAN); lower = more real")
