"""k-NN manifold metrics: improved precision/recall and density/coverage.

Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
Models" (k = 3; membership ``<=`` as in their code and StyleGAN2-ADA's); Naeem et al. 2020,
"Reliable Fidelity and Diversity Metrics for Generative Models" (k = 5; strict ``<`` as in
their ``prdc`` code). The k-NN radius of a point is the distance to its k-th nearest other
point of the same set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.metrics.statistics._distances import kth_neighbour_sqdist, squared_distance_blocks
from gankit.metrics.statistics._validation import (
    ArrayLike,
    as_features,
    check_positive_int,
    check_same_dim,
)


@dataclass(frozen=True)
class PrecisionRecall:
    """Fraction of fake samples on the real manifold, and of real samples on the fake one."""

    precision: float
    recall: float


@dataclass(frozen=True)
class DensityCoverage:
    """Naeem et al. 2020 density (can exceed 1; ≈ 1 when matched) and coverage in [0, 1]."""

    density: float
    coverage: float


def _in_manifold(points: np.ndarray, support: np.ndarray, radii2: np.ndarray) -> np.ndarray:
    """For each row of ``points``: is it within radius ``sqrt(radii2[i])`` of some ``support[i]``? (<=)"""
    inside = np.empty(points.shape[0], dtype=bool)
    for start, block in squared_distance_blocks(points, support):
        inside[start : start + block.shape[0]] = np.any(block <= radii2[None, :], axis=1)
    return inside


def _features(real: ArrayLike, fake: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    kk = check_positive_int(k, "k")
    r = as_features(real, "real", min_samples=kk + 1)
    f = as_features(fake, "fake", min_samples=kk + 1)
    check_same_dim(r, f, "real", "fake")
    return r, f, kk


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    With r_k(x) the distance from x to its k-th nearest neighbour in its own set,
    ``precision = (1/M) sum_j 1[exists i: |y_j - x_i| <= r_k(x_i)]`` (fake y on the real
    manifold) and ``recall = (1/N) sum_i 1[exists j: |x_i - y_j| <= r_k(y_j)]`` (real on
    the fake manifold). Both are 1 on identical sets. Each set needs more than k samples.
    """
    r, f, kk = _features(real, fake, k)
    precision = _in_manifold(f, r, kth_neighbour_sqdist(r, kk)).mean()
    recall = _in_manifold(r, f, kth_neighbour_sqdist(f, kk)).mean()
    return PrecisionRecall(precision=float(precision), recall=float(recall))


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020).

    With B_i the ball around real x_i of radius r_k(x_i) (k-th nearest real neighbour),
    ``density = 1/(k M) sum_j sum_i 1[y_j in B_i]`` and
    ``coverage = (1/N) sum_i 1[exists j: y_j in B_i]``, membership ``|y - x_i| < r_k(x_i)``
    (strict, as in the authors' ``prdc``). Coverage is 1 on identical sets; density is ≈ 1
    for matching distributions and grows above 1 when fakes crowd dense real regions.
    Each set needs more than k samples.
    """
    r, f, kk = _features(real, fake, k)
    radii2 = kth_neighbour_sqdist(r, kk)  # (N,)
    counts = np.zeros(f.shape[0], dtype=np.int64)  # balls containing each fake sample
    covered = np.zeros(r.shape[0], dtype=bool)
    for start, block in squared_distance_blocks(r, f):  # block: (B real, M fake)
        inside = block < radii2[start : start + block.shape[0], None]
        counts += inside.sum(axis=0)
        covered[start : start + block.shape[0]] = inside.any(axis=1)
    density = counts.sum() / (kk * f.shape[0])
    return DensityCoverage(density=float(density), coverage=float(covered.mean()))
