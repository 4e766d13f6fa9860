"""Error Minimization Criterion (EMC): how far held-out real samples lie from the generated set.

The reconstruction x̂ of a held-out real sample x is its nearest generated sample
(Euclidean), so EMC measures how far held-out real data lie from what the generator makes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.metrics.statistics._distances import nearest_neighbour
from gankit.metrics.statistics._validation import ArrayLike, as_features, check_same_dim


@dataclass(frozen=True)
class EMCResult:
    """EMC_MSE and EMC_RMS (by definition rms^2 = mse / 2)."""

    mse: float
    rms: float


def emc(real_heldout: ArrayLike, generated: ArrayLike) -> EMCResult:
    """Error Minimization Criterion of held-out real samples.

    With x̂_i the nearest generated sample to held-out real x_i and ``|.|`` the Euclidean
    norm over all D features:
    ``EMC_MSE = 2 * (1/n) sum_i |x_i - x̂_i|^2`` and ``EMC_RMS = sqrt((1/n) sum_i |x_i - x̂_i|^2)``
    — the factor 2 in MSE is part of the criterion's definition. Both are 0 when
    every held-out sample is generated exactly, and grow as the generated set moves away.
    """
    real = as_features(real_heldout, "real_heldout")
    gen = as_features(generated, "generated")
    check_same_dim(real, gen, "real_heldout", "generated")
    _, dist2 = nearest_neighbour(real, gen)  # (n,)
    mean_sq = float(dist2.mean())
    return EMCResult(mse=2.0 * mean_sq, rms=float(np.sqrt(mean_sq)))
