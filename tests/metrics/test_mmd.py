"""Kernel MMD: explicit double-loop references for both kernels and estimators, properties."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.spatial.distance import pdist

from gankit.errors import MetricError, ShapeError
from gankit.metrics import mmd2


def gaussian_loop(a, b, sigma):
    return math.exp(-sum((a[t] - b[t]) ** 2 for t in range(len(a))) / (2 * sigma**2))


def poly_loop(a, b, degree=3, gamma=None, coef0=1.0):
    gamma = 1.0 / len(a) if gamma is None else gamma
    return (gamma * sum(a[t] * b[t] for t in range(len(a))) + coef0) ** degree


def mmd2_loops(x, y, k, biased):
    m, n = len(x), len(y)
    if biased:
        xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m)) / m**2
        yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n)) / n**2
    else:
        xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3)), rng.normal(size=(7, 3)) + 0.4


@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_gaussian_matches_loops(tiny, estimator):
    x, y = tiny
    expected = mmd2_loops(x, y, lambda a, b: gaussian_loop(a, b, 1.3), estimator == "biased")
    assert_allclose(mmd2(x, y, bandwidth=1.3, estimator=estimator), expected, rtol=1e-10)


@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_polynomial_matches_loops(tiny, estimator):
    x, y = tiny
    expected = mmd2_loops(x, y, poly_loop, estimator == "biased")
    got = mmd2(x, y, kernel="polynomial", estimator=estimator)
    assert_allclose(got, expected, rtol=1e-10)
    expected2 = mmd2_loops(x, y, lambda a, b: poly_loop(a, b, 2, 0.5, 0.3), estimator == "biased")
    got2 = mmd2(x, y, kernel="polynomial", estimator=estimator, degree=2, gamma=0.5, coef0=0.3)
    assert_allclose(got2, expected2, rtol=1e-10)


def test_median_heuristic_bandwidth(tiny):
    x, y = tiny
    sigma = float(np.median(pdist(np.concatenate([x, y]))))
    expected = mmd2_loops(x, y, lambda a, b: gaussian_loop(a, b, sigma), False)
    assert_allclose(mmd2(x, y), expected, rtol=1e-10)


@pytest.mark.parametrize("kernel", ["gaussian", "polynomial"])
def test_biased_is_zero_on_identical_sets(kernel):
    x = np.random.default_rng(1).normal(size=(40, 4))
    assert_allclose(mmd2(x, x, kernel=kernel, estimator="biased", bandwidth=1.0), 0.0, atol=1e-12)


def test_unbiased_on_identical_sets_is_the_known_order_one_over_m_value():
    x = np.random.default_rng(2).normal(size=(40, 4))
    k = np.exp(-((x[:, None] - x[None]) ** 2).sum(-1) / 2.0)
    off = (k.sum() - np.trace(k)) / (40 * 39)
    assert_allclose(mmd2(x, x, bandwidth=1.0), -2 * (1.0 - off) / 40, rtol=1e-10)


@pytest.mark.parametrize("kernel", ["gaussian", "polynomial"])
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_near_zero_for_same_distribution_and_monotone_in_shift(kernel, estimator):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))
    values = [mmd2(x, y + s, kernel=kernel, estimator=estimator, bandwidth=2.0) for s in (0.0, 0.5, 1.0, 2.0)]
    assert abs(values[0]) < 0.2 * values[1]
    assert np.all(np.diff(values) > 0)


def test_errors():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 2))
    with pytest.raises(MetricError, match="at least 2"):
        mmd2(x[:1], x)
    assert mmd2(x[:1], x, estimator="biased", bandwidth=1.0) >= 0.0
    with pytest.raises(MetricError, match="kernel"):
        mmd2(x, x, kernel="laplace")
    with pytest.raises(MetricError, match="estimator"):
        mmd2(x, x, estimator="linear")
    with pytest.raises(MetricError, match="bandwidth"):
        mmd2(x, x, bandwidth=0.0)
    with pytest.raises(MetricError, match="bandwidth"):
        mmd2(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ShapeError):
        mmd2(x, rng.normal(size=(5, 3)))
