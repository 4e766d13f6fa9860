"""Inception Score (Salimans et al. 2016) and Mode Score (Che et al. 2017; Xu et al. 2018).

Both take classifier outputs p(y|x) for generated samples, (N, C) probabilities (or logits
with ``logits=True``), and are computed per split and reported as mean ± std (ddof=0)
across splits. Parity target: torch-fidelity ``isc_features_to_metric`` (10 splits, shuffle
with ``np.random.RandomState(2020).permutation``); ``shuffle=False`` is the original OpenAI
code (splits in the given order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.errors import MetricError, ShapeError
from gankit.metrics.statistics._validation import (
    ArrayLike,
    SeedLike,
    as_probabilities,
    check_positive_int,
    make_legacy_generator,
)

TORCH_FIDELITY_SEED = 2020


@dataclass(frozen=True)
class InceptionScoreResult:
    """Mean and standard deviation (ddof=0) of the score across splits."""

    mean: float
    std: float


@dataclass(frozen=True)
class ModeScoreResult:
    """Mean and standard deviation (ddof=0) of the Mode Score across splits."""

    mean: float
    std: float


def _split_bounds(n: int, splits: int) -> list[tuple[int, int]]:
    """Split i covers rows [i*n//splits, (i+1)*n//splits), as both reference codes do."""
    return [(i * n // splits, (i + 1) * n // splits) for i in range(splits)]


def _prepare(
    probs: ArrayLike, splits: int, logits: bool, shuffle: bool, seed: SeedLike, name: str
) -> tuple[np.ndarray, int]:
    n_splits = check_positive_int(splits, "splits")
    p = as_probabilities(probs, name, logits=logits)
    if p.shape[0] < n_splits:
        raise MetricError(f"{name} has {p.shape[0]} samples, fewer than splits={n_splits}")
    if shuffle:
        p = p[make_legacy_generator(seed).permutation(p.shape[0])]
    return p, n_splits


def _mean_kl_to_marginal(p: np.ndarray) -> tuple[float, np.ndarray]:
    """``E_x KL(p(y|x) || p(y))`` with ``p(y)`` the mean of the rows, and that marginal."""
    from scipy.special import rel_entr  # local: SciPy is slow to import

    marginal = p.mean(axis=0)  # (C,)
    kl = rel_entr(p, marginal[None, :]).sum(axis=1)  # (n,), 0 log 0 = 0
    return float(kl.mean()), marginal


def inception_score(
    probs: ArrayLike,
    splits: int = 10,
    *,
    logits: bool = False,
    shuffle: bool = True,
    seed: SeedLike = TORCH_FIDELITY_SEED,
) -> InceptionScoreResult:
    """Inception Score, Salimans et al. 2016, "Improved Techniques for Training GANs".

    ``IS = exp(E_x KL(p(y|x) || p(y)))`` with ``p(y)`` the mean of ``p(y|x)`` over the split;
    computed on each of ``splits`` contiguous splits (after an optional shuffle) and
    reported as mean ± std. Ranges from 1 (all predictions equal) to C (confident and
    uniformly spread over C classes). Defaults reproduce torch-fidelity (shuffled with
    ``RandomState(2020)``, 10 splits); ``shuffle=False`` reproduces the OpenAI code. Needs
    at least ``splits`` samples (``MetricError`` otherwise).
    """
    p, n_splits = _prepare(probs, splits, logits, shuffle, seed, "probs")
    scores = [np.exp(_mean_kl_to_marginal(p[a:b])[0]) for a, b in _split_bounds(p.shape[0], n_splits)]
    return InceptionScoreResult(mean=float(np.mean(scores)), std=float(np.std(scores)))


def mode_score(
    probs: ArrayLike,
    real_probs: ArrayLike,
    splits: int = 10,
    *,
    logits: bool = False,
    shuffle: bool = True,
    seed: SeedLike = TORCH_FIDELITY_SEED,
) -> ModeScoreResult:
    """Mode Score, Che et al. 2017 ("Mode Regularized GANs"), as written by Xu et al. 2018.

    ``MS = exp(E_x KL(p(y|x) || p(y)) - KL(p(y) || p*(y)))`` where ``p(y)`` is the generated
    marginal over the split and ``p*(y)`` the mean of ``real_probs`` (classifier outputs on
    real data, or one-hot true labels). It is the Inception Score times
    ``exp(-KL(p(y) || p*(y)))``: equal to IS when the generated class marginal matches the
    real one, lower otherwise, and 0 when generated samples use a class that has zero real
    probability. Splits, shuffling and seeds as in ``inception_score`` (only ``probs`` is
    split and shuffled); ``logits=True`` applies to both inputs.
    """
    p, n_splits = _prepare(probs, splits, logits, shuffle, seed, "probs")
    real = as_probabilities(real_probs, "real_probs", logits=logits)
    if real.shape[1] != p.shape[1]:
        raise ShapeError(
            f"probs and real_probs must have the same number of classes, got {p.shape[1]} and {real.shape[1]}"
        )
    from scipy.special import rel_entr  # local: SciPy is slow to import

    real_marginal = real.mean(axis=0)  # (C,)
    scores = []
    for a, b in _split_bounds(p.shape[0], n_splits):
        mean_kl, marginal = _mean_kl_to_marginal(p[a:b])
        kl_to_real = float(rel_entr(marginal, real_marginal).sum())
        scores.append(float(np.exp(mean_kl - kl_to_real)))
    return ModeScoreResult(mean=float(np.mean(scores)), std=float(np.std(scores)))
