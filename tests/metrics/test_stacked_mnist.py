"""Stacked-MNIST mode counting on hand-made per-channel labels."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import stacked_mnist_modes


def test_hand_computed_counts_and_kl():
    labels = np.array([[1, 2, 3], [1, 2, 3], [0, 0, 0], [9, 9, 9]])
    result = stacked_mnist_modes(labels)
    assert len(result.histogram) == 1000
    assert (result.histogram[123], result.histogram[0], result.histogram[999]) == (2, 1, 1)
    assert sum(result.histogram) == 4
    assert result.modes == 3
    # q = (1/2, 1/4, 1/4): sum q log(1000 q)
    expected = 0.5 * math.log(500) + 0.5 * math.log(250)
    assert_allclose(result.kl, expected)


def test_all_modes_uniform_and_total_collapse():
    ids = np.arange(1000)
    labels = torch.tensor(np.stack([ids // 100, ids // 10 % 10, ids % 10], axis=1))
    full = stacked_mnist_modes(labels)
    assert full.modes == 1000
    assert_allclose(full.kl, 0.0, atol=1e-12)
    collapsed = stacked_mnist_modes(np.full((26000, 3), 7))
    assert collapsed.modes == 1
    assert_allclose(collapsed.kl, math.log(1000))


def test_kl_grows_as_modes_are_dropped():
    values = []
    for used in (1000, 500, 100, 10):
        ids = np.arange(2000) % used
        values.append(stacked_mnist_modes(np.stack([ids // 100, ids // 10 % 10, ids % 10], axis=1)).kl)
    assert_allclose(values, [math.log(1000 / u) for u in (1000, 500, 100, 10)], atol=1e-12)
    assert np.all(np.diff(values) > 0)


def test_errors():
    with pytest.raises(MetricError, match=r"\[0, 10\)"):
        stacked_mnist_modes(np.array([[1, 2, 10]]))
    with pytest.raises(MetricError, match="non-negative"):
        stacked_mnist_modes(np.array([[1, -2, 3]]))
    with pytest.raises(MetricError, match="integer"):
        stacked_mnist_modes(np.array([[1.5, 2.0, 3.0]]))
    with pytest.raises(ShapeError):
        stacked_mnist_modes(np.array([1, 2, 3]))
    with pytest.raises(MetricError, match="non-empty"):
        stacked_mnist_modes(np.zeros((0, 3), dtype=int))
