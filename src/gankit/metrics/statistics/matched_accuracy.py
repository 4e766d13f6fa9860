"""Accuracy of an unsupervised assignment after the best one-to-one matching (cluster accuracy).

Used for InfoGAN: how well the categorical code agrees with the classes once each code value
is mapped to one class (Chen et al. 2016 report ≈ 95 % on MNIST).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.errors import MetricError, ShapeError
from gankit.metrics.statistics._validation import ArrayLike, as_labels


@dataclass(frozen=True)
class MatchedAccuracy:
    accuracy: float
    mapping: tuple[int, ...]  # mapping[code] = the class matched to that code value (-1: unmatched)


def matched_accuracy(codes: ArrayLike, labels: ArrayLike) -> MatchedAccuracy:
    """``max over one-to-one maps m of (1/N) Σ_i 1[m(code_i) = label_i]``, found with the
    Hungarian algorithm on the code × label contingency table (Kuhn 1955)."""
    c = as_labels(codes, "codes")
    y = as_labels(labels, "labels")
    if c.shape != y.shape:
        raise ShapeError(f"codes and labels must have the same shape (N,), got {c.shape} and {y.shape}")
    if len(c) == 0:
        raise MetricError("matched_acc needs at least one sample")
    table = np.zeros((int(c.max()) + 1, int(y.max()) + 1), dtype=np.int64)
    np.add.at(table, (c, y), 1)
    from scipy.optimize import linear_sum_assignment  # local: SciPy is slow to import

    rows, cols = linear_sum_assignment(table, maximize=True)
    mapping = np.full(table.shape[0], -1, dtype=np.int64)
    mapping[rows] = cols
    return MatchedAccuracy(float(table[rows, cols].sum() / len(c)), tuple(int(m) for m in mapping))
