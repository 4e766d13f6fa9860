"""Class-conditional accuracy on hand-made labels."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import class_accuracy


def test_hand_computed():
    intended = np.array([0, 0, 1, 1, 1, 3])
    predicted = np.array([0, 1, 1, 1, 0, 3])
    result = class_accuracy(predicted, intended)
    assert_allclose(result.accuracy, 4 / 6)
    assert len(result.per_class) == 4
    assert_allclose([result.per_class[0], result.per_class[1], result.per_class[3]], [0.5, 2 / 3, 1.0])
    assert math.isnan(result.per_class[2])


def test_perfect_and_torch_input_and_n_classes():
    y = torch.arange(10) % 5
    result = class_accuracy(y, y.clone(), n_classes=6)
    assert result.accuracy == 1.0
    assert result.per_class[:5] == (1.0,) * 5
    assert math.isnan(result.per_class[5])


def test_errors():
    with pytest.raises(ShapeError):
        class_accuracy(np.array([0, 1]), np.array([0, 1, 2]))
    with pytest.raises(ShapeError):
        class_accuracy(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int))
    with pytest.raises(MetricError, match="at least one"):
        class_accuracy(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(MetricError, match=r"\[0, 2\)"):
        class_accuracy(np.array([0, 2]), np.array([0, 1]), n_classes=2)
