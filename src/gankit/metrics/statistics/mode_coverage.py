"""Mode coverage of a Gaussian mixture (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018).

Protocol: draw ``PROTOCOL_SAMPLES`` = 2,500 samples from the generator; a sample is
high-quality when it lies within 3 standard deviations of its nearest mode centre; a mode is
covered when it holds at least one high-quality sample; the reverse KL is
KL(mode histogram of high-quality samples || uniform over modes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.metrics.statistics._validation import (
    ArrayLike,
    as_features,
    check_positive_float,
    check_same_dim,
)

PROTOCOL_SAMPLES = 2500
HIGH_QUALITY_STDS = 3.0


@dataclass(frozen=True)
class ModeCoverage:
    """Covered modes, fraction of high-quality samples, reverse KL to uniform, per-mode counts."""

    modes: int
    high_quality_fraction: float
    reverse_kl: float
    histogram: tuple[int, ...]


def mode_histogram_kl(counts: np.ndarray) -> float:
    """``KL(q || uniform) = sum_k q_k log(K q_k)`` with q = counts / sum (nats, 0 log 0 = 0).

    ``inf`` when all counts are 0 (no sample landed on any mode).
    """
    from scipy.special import rel_entr  # local: SciPy is slow to import

    total = counts.sum()
    if total == 0:
        return float("inf")
    q = counts / total
    return float(rel_entr(q, np.full(q.shape, 1.0 / q.shape[0])).sum())


def mode_coverage(
    samples: ArrayLike, centres: ArrayLike, std: float, *, n_std: float = HIGH_QUALITY_STDS
) -> ModeCoverage:
    """Mode statistics of samples (N, D) from a mixture with modes ``centres`` (K, D).

    Each sample is assigned to its nearest centre; it is high-quality when that distance
    is <= ``n_std * std`` (3σ, ``std`` = per-mode standard deviation). ``histogram[k]`` counts
    high-quality samples of mode k; ``modes`` = #{k: histogram[k] >= 1};
    ``high_quality_fraction`` = #high-quality / N;
    ``reverse_kl = sum_k q_k log(K q_k)`` with q = histogram / #high-quality, i.e.
    KL(generated mode distribution || uniform), in nats; ``inf`` when no sample is
    high-quality. The protocol uses N = ``PROTOCOL_SAMPLES`` (2,500); other N are accepted.
    """
    from scipy.spatial.distance import cdist  # local: SciPy is slow to import

    x = as_features(samples, "samples")
    c = as_features(centres, "centres")
    check_same_dim(x, c, "samples", "centres")
    radius = check_positive_float(n_std, "n_std") * check_positive_float(std, "std")
    dist = cdist(x, c)  # (N, K)
    nearest = np.argmin(dist, axis=1)  # (N,)
    high_quality = dist[np.arange(x.shape[0]), nearest] <= radius  # (N,)
    counts = np.bincount(nearest[high_quality], minlength=c.shape[0])  # (K,)
    return ModeCoverage(
        modes=int(np.count_nonzero(counts)),
        high_quality_fraction=float(high_quality.mean()),
        reverse_kl=mode_histogram_kl(counts),
        histogram=tuple(int(v) for v in counts),
    )
