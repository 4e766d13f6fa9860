"""Parzen-window (Gaussian KDE) log-likelihood of held-out data under generated samples.

Breuleux et al. 2011; the protocol of Goodfellow et al. 2014 ("Generative Adversarial
Nets", Table 1): fit an isotropic Gaussian KDE on generated samples, pick its bandwidth by
maximum likelihood on a validation split, report the mean test log-likelihood (in nats)
± its standard error. Known to be a poor estimator in high dimension (Theis et al. 2016);
use it on low-dimensional data or for comparison with the literature.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from gankit.errors import MetricError
from gankit.metrics.statistics._distances import squared_distance_blocks
from gankit.metrics.statistics._validation import (
    ArrayLike,
    as_features,
    check_positive_float,
    check_same_dim,
)

# Default bandwidth grid (absolute units): 31 log-spaced values from 0.01 to 10, suited to
# data scaled to about unit range (e.g. pixels in [0, 1] or [-1, 1]). Pass your own grid
# for other scales.
DEFAULT_BANDWIDTHS: tuple[float, ...] = tuple(float(s) for s in np.logspace(-2, 1, 31))


@dataclass(frozen=True)
class ParzenResult:
    """Mean test log-likelihood (nats per sample), its standard error, and the bandwidth."""

    log_likelihood: float
    std_error: float
    bandwidth: float


def _log_density_grid(points: np.ndarray, samples: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """log p_sigma(points) for every sigma, shape (S, N); one distance pass for all sigmas."""
    from scipy.special import logsumexp  # local: SciPy is slow to import

    n_samples, dim = samples.shape
    out = np.empty((sigmas.shape[0], points.shape[0]), dtype=np.float64)
    for start, block in squared_distance_blocks(points, samples):  # block: (B, M)
        stop = start + block.shape[0]
        for i, sigma in enumerate(sigmas):
            out[i, start:stop] = logsumexp(-block / (2.0 * sigma**2), axis=1)
    norm = np.log(n_samples) + 0.5 * dim * np.log(2.0 * np.pi * sigmas**2)  # (S,)
    return out - norm[:, None]


def kde_log_density(points: ArrayLike, samples: ArrayLike, bandwidth: float) -> np.ndarray:
    """Log-density (nats) of each point (N, D) under a Gaussian KDE on samples (M, D), (N,).

    ``log p(x) = logsumexp_j(-|x - y_j|^2 / (2 s^2)) - log M - (D/2) log(2 pi s^2)``.
    """
    x = as_features(points, "points")
    y = as_features(samples, "samples")
    check_same_dim(x, y, "points", "samples")
    sigma = check_positive_float(bandwidth, "bandwidth")
    return _log_density_grid(x, y, np.array([sigma]))[0]


def parzen_log_likelihood(
    generated: ArrayLike,
    test: ArrayLike,
    validation: ArrayLike,
    *,
    bandwidths: Optional[Sequence[float]] = None,
) -> ParzenResult:
    """Gaussian-KDE (Parzen window) log-likelihood, Goodfellow et al. 2014 protocol.

    The bandwidth s is the grid value maximising the mean ``kde_log_density`` of
    ``validation`` under a KDE on ``generated`` (ties: the smaller s); the result is the
    mean log-density of ``test`` at that s, in nats per sample (not per dimension, not
    bits), with standard error ``std(log p) / sqrt(N_test)`` (ddof=0, as in the GAN
    paper's code). Keep validation and test disjoint. Grid: ``DEFAULT_BANDWIDTHS``
    (0.01 .. 10) unless given; a ``UserWarning`` is issued when the best bandwidth is at an
    end of the grid. Needs >= 1 generated and validation sample and >= 2 test samples.
    """
    gen = as_features(generated, "generated")
    tst = as_features(test, "test", min_samples=2)
    val = as_features(validation, "validation")
    check_same_dim(gen, tst, "generated", "test")
    check_same_dim(gen, val, "generated", "validation")
    grid = DEFAULT_BANDWIDTHS if bandwidths is None else bandwidths
    sigmas = np.array([check_positive_float(s, "bandwidth") for s in grid], dtype=np.float64)
    if sigmas.size == 0:
        raise MetricError("bandwidths must contain at least one value")
    sigmas = np.unique(sigmas)  # sorted ascending
    val_ll = _log_density_grid(val, gen, sigmas).mean(axis=1)  # (S,)
    best = int(np.argmax(val_ll))
    if sigmas.size > 1 and best in (0, sigmas.size - 1):
        warnings.warn(
            f"Parzen bandwidth {sigmas[best]:.4g} is at the end of the grid "
            f"[{sigmas[0]:.4g}, {sigmas[-1]:.4g}]; widen the grid",
            UserWarning,
            stacklevel=2,
        )
    test_ll = _log_density_grid(tst, gen, sigmas[best : best + 1])[0]  # (N_test,)
    return ParzenResult(
        log_likelihood=float(test_ll.mean()),
        std_error=float(test_ll.std() / np.sqrt(test_ll.shape[0])),
        bandwidth=float(sigmas[best]),
    )
