"""What every network returns and is told about the data, and the minibatch layers of a D."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.blocks import MinibatchDiscrimination, MinibatchStdDev


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
    num_classes: int = 0  # classes of the data; used only when model.conditional
    pack: int = 1  # samples D judges at once, stacked along channels/features (PacGAN, Lin et al. 2018)
    input_shape: tuple[int, ...] | None = None  # G's input (C, H, W) when G maps data to data (translation)

    def __post_init__(self) -> None:
        if self.pack < 1:
            raise ConfigError(f"pack must be >= 1, got {self.pack}")
        if self.input_shape is not None and any(int(s) < 1 for s in self.input_shape):
            raise ConfigError(f"input_shape must be positive, got {self.input_shape}")

    @property
    def d_sample_shape(self) -> tuple[int, ...]:
        """What one D input looks like: ``(pack·C, H, W)`` or ``(pack·D,)``."""
        first, *rest = self.sample_shape
        return (first * self.pack, *rest)


def family_d_output(logits: torch.Tensor, features: torch.Tensor, c: torch.Tensor | None,
                    minibatch: nn.Module | None, projection: nn.Module | None, aux: Any,
                    head_input: torch.Tensor | None = None) -> DOutput:
    """A family D's output: its head's ``logits`` ``(N,)`` plus the minibatch-layer term and the
    projection term ``<E[c], h>`` (Miyato & Koyama 2018) over ``h`` = ``head_input`` (what the heads
    read; default ``features``), with the auxiliary heads (``AuxHeads``, or None) filled from ``h``."""
    h = features if head_input is None else head_input  # (N, F)
    if minibatch is not None:
        logits = logits + minibatch(h)  # (N,)
    if projection is not None:
        logits = logits + projection(h, c)  # (N,)
    out = DOutput(logits=logits, features=features)
    return aux.fill(out, h) if aux is not None else out


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """PacGAN packing (Lin et al. 2018): ``(B, C, ...) -> (B/m, m·C, ...)``; consecutive
    samples ``m·i .. m·i+m-1`` form packed input ``i`` (stacked along channels/features)."""
    if pack == 1:
        return x
    if x.shape[0] % pack:
        raise ConfigError(f"batch size {x.shape[0]} is not divisible by recipe.pack={pack}")
    return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])  # (B/m, m·C, ...)


def mixes_samples(module: nn.Module) -> bool:
    """Whether ``module``'s training-mode output for one sample depends on the others in its
    batch (batch norm, minibatch discrimination / stddev anywhere in it). When it does not,
    one forward over a concatenation of batches equals separate forwards, and is cheaper."""
    mixing = (nn.modules.batchnorm._BatchNorm, MinibatchDiscrimination, MinibatchStdDev)
    return any(isinstance(m, mixing) for m in module.modules())


class MinibatchLogit(nn.Module):
    """The logit term of a minibatch layer on D's penultimate features ``f`` ``(N, F)``:
    ``w · o(f)`` where ``o`` is the layer's appended part (minibatch discrimination: ``B``
    closeness sums; minibatch stddev: 1 value). Adding it to the family's head is the same
    as a linear head over ``[f, o(f)]``, and leaves the head's own parameters as they were."""

    def __init__(self, layer: nn.Module, extra: int) -> None:
        super().__init__()
        self.layer = layer
        self.head = nn.Linear(extra, 1, bias=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.layer(features)  # (N, F + extra)
        return self.head(out[:, features.shape[1] :]).squeeze(1)  # (N,)


_MINIBATCH: dict[str, Callable[[Any, int], "MinibatchLogit | None"]] = {
    "none": lambda cfg, f: None,
    "discrimination": lambda cfg, f: MinibatchLogit(
        MinibatchDiscrimination(f, cfg.mbd_kernels, cfg.mbd_kernel_dim), cfg.mbd_kernels
    ),
    "stddev": lambda cfg, f: MinibatchLogit(MinibatchStdDev(cfg.mbstd_group), 1),
}


def minibatch_logit(cfg: Any, features: int) -> MinibatchLogit | None:
    """The minibatch layer ``cfg.d_minibatch`` over ``features`` penultimate units, or None."""
    return _MINIBATCH[cfg.d_minibatch](cfg, features)
