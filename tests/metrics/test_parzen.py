"""Parzen/KDE log-likelihood: SciPy logpdf/logsumexp reference, bandwidth selection, errors."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from gankit.errors import MetricError, ShapeError
from gankit.metrics import kde_log_density, parzen_log_likelihood


def kde_reference(points, samples, sigma):
    d = samples.shape[1]
    out = []
    for x in points:
        logs = [multivariate_normal.logpdf(x, mean=y, cov=sigma**2 * np.eye(d)) for y in samples]
        out.append(logsumexp(logs) - np.log(len(samples)))
    return np.array(out)


def test_kde_log_density_matches_scipy():
    rng = np.random.default_rng(0)
    samples, points = rng.normal(size=(9, 3)), rng.normal(size=(5, 3))
    assert_allclose(kde_log_density(points, samples, 0.7), kde_reference(points, samples, 0.7), rtol=1e-10)


def test_single_kernel_is_a_normal_density():
    points = np.array([[0.0], [1.0], [-2.5]])
    assert_allclose(kde_log_density(points, np.zeros((1, 1)), 0.5), norm.logpdf(points[:, 0], scale=0.5))


def test_bandwidth_selected_on_validation_and_result_on_test():
    rng = np.random.default_rng(1)
    gen, val, test = rng.normal(size=(60, 2)), rng.normal(size=(20, 2)), rng.normal(size=(25, 2))
    grid = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
    val_scores = [kde_reference(val, gen, s).mean() for s in grid]
    best = grid[int(np.argmax(val_scores))]
    assert best not in (grid[0], grid[-1])
    expected = kde_reference(test, gen, best)
    result = parzen_log_likelihood(gen, test, val, bandwidths=grid)
    assert result.bandwidth == best
    assert_allclose(result.log_likelihood, expected.mean(), rtol=1e-10)
    assert_allclose(result.std_error, expected.std() / np.sqrt(len(expected)), rtol=1e-10)


def test_decreases_with_growing_shift():
    rng = np.random.default_rng(2)
    gen, val, test = rng.normal(size=(200, 2)), rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
    grid = np.logspace(-2, 2, 21)
    values = []
    for s in (0.0, 1.0, 2.0, 4.0):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # the optimum lies inside the grid
            values.append(parzen_log_likelihood(gen + s, test, val, bandwidths=grid).log_likelihood)
    assert np.all(np.diff(values) < 0)


def test_warns_when_best_bandwidth_is_at_the_grid_edge():
    rng = np.random.default_rng(3)
    gen, val, test = rng.normal(size=(30, 2)), rng.normal(size=(10, 2)), rng.normal(size=(10, 2))
    with pytest.warns(UserWarning, match="end of the grid"):
        parzen_log_likelihood(gen, test, val, bandwidths=[1e-4, 2e-4])


def test_errors():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 2))
    with pytest.raises(MetricError, match="at least 2"):
        parzen_log_likelihood(x, x[:1], x)
    with pytest.raises(MetricError, match="bandwidth"):
        parzen_log_likelihood(x, x, x, bandwidths=[0.1, -1.0])
    with pytest.raises(MetricError, match="at least one"):
        parzen_log_likelihood(x, x, x, bandwidths=[])
    with pytest.raises(ShapeError):
        parzen_log_likelihood(x, rng.normal(size=(10, 3)), x)
    with pytest.raises(ShapeError):
        kde_log_density(x, rng.normal(size=(10, 3)), 1.0)
