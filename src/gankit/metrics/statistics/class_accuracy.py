"""Class-conditional accuracy of samples from a conditional generator.

The intended label is the class the generator was asked for; the predicted label comes
from a classifier trained on real data (as in the AC-GAN evaluation, Odena et al. 2017).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from gankit.errors import MetricError, ShapeError
from gankit.metrics.statistics._validation import ArrayLike, as_labels, check_positive_int


@dataclass(frozen=True)
class ClassAccuracy:
    """Overall accuracy and per-class accuracy (NaN for classes never intended)."""

    accuracy: float
    per_class: tuple[float, ...]


def class_accuracy(
    predicted: ArrayLike, intended: ArrayLike, *, n_classes: Optional[int] = None
) -> ClassAccuracy:
    """Fraction of samples whose predicted label equals the intended label.

    ``accuracy = (1/N) sum_i 1[pred_i == intended_i]``; ``per_class[c]`` is the same over
    samples with ``intended_i == c`` (NaN when no sample was intended as c).
    ``n_classes`` defaults to 1 + the largest label seen.
    """
    pred = as_labels(predicted, "predicted")
    want = as_labels(intended, "intended")
    if pred.shape != want.shape:
        raise ShapeError(
            f"predicted and intended must have the same shape, got {pred.shape} and {want.shape}"
        )
    if pred.shape[0] == 0:
        raise MetricError("class accuracy needs at least one sample")
    largest = int(max(pred.max(), want.max()))
    classes = largest + 1 if n_classes is None else check_positive_int(n_classes, "n_classes")
    if largest >= classes:
        raise MetricError(f"labels must lie in [0, {classes}), got {largest}")
    correct = pred == want  # (N,)
    totals = np.bincount(want, minlength=classes)  # (C,)
    hits = np.bincount(want, weights=correct.astype(np.float64), minlength=classes)  # (C,)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, hits / np.maximum(totals, 1), np.nan)
    return ClassAccuracy(accuracy=float(correct.mean()), per_class=tuple(float(v) for v in per_class))
