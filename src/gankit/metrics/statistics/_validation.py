"""Shared input checks for the metric statistics.

Everything is converted to float64 NumPy at the public boundary, shapes
are checked (``ShapeError``) and too-few-samples / invalid-argument cases raise
``MetricError`` with a message that says what was expected.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
import torch

from gankit.errors import MetricError, ShapeError

ArrayLike = Union[np.ndarray, torch.Tensor]
SeedLike = Union[int, np.random.Generator, np.random.RandomState]


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy view/copy of ``x`` (torch tensors are detached and moved to the CPU)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.is_floating_point() or x.is_complex():
            x = x.to(torch.complex128 if x.is_complex() else torch.float64)
        return x.numpy()
    return np.asarray(x)


def _as_float64(x: Any, name: str) -> np.ndarray:
    arr = to_numpy(x)
    if np.iscomplexobj(arr):
        raise MetricError(f"{name} must be real-valued, got a complex array")
    try:
        arr = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name} must be numeric: {exc}") from None
    if not np.all(np.isfinite(arr)):
        raise MetricError(f"{name} contains NaN or infinite values")
    return arr


def as_features(x: ArrayLike, name: str = "features", *, min_samples: int = 1) -> np.ndarray:
    """``x`` as a C-contiguous float64 array of shape (N, D) with N >= ``min_samples``."""
    arr = _as_float64(x, name)
    if arr.ndim != 2:
        raise ShapeError(f"{name} must have shape (N, D), got {tuple(arr.shape)}")
    if arr.shape[1] == 0:
        raise ShapeError(f"{name} must have at least one feature dimension, got {tuple(arr.shape)}")
    if arr.shape[0] < min_samples:
        raise MetricError(f"{name} needs at least {min_samples} samples, got {arr.shape[0]}")
    return np.ascontiguousarray(arr)


def check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ShapeError`` unless the two (N, D) arrays share D."""
    if a.shape[1] != b.shape[1]:
        raise ShapeError(
            f"{name_a} and {name_b} must have the same feature dimension, "
            f"got {a.shape[1]} and {b.shape[1]}"
        )


def as_probabilities(
    p: ArrayLike, name: str = "probs", *, logits: bool = False, atol: float = 1e-3
) -> np.ndarray:
    """Class probabilities (N, C) in float64.

    With ``logits=True`` a numerically stable softmax is applied. Otherwise entries must be
    non-negative and each row must sum to 1 within ``atol`` (float32 softmax outputs do);
    rows are then renormalised exactly to remove that rounding.
    """
    arr = _as_float64(p, name)
    if arr.ndim != 2:
        raise ShapeError(f"{name} must have shape (N, C), got {tuple(arr.shape)}")
    if arr.shape[1] < 1:
        raise ShapeError(f"{name} must have at least one class column, got {tuple(arr.shape)}")
    if logits:
        shifted = arr - arr.max(axis=1, keepdims=True)
        expd = np.exp(shifted)
        return expd / expd.sum(axis=1, keepdims=True)
    if np.any(arr < 0):
        raise MetricError(f"{name} has negative entries; pass logits=True for raw logits")
    sums = arr.sum(axis=1, keepdims=True)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=atol):
        worst = float(np.max(np.abs(sums - 1.0)))
        raise MetricError(
            f"{name} rows must sum to 1 (worst deviation {worst:.3g}); pass logits=True for raw logits"
        )
    return arr / sums


def as_labels(y: ArrayLike, name: str = "labels", *, ndim: int = 1) -> np.ndarray:
    """Non-negative integer labels as int64 with exactly ``ndim`` dimensions."""
    arr = to_numpy(y)
    if arr.ndim != ndim:
        expected = "(N,)" if ndim == 1 else "(N, C)"
        raise ShapeError(f"{name} must have shape {expected}, got {tuple(arr.shape)}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise MetricError(f"{name} must be integer class labels, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise MetricError(f"{name} must be integer class labels, got non-integer values")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise MetricError(f"{name} must be non-negative class indices, got {int(arr.min())}")
    return arr


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bools and non-integers are rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise MetricError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise MetricError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_positive_float(value: Any, name: str) -> float:
    """``value`` as a finite float > 0."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise MetricError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(out) or out <= 0:
        raise MetricError(f"{name} must be a positive finite number, got {value!r}")
    return out


def check_choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else ``MetricError`` listing them."""
    if value not in choices:
        raise MetricError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def make_generator(seed: SeedLike) -> np.random.Generator | np.random.RandomState:
    """A NumPy generator from an int seed (``default_rng``) or a generator passed through."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise MetricError(f"seed must be an int or a numpy random generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def make_legacy_generator(seed: SeedLike) -> np.random.Generator | np.random.RandomState:
    """Like ``make_generator`` but an int seed gives ``np.random.RandomState(seed)``.

    torch-fidelity draws KID subsets and the IS shuffle with ``np.random.RandomState``;
    using the same legacy stream for int seeds reproduces its numbers exactly.
    """
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise MetricError(f"seed must be an int or a numpy random generator, got {seed!r}")
    return np.random.RandomState(int(seed))
