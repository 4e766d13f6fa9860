"""A small CNN classifier for in-domain metrics (features for FID/KID/PR, p(y|x) for IS).

Input follows gankit's convention: float ``(N, C, H, W)`` in [-1, 1]. Images at another
size are resized (bilinear, anti-aliased when shrinking, clamped to [-1, 1]) to the
classifier's ``resolution`` first, so e.g. a 32x32 generator can be scored by the 28x28
MNIST classifier.

Architecture (``width`` = w, ``feature_dim`` = F)::

    conv3x3(w)-BN-ReLU  maxpool2
    conv3x3(2w)-BN-ReLU maxpool2
    conv3x3(4w)-BN-ReLU maxpool2      (28 -> 14 -> 7 -> 3; 8 -> 4 -> 2 -> 1)
    flatten, dropout
    linear(F)-BN-ReLU                 <- ``features(x)``: (N, F) penultimate features
    dropout, linear(num_classes)      <- ``forward(x)``: logits
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import ShapeError

MIN_RESOLUTION = 8  # three 2x poolings need at least 8 pixels a side


@dataclass(frozen=True)
class ClassifierArch:
    """Everything needed to rebuild a :class:`DomainClassifier` (stored in the weights file)."""

    channels: int = 1
    resolution: int = 28
    num_classes: int = 10
    width: int = 32
    feature_dim: int = 128

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _conv_block(cin: int, cout: int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


class DomainClassifier(nn.Module):
    """Small CNN: ``forward(x) -> logits (N, K)``, ``features(x) -> (N, feature_dim)``."""

    def __init__(
        self,
        channels: int = 1,
        resolution: int = 28,
        num_classes: int = 10,
        width: int = 32,
        feature_dim: int = 128,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if resolution < MIN_RESOLUTION:
            raise ValueError(f"resolution must be >= {MIN_RESOLUTION}, got {resolution}")
        if min(channels, num_classes, width, feature_dim) < 1:
            raise ValueError("channels, num_classes, width and feature_dim must be positive")
        self.arch = ClassifierArch(channels, resolution, num_classes, width, feature_dim)
        side = resolution // 8
        self.body = nn.Sequential(
            *_conv_block(channels, width),
            *_conv_block(width, 2 * width),
            *_conv_block(2 * width, 4 * width),
            nn.Flatten(),
            nn.Dropout(dropout),
        )
        self.embed = nn.Sequential(
            nn.Linear(4 * width * side * side, feature_dim, bias=False),
            nn.BatchNorm1d(feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, num_classes))

    @property
    def resolution(self) -> int:
        return self.arch.resolution

    @property
    def channels(self) -> int:
        return self.arch.channels

    @property
    def num_classes(self) -> int:
        return self.arch.num_classes

    @property
    def feature_dim(self) -> int:
        return self.arch.feature_dim

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Check ``(N, C, H, W)`` and resize to the classifier's resolution if needed."""
        if x.ndim != 4 or x.shape[1] != self.arch.channels:
            raise ShapeError(
                f"classifier expects images (N, {self.arch.channels}, H, W), got {tuple(x.shape)}"
            )
        res = self.arch.resolution
        if tuple(x.shape[-2:]) != (res, res):
            shrinking = x.shape[-2] > res or x.shape[-1] > res
            x = F.interpolate(
                x.float(), size=(res, res), mode="bilinear", align_corners=False,
                antialias=shrinking,
            ).clamp_(-1.0, 1.0)
        return x.float()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, feature_dim)`` (after BN + ReLU, before dropout)."""
        return self.embed(self.body(self.prepare(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
