"""Latent-space paths: linear and spherical interpolation (White 2016, "Sampling Generative Networks")."""

from __future__ import annotations

import torch

from gankit.errors import ShapeError


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 − t)·z0 + t·z1 for each t: z0, z1 (D,) or (N, D), t (T,) -> (T, D) or (N, T, D)."""
    _check(z0, z1)
    t = t.to(z0.dtype).reshape(-1, 1)  # (T, 1)
    return (1 - t) * z0.unsqueeze(-2) + t * z1.unsqueeze(-2)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation: sin((1−t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1, with
    cos Ω = ⟨z0, z1⟩ / (‖z0‖‖z1‖). Falls back to lerp where z0 and z1 are (anti)parallel."""
    _check(z0, z1)
    t = t.to(z0.dtype).reshape(-1, 1)  # (T, 1)
    a, b = z0.unsqueeze(-2), z1.unsqueeze(-2)  # (..., 1, D)
    cos = (a * b).sum(-1, keepdim=True) / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True)).clamp_min(eps)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))  # (..., 1, 1)
    sin = torch.sin(omega)
    spherical = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin.clamp_min(eps)
    linear = (1 - t) * a + t * b
    return torch.where(sin.abs() < 1e-4, linear, spherical)


def _check(z0: torch.Tensor, z1: torch.Tensor) -> None:
    if z0.shape != z1.shape or z0.ndim not in (1, 2):
        raise ShapeError(
            f"interpolation endpoints must share a (D,) or (N, D) shape, got {tuple(z0.shape)} and {tuple(z1.shape)}"
        )
