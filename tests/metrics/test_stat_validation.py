"""Boundary conversion and checks shared by the statistics."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics.statistics._validation import as_features, as_labels, as_probabilities


def test_torch_inputs_become_float64_numpy():
    for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.int64):
        x = torch.arange(6, dtype=dtype).reshape(3, 2)
        out = as_features(x)
        assert out.dtype == np.float64 and out.shape == (3, 2)
        assert_allclose(out, np.arange(6.0).reshape(3, 2))


def test_feature_checks():
    with pytest.raises(ShapeError):
        as_features(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError):
        as_features(np.zeros((4, 0)))
    with pytest.raises(MetricError, match="complex"):
        as_features(np.zeros((2, 2), dtype=complex))
    with pytest.raises(MetricError, match="NaN"):
        as_features(np.array([[1.0, np.inf]]))
    with pytest.raises(MetricError, match="at least 3"):
        as_features(np.zeros((2, 2)), min_samples=3)


def test_probability_checks():
    assert_allclose(as_probabilities(np.array([[0.0, 0.0]]), logits=True), [[0.5, 0.5]])
    assert_allclose(as_probabilities(np.array([[1000.0, 0.0]]), logits=True), [[1.0, 0.0]])
    with pytest.raises(MetricError, match="sum to 1"):
        as_probabilities(np.array([[0.5, 0.6]]))


def test_label_checks():
    assert as_labels(np.array([1.0, 2.0])).dtype == np.int64
    with pytest.raises(MetricError):
        as_labels(np.array([True, False]))
    with pytest.raises(MetricError):
        as_labels(np.array([0.5]))
