"""Class conditioning shared by every network family, and the cheap
shape checks of the ``G(z, c)`` / ``D(x, c)`` interface.

Two ways a class label ``c`` (int64, ``(N,)``) enters a network:

* **Generator — concatenated embedding** (Mirza & Osindero 2014, "Conditional Generative
  Adversarial Nets"): a learned table ``E_G ∈ R^{K×L}`` turns ``c`` into ``E_G[c]`` which is
  concatenated to ``z``, so the generator's first layer sees ``z_dim + L`` inputs.
  ``L = label_dim``, by default ``default_label_dim(K) = K`` (the width of a one-hot code,
  which a learned embedding generalises). Initialised ``N(0, 1)`` — the same scale as ``z``.
  With ``unit_norm`` the embedding is ``E_G[c] / ‖E_G[c]‖`` (Liu et al. 2020, self-conditioned GAN):
  length 1 beside ``‖z‖ ≈ √z_dim``, so the noise, not the label, dominates G's input.
* **Discriminator — projection** (Miyato & Koyama 2018, "cGANs with Projection
  Discriminator", eq. 3): with ``φ(x) ∈ R^F`` the penultimate features and ``ψ`` the
  unconditional head,

      D(x, c) = ψ(φ(x)) + ⟨E_D[c], φ(x)⟩,      E_D ∈ R^{K×F}.

  ``E_D`` is initialised ``N(0, 1/F)`` (std ``1/√F``), the scale of a default linear head over
  the same features, so the projection term starts as large as the unconditional logit.

The ``check_*`` functions only look at ``.shape``/``.dtype`` (no device sync), so they are
cheap enough to call on every forward pass.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import NetSpec
from gankit.nets.config import ModelConfig


def default_label_dim(num_classes: int) -> int:
    """Width ``L`` of the generator's label embedding when none is given: ``num_classes``."""
    return num_classes


def conditional_classes(cfg: ModelConfig, spec: NetSpec) -> int:
    """Classes a builder's networks condition on: ``spec.num_classes`` when
    ``cfg.conditional``, else 0 (so an unconditional model on labelled data stays unconditional).

    Raises ``ConfigError`` when ``cfg.conditional`` is set but the data has no labels.
    """
    if not cfg.conditional:
        return 0
    if spec.num_classes <= 0:
        raise ConfigError("model.conditional=true needs a dataset with class labels")
    return spec.num_classes


class LabelEmbedding(nn.Module):
    """``(z, c) -> cat(z, E[c])``: the generator-side label embedding (Mirza & Osindero 2014).

    ``out_dim = z_dim + label_dim``. ``E`` is ``nn.Embedding(num_classes, label_dim)`` with
    entries ``N(0, 1)``; with ``unit_norm`` each row is divided by its length before the concatenation.
    """

    def __init__(self, num_classes: int, label_dim: int, unit_norm: bool = False) -> None:
        super().__init__()
        if num_classes <= 0 or label_dim <= 0:
            raise ValueError("LabelEmbedding needs num_classes > 0 and label_dim > 0")
        self.num_classes = num_classes
        self.label_dim = label_dim
        self.unit_norm = unit_norm
        self.embed = nn.Embedding(num_classes, label_dim)
        nn.init.normal_(self.embed.weight, 0.0, 1.0)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.embed(c).to(z.dtype)  # (N, L)
        if self.unit_norm:
            e = e / e.norm(dim=1, keepdim=True)
        return torch.cat([z, e], dim=1)  # (N, z_dim + L)


class ProjectionHead(nn.Module):
    """The class term of the projection discriminator: ``⟨E[c], φ⟩`` (Miyato & Koyama 2018).

    ``forward(features, c)`` with ``features`` ``(N, F)`` returns ``(N,)``; add it to the
    unconditional logit. ``E`` is ``nn.Embedding(num_classes, features)``, ``N(0, 1/F)``.
    """

    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        if num_classes <= 0 or features <= 0:
            raise ValueError("ProjectionHead needs num_classes > 0 and features > 0")
        self.num_classes = num_classes
        self.features = features
        self.embed = nn.Embedding(num_classes, features)
        nn.init.normal_(self.embed.weight, 0.0, 1.0 / math.sqrt(features))

    def forward(self, features: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.embed(c).to(features.dtype)  # (N, F)
        return (e * features).sum(dim=1)  # (N,)


# --------------------------------------------------------------------------- shape checks


def check_labels(c: torch.Tensor | None, n: int, num_classes: int, who: str) -> None:
    """``c`` must be an integer ``(n,)`` tensor on a conditional net and ``None`` otherwise.

    An empty tensor counts as "no labels" on an unconditional net.
    Label values are not range-checked here (that would need a device sync); an
    out-of-range label fails inside ``nn.Embedding``.
    """
    if num_classes > 0:
        if c is None:
            raise ShapeError(
                f"{who} is conditional ({num_classes} classes): pass labels c of shape ({n},)"
            )
        if not isinstance(c, torch.Tensor):
            raise ShapeError(f"{who}: c must be a tensor of class indices, got {type(c).__name__}")
        if c.dtype.is_floating_point or c.dtype.is_complex or c.dtype == torch.bool:
            raise ShapeError(f"{who}: c must hold integer class indices (int64), got {c.dtype}")
        if tuple(c.shape) != (n,):
            raise ShapeError(f"{who}: c must have shape ({n},), got {tuple(c.shape)}")
    elif c is not None and not (isinstance(c, torch.Tensor) and c.numel() == 0):
        raise ShapeError(f"{who} is unconditional (num_classes=0) but labels c were given")


def check_latent(z: torch.Tensor, z_dim: int, who: str) -> None:
    """``z`` must be a floating ``(N, z_dim)`` tensor with ``N ≥ 1``."""
    if not isinstance(z, torch.Tensor):
        raise ShapeError(f"{who}: z must be a tensor, got {type(z).__name__}")
    if z.dim() != 2 or z.shape[1] != z_dim or z.shape[0] == 0:
        raise ShapeError(f"{who}: z must have shape (N, {z_dim}), got {tuple(z.shape)}")
    if not z.dtype.is_floating_point:
        raise ShapeError(f"{who}: z must be floating point, got {z.dtype}")


def check_samples(x: torch.Tensor, sample_shape: Sequence[int], who: str) -> None:
    """``x`` must be a floating ``(N, *sample_shape)`` tensor with ``N ≥ 1``."""
    expected = tuple(sample_shape)
    if not isinstance(x, torch.Tensor):
        raise ShapeError(f"{who}: x must be a tensor, got {type(x).__name__}")
    if x.dim() != len(expected) + 1 or tuple(x.shape[1:]) != expected or x.shape[0] == 0:
        want = ", ".join(["N", *map(str, expected)])
        raise ShapeError(f"{who}: x must have shape ({want}), got {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise ShapeError(f"{who}: x must be floating point, got {x.dtype}")


class ConcatLabels(nn.Module):
    """``D(x, c) = D'([x, onehot(c)])``: the label concatenated to D's input (Mirza & Osindero
    2014, the original conditional GAN): ``K`` constant one-hot planes for images ``(N, C+K, H, W)``,
    ``K`` one-hot features for vectors ``(N, D+K)``. ``inner`` is an unconditional D built for the
    widened input; its ``DOutput`` is returned unchanged."""

    def __init__(self, inner: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.inner = inner
        self.num_classes = int(num_classes)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None):
        check_labels(c, x.shape[0], self.num_classes, type(self).__name__)
        onehot = torch.nn.functional.one_hot(c, self.num_classes).to(x.dtype)  # (N, K)
        if x.ndim == 4:
            onehot = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])  # (N, K, H, W)
        return self.inner(torch.cat([x, onehot], dim=1))
