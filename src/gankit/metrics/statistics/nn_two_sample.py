"""Leave-one-out 1-nearest-neighbour two-sample test.

Lopez-Paz & Oquab 2017 ("Revisiting Classifier Two-Sample Tests"); used as a GAN metric by
Xu et al. 2018 ("An empirical study on evaluation metrics of GANs"): ≈ 50 % is ideal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.errors import MetricError
from gankit.metrics.statistics._distances import squared_distance_blocks
from gankit.metrics.statistics._validation import ArrayLike, as_features, check_same_dim


@dataclass(frozen=True)
class NNTwoSample:
    """Leave-one-out 1-NN accuracies: overall, on the real points and on the fake points."""

    accuracy: float
    real_accuracy: float
    fake_accuracy: float


def one_nn_two_sample(real: ArrayLike, fake: ArrayLike) -> NNTwoSample:
    """Leave-one-out 1-NN classifier accuracy on real ∪ fake (Lopez-Paz & Oquab 2017).

    Label real points 1 and fake points 0; each point is classified by the label of its
    nearest *other* point of the union (Euclidean; exact distance ties go to the lower
    index, real before fake). ``accuracy`` is the fraction classified correctly;
    ``real_accuracy`` / ``fake_accuracy`` are the same over the real / fake points only.
    Reading (Xu et al. 2018): ≈ 0.5 when the sets are indistinguishable;
    → 1 when they separate (low real accuracy wants realistic samples around the real
    ones; high fake accuracy flags collapsed samples); well below 0.5 (→ 0 for a copy of the
    real set) flags memorisation. Requires equal sizes (so 0.5 is chance) with N >= 2.
    """
    r = as_features(real, "real", min_samples=2)
    f = as_features(fake, "fake", min_samples=2)
    check_same_dim(r, f, "real", "fake")
    n = r.shape[0]
    if f.shape[0] != n:
        raise MetricError(
            f"the 1-NN two-sample test needs equally many real and fake samples (so that 0.5 is "
            f"chance), got {n} and {f.shape[0]}; subsample the larger set"
        )
    union = np.concatenate([r, f])  # (2N, D)
    labels = np.concatenate([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])  # (2N,)
    correct = np.empty(2 * n, dtype=bool)
    for start, block in squared_distance_blocks(union, union):
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = np.inf  # leave the point itself out
        nearest = np.argmin(block, axis=1)  # (B,)
        correct[start : start + block.shape[0]] = labels[nearest] == labels[start + rows]
    return NNTwoSample(
        accuracy=float(correct.mean()),
        real_accuracy=float(correct[:n].mean()),
        fake_accuracy=float(correct[n:].mean()),
    )
