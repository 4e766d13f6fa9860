"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

Parity target: torch-fidelity ``kid_features_to_metric`` (same defaults: 100 subsets of
1000, cubic polynomial kernel, ``np.random.RandomState(2020)``, std with ddof=0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from gankit.errors import MetricError
from gankit.metrics.statistics._validation import (
    ArrayLike,
    SeedLike,
    as_features,
    check_positive_float,
    check_positive_int,
    check_same_dim,
    make_legacy_generator,
)
from gankit.metrics.statistics.mmd import mmd2_from_kernels, polynomial_kernel

TORCH_FIDELITY_SEED = 2020


@dataclass(frozen=True)
class KIDResult:
    """Mean and standard deviation (ddof=0) of the unbiased MMD^2 over the subsets."""

    mean: float
    std: float


def kid(
    feats_real: ArrayLike,
    feats_fake: ArrayLike,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: Optional[float] = None,
    coef0: float = 1.0,
    seed: SeedLike = TORCH_FIDELITY_SEED,
) -> KIDResult:
    """KID: unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets.

    ``k(x, y) = (x.y / D + 1)^3``; per subset pair (X, Y) of size m,
    ``MMD^2_u = [sum_{i!=j} k(x_i, x_j) + sum_{i!=j} k(y_i, y_j)] / (m(m-1))
    - 2 sum_{i,j} k(x_i, y_j) / m^2``; returns mean and std (ddof=0) over ``subsets``.

    Each subset draws ``rng.choice(N_real, m, replace=False)`` then
    ``rng.choice(N_fake, m, replace=False)``; an int ``seed`` uses
    ``np.random.RandomState(seed)``, so the default reproduces torch-fidelity exactly. A
    ``numpy.random.Generator`` may be passed instead. The statistic is symmetric; only the
    draw order depends on argument order, so for bit-parity pass torch-fidelity's
    ``input1`` features first. Too few samples: ``subset_size``
    larger than either set (or < 2) raises ``MetricError``, as torch-fidelity does.
    The mean can be slightly negative when the two distributions match, and KID of a set
    with itself is not 0 but O(1/m) negative (shared points enter the cross term).
    """
    n_subsets = check_positive_int(subsets, "subsets")
    m = check_positive_int(subset_size, "subset_size", minimum=2)
    real = as_features(feats_real, "feats_real")
    fake = as_features(feats_fake, "feats_fake")
    check_same_dim(real, fake, "feats_real", "feats_fake")
    if m > real.shape[0] or m > fake.shape[0]:
        raise MetricError(
            f"KID subset_size={m} is larger than the number of samples "
            f"(feats_real: {real.shape[0]}, feats_fake: {fake.shape[0]}); "
            "pass a smaller subset_size or more samples"
        )
    deg = check_positive_int(degree, "degree")
    g = None if gamma is None else check_positive_float(gamma, "gamma")
    rng = make_legacy_generator(seed)
    values = np.empty(n_subsets, dtype=np.float64)
    for i in range(n_subsets):
        x = real[rng.choice(real.shape[0], m, replace=False)]  # (m, D)
        y = fake[rng.choice(fake.shape[0], m, replace=False)]  # (m, D)
        values[i] = mmd2_from_kernels(
            polynomial_kernel(x, x, degree=deg, gamma=g, coef0=coef0),
            polynomial_kernel(y, y, degree=deg, gamma=g, coef0=coef0),
            polynomial_kernel(x, y, degree=deg, gamma=g, coef0=coef0),
            "unbiased",
        )
    return KIDResult(mean=float(np.mean(values)), std=float(np.std(values)))
