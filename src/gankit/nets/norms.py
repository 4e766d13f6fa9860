"""The normalisation layers the network families share, chosen by name (``model.d_norm``):
``"batch"`` (BatchNorm), ``"layer"`` (per-sample: LayerNorm over features, GroupNorm(1, C) over
feature maps; valid with gradient penalties) or ``"none"``."""

from __future__ import annotations

from torch import nn

from gankit.errors import ConfigError

NORMS = ("batch", "layer", "none")


def norm1d(norm: str, width: int) -> nn.Module:
    """Normalisation of ``(N, width)`` activations."""
    if norm == "batch":
        return nn.BatchNorm1d(width)
    if norm == "layer":
        return nn.LayerNorm(width)
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {norm!r} (known: {', '.join(NORMS)})")


def norm2d(norm: str, channels: int) -> nn.Module:
    """Normalisation of ``(N, channels, H, W)`` feature maps."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)  # per-sample, so valid with gradient penalties
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {norm!r} (known: {', '.join(NORMS)})")
