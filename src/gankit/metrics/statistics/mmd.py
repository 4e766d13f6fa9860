"""Kernel maximum mean discrepancy (Gretton et al. 2012, "A Kernel Two-Sample Test").

Used as a GAN metric by Xu et al. 2018 ("An empirical study on evaluation metrics of
generative adversarial networks"), who recommend it together with the 1-NN two-sample test.
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np

from gankit.errors import MetricError
from gankit.metrics.statistics._distances import squared_distances
from gankit.metrics.statistics._validation import (
    ArrayLike,
    as_features,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_same_dim,
)

Kernel = Literal["gaussian", "polynomial"]
Estimator = Literal["unbiased", "biased"]
# The median heuristic looks at pairwise distances of at most this many pooled points.
MEDIAN_HEURISTIC_MAX_POINTS = 2000
MEDIAN_HEURISTIC_SEED = 0


def polynomial_kernel(
    x: np.ndarray, y: np.ndarray, *, degree: int = 3, gamma: Optional[float] = None, coef0: float = 1.0
) -> np.ndarray:
    """``k(x, y) = (gamma x.y + coef0)^degree`` with ``gamma = 1/D`` by default, (N, M)."""
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    return (x @ y.T * gamma + coef0) ** degree


def gaussian_kernel(x: np.ndarray, y: np.ndarray, *, bandwidth: float) -> np.ndarray:
    """``k(x, y) = exp(-|x - y|^2 / (2 bandwidth^2))``, (N, M)."""
    return np.exp(-squared_distances(x, y) / (2.0 * bandwidth**2))


def median_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Median heuristic: the median Euclidean distance between distinct pooled points.

    Above ``MEDIAN_HEURISTIC_MAX_POINTS`` pooled points a fixed random subset (seed 0) of
    that size is used, so the result stays deterministic and O(1) in memory.
    """
    from scipy.spatial.distance import pdist  # local: SciPy is slow to import

    pooled = np.concatenate([x, y])
    if pooled.shape[0] > MEDIAN_HEURISTIC_MAX_POINTS:
        rng = np.random.default_rng(MEDIAN_HEURISTIC_SEED)
        pooled = pooled[rng.choice(pooled.shape[0], MEDIAN_HEURISTIC_MAX_POINTS, replace=False)]
    bandwidth = float(np.median(pdist(pooled))) if pooled.shape[0] > 1 else 0.0
    if bandwidth <= 0.0:
        raise MetricError(
            "median-heuristic bandwidth is 0 (most pooled points coincide); pass bandwidth= explicitly"
        )
    return bandwidth


def mmd2_from_kernels(
    k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray, estimator: Estimator = "unbiased"
) -> float:
    """MMD^2 from kernel matrices K_XX (m, m), K_YY (n, n), K_XY (m, n).

    unbiased: ``sum_{i!=j} K_XX/(m(m-1)) + sum_{i!=j} K_YY/(n(n-1)) - 2 sum K_XY/(mn)``
    (Gretton et al. 2012, eq. 3; the form used by KID).
    biased:   ``sum K_XX/m^2 + sum K_YY/n^2 - 2 sum K_XY/(mn)`` (eq. 5), clamped at 0.
    """
    m, n = k_xx.shape[0], k_yy.shape[0]
    cross = 2.0 * k_xy.sum() / (m * n)
    if estimator == "biased":
        return max(float(k_xx.sum() / m**2 + k_yy.sum() / n**2 - cross), 0.0)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - cross)


def mmd2(
    x: ArrayLike,
    y: ArrayLike,
    *,
    kernel: Kernel = "gaussian",
    estimator: Estimator = "unbiased",
    bandwidth: Optional[float] = None,
    degree: int = 3,
    gamma: Optional[float] = None,
    coef0: float = 1.0,
) -> float:
    """Squared kernel MMD between samples x (m, D) and y (n, D) (Gretton et al. 2012).

    ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)``.

    kernel: ``"gaussian"`` ``exp(-|x - y|^2 / (2 bandwidth^2))`` with ``bandwidth=None`` =
    median heuristic (median pooled pairwise distance, see ``median_bandwidth``), or
    ``"polynomial"`` ``(gamma x.y + coef0)^degree`` (defaults: KID's cubic kernel,
    gamma = 1/D).

    estimator: ``"unbiased"`` (U-statistic, needs m, n >= 2; an unbiased estimate of a
    non-negative quantity, so it can be slightly negative when the distributions match;
    for x == y it equals -2 (mean diag K - mean off-diag K) / m, i.e. O(1/m)) or
    ``"biased"`` (V-statistic, exactly 0 on identical sets, never negative).
    Builds the full kernel matrices: meant for up to a few thousand samples per set.
    """
    check_choice(kernel, "kernel", ("gaussian", "polynomial"))
    check_choice(estimator, "estimator", ("unbiased", "biased"))
    minimum = 2 if estimator == "unbiased" else 1
    xa = as_features(x, "x", min_samples=minimum)
    ya = as_features(y, "y", min_samples=minimum)
    check_same_dim(xa, ya, "x", "y")
    if kernel == "gaussian":
        bw = median_bandwidth(xa, ya) if bandwidth is None else check_positive_float(bandwidth, "bandwidth")
        k_xx = gaussian_kernel(xa, xa, bandwidth=bw)
        k_yy = gaussian_kernel(ya, ya, bandwidth=bw)
        k_xy = gaussian_kernel(xa, ya, bandwidth=bw)
    else:
        deg = check_positive_int(degree, "degree")
        g = None if gamma is None else check_positive_float(gamma, "gamma")
        k_xx = polynomial_kernel(xa, xa, degree=deg, gamma=g, coef0=coef0)
        k_yy = polynomial_kernel(ya, ya, degree=deg, gamma=g, coef0=coef0)
        k_xy = polynomial_kernel(xa, ya, degree=deg, gamma=g, coef0=coef0)
    return mmd2_from_kernels(k_xx, k_yy, k_xy, estimator)
