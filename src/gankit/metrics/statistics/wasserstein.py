"""Wasserstein distances between two empirical distributions (uniform weights).

Exact W_p by optimal transport (POT's network simplex, ``ot.emd2``) for small sets, and the
sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015) for large or
high-dimensional sets. Used as a GAN metric by Xu et al. 2018.
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from gankit.errors import MetricError, ShapeError
from gankit.metrics.statistics._distances import squared_distances
from gankit.metrics.statistics._validation import (
    ArrayLike,
    SeedLike,
    as_features,
    check_positive_float,
    check_positive_int,
    check_same_dim,
    make_generator,
    to_numpy,
)

# Above this many samples in either set the exact solver refuses (O(N M) memory, ~O(N^3) time).
DEFAULT_MAX_SAMPLES = 5000
# Network-simplex iteration cap; generous so that sets up to DEFAULT_MAX_SAMPLES converge.
EMD_MAX_ITER = 100_000_000
OT_OPTIMAL = 1  # POT result_code for an optimal solution


def _check_p(p: float) -> float:
    value = check_positive_float(p, "p")
    if value < 1.0:
        raise MetricError(f"p must be >= 1 for a Wasserstein distance, got {p}")
    return value


def wasserstein_distance(
    x: ArrayLike, y: ArrayLike, *, p: float = 1.0, max_samples: int = DEFAULT_MAX_SAMPLES
) -> float:
    """Exact W_p between the empirical distributions of x (n, D) and y (m, D).

    ``W_p = (min_{T in U(1/n, 1/m)} sum_ij T_ij |x_i - y_j|^p)^(1/p)`` with Euclidean ground
    distance, solved exactly by ``ot.emd2``. Defaults to W_1 (earth mover's distance, as in
    WGAN and Xu et al. 2018). Sets larger than ``max_samples`` raise ``MetricError`` (use
    ``sliced_wasserstein_distance``); a solver that stops before optimality also raises.
    """
    power = _check_p(p)
    limit = check_positive_int(max_samples, "max_samples")
    xa = as_features(x, "x")
    ya = as_features(y, "y")
    check_same_dim(xa, ya, "x", "y")
    if max(xa.shape[0], ya.shape[0]) > limit:
        raise MetricError(
            f"exact Wasserstein needs at most max_samples={limit} samples per set "
            f"(got {xa.shape[0]} and {ya.shape[0]}); use sliced_wasserstein_distance ('swd') "
            "for large sets or raise max_samples"
        )
    cost = np.sqrt(squared_distances(xa, ya)) ** power  # (n, m)
    a = np.full(xa.shape[0], 1.0 / xa.shape[0])
    b = np.full(ya.shape[0], 1.0 / ya.shape[0])
    import ot  # local: POT is slow to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        value, log = ot.emd2(a, b, cost, numItermax=EMD_MAX_ITER, log=True)
    if log["result_code"] != OT_OPTIMAL:
        raise MetricError(f"exact optimal transport did not converge: {log['warning']}")
    return float(max(float(value), 0.0) ** (1.0 / power))


def wasserstein_1d_power(u: np.ndarray, v: np.ndarray, p: float) -> np.ndarray:
    """W_p^p between 1-D empirical distributions, row by row: u (P, n), v (P, m) -> (P,).

    Integrates ``|F_u^-1(t) - F_v^-1(t)|^p`` over t in [0, 1]; the quantile functions are
    step functions with breaks at i/n and j/m, merged exactly in integer units of 1/(nm).
    """
    n, m = u.shape[1], v.shape[1]
    u_sorted = np.sort(u, axis=1)
    v_sorted = np.sort(v, axis=1)
    breaks = np.union1d(np.arange(n + 1, dtype=np.int64) * m, np.arange(m + 1, dtype=np.int64) * n)
    left = breaks[:-1]  # (K,) left ends of the pieces, in units of 1/(nm)
    weights = np.diff(breaks) / float(n * m)  # (K,)
    diff = np.abs(u_sorted[:, left // m] - v_sorted[:, left // n])  # (P, K)
    return (diff**p) @ weights


def sliced_wasserstein_distance(
    x: ArrayLike,
    y: ArrayLike,
    *,
    n_projections: int = 256,
    p: float = 2.0,
    seed: SeedLike = 0,
    projections: Optional[ArrayLike] = None,
) -> float:
    """Sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015).

    ``SW_p = (mean_k W_p^p(theta_k # mu_x, theta_k # mu_y))^(1/p)`` over ``n_projections``
    directions theta_k drawn uniformly on the unit sphere (normalised Gaussians from
    ``seed``), each 1-D W_p computed exactly from sorted projections (unequal sizes
    allowed). ``projections`` (K, D) overrides the random directions (rows are normalised).
    Cost O(K (n + m) log(n + m)); W_p(x, y) >= SW_p(x, y), and for D = 1 they are equal.
    """
    power = _check_p(p)
    xa = as_features(x, "x")
    ya = as_features(y, "y")
    check_same_dim(xa, ya, "x", "y")
    dim = xa.shape[1]
    if projections is None:
        count = check_positive_int(n_projections, "n_projections")
        dirs = make_generator(seed).standard_normal((count, dim))  # (K, D)
    else:
        dirs = np.asarray(to_numpy(projections), dtype=np.float64)
        if dirs.ndim != 2 or dirs.shape[1] != dim:
            raise ShapeError(f"projections must have shape (K, {dim}), got {tuple(dirs.shape)}")
    norms = np.linalg.norm(dirs, axis=1, keepdims=True)
    if dirs.shape[0] == 0 or not np.all(np.isfinite(dirs)) or np.any(norms == 0):
        raise MetricError("projections must be at least one finite, non-zero direction")
    dirs = dirs / norms
    per_direction = wasserstein_1d_power(dirs @ xa.T, dirs @ ya.T, power)  # (K,)
    return float(max(float(per_direction.mean()), 0.0) ** (1.0 / power))
