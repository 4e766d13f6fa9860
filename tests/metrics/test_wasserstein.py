"""Exact and sliced Wasserstein: SciPy / assignment / POT references, properties, errors."""

import itertools

import numpy as np
import ot
import pytest
import scipy.stats
from numpy.testing import assert_allclose
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from gankit.errors import MetricError, ShapeError
from gankit.metrics import sliced_wasserstein_distance, wasserstein_distance
from gankit.metrics.statistics.wasserstein import wasserstein_1d_power


def test_exact_1d_matches_scipy_unequal_sizes():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=37), rng.normal(size=23) * 2 + 0.5
    expected = scipy.stats.wasserstein_distance(u, v)
    assert_allclose(wasserstein_distance(u[:, None], v[:, None]), expected, rtol=1e-9)


def test_exact_2d_matches_brute_force_over_permutations():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) + 1.0
    for p in (1.0, 2.0):
        best = min(
            sum(np.linalg.norm(x[i] - y[perm[i]]) ** p for i in range(6)) / 6
            for perm in itertools.permutations(range(6))
        )
        assert_allclose(wasserstein_distance(x, y, p=p), best ** (1 / p), rtol=1e-9)


def test_exact_matches_assignment_on_larger_equal_sets():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(60, 5)), rng.normal(size=(60, 5)) * 1.5
    cost = cdist(x, y) ** 2
    rows, cols = linear_sum_assignment(cost)
    assert_allclose(wasserstein_distance(x, y, p=2), np.sqrt(cost[rows, cols].mean()), rtol=1e-9)


def test_translation_gives_shift_norm_and_zero_on_identical():
    x = np.random.default_rng(3).normal(size=(40, 3))
    direction = np.array([1.0, 2.0, -2.0]) / 3.0
    shifts = [0.0, 0.5, 1.0, 2.0]
    for p in (1.0, 2.0):
        values = [wasserstein_distance(x, x + s * direction, p=p) for s in shifts]
        assert_allclose(values, shifts, rtol=1e-9, atol=1e-12)
        assert np.all(np.diff(values) > 0)


def test_sliced_matches_pot_with_same_projections():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4)) + 0.3
    dirs = rng.normal(size=(16, 4))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    for p in (1, 2):
        expected = ot.sliced_wasserstein_distance(x, y, projections=dirs.T, p=p)
        got = sliced_wasserstein_distance(x, y, projections=dirs, p=p)
        assert_allclose(got, float(expected), rtol=1e-9)


def test_1d_quantile_transport_matches_pot_emd_unequal_sizes():
    rng = np.random.default_rng(5)
    u, v = rng.normal(size=7), rng.normal(size=4) + 0.7
    for p in (1.0, 2.0, 3.0):
        cost = np.abs(u[:, None] - v[None, :]) ** p
        expected = ot.emd2(np.full(7, 1 / 7), np.full(4, 1 / 4), cost)
        assert_allclose(wasserstein_1d_power(u[None], v[None], p)[0], expected, rtol=1e-9)


def test_sliced_equals_exact_in_one_dimension():
    rng = np.random.default_rng(6)
    u, v = rng.normal(size=(30, 1)), rng.normal(size=(45, 1)) * 0.5
    for p in (1.0, 2.0):
        assert_allclose(
            sliced_wasserstein_distance(u, v, p=p, n_projections=3),
            wasserstein_distance(u, v, p=p),
            rtol=1e-9,
        )


def test_sliced_translation_closed_form_zero_and_monotone():
    x = np.random.default_rng(7).normal(size=(200, 6))
    direction = np.ones(6) / np.sqrt(6)
    dirs = np.random.default_rng(8).normal(size=(64, 6))
    unit = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    shifts = [0.0, 0.5, 1.0, 2.0]
    values = [sliced_wasserstein_distance(x, x + s * direction, projections=dirs) for s in shifts]
    # Each projection is shifted by theta.s, so SW_2 = s * sqrt(mean (theta.d)^2).
    expected = [s * np.sqrt(np.mean((unit @ direction) ** 2)) for s in shifts]
    assert_allclose(values, expected, rtol=1e-9, atol=1e-12)
    assert np.all(np.diff(values) > 0)


def test_sliced_seeded_and_bounded_by_exact():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(80, 10)), rng.normal(size=(80, 10)) + 0.2
    a = sliced_wasserstein_distance(x, y, seed=3)
    assert a == sliced_wasserstein_distance(x, y, seed=3)
    assert a != sliced_wasserstein_distance(x, y, seed=4)
    assert a <= wasserstein_distance(x, y, p=2)


def test_errors():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(20, 2))
    with pytest.raises(MetricError, match="max_samples"):
        wasserstein_distance(x, x, max_samples=10)
    with pytest.raises(MetricError, match="p must be >= 1"):
        wasserstein_distance(x, x, p=0.5)
    with pytest.raises(ShapeError):
        wasserstein_distance(x, rng.normal(size=(20, 3)))
    with pytest.raises(ShapeError):
        sliced_wasserstein_distance(x, x, projections=np.ones((4, 3)))
    with pytest.raises(MetricError, match="non-zero"):
        sliced_wasserstein_distance(x, x, projections=np.zeros((2, 2)))
    with pytest.raises(MetricError, match="n_projections"):
        sliced_wasserstein_distance(x, x, n_projections=0)
