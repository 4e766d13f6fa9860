"""KID: explicit-loop unbiased MMD^2, torch-fidelity's subset algorithm, properties, errors."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import KIDResult, kid


def cubic_kernel_loop(a: np.ndarray, b: np.ndarray) -> float:
    d = len(a)
    return (sum(a[t] * b[t] for t in range(d)) / d + 1.0) ** 3


def unbiased_mmd2_loops(x: np.ndarray, y: np.ndarray) -> float:
    m = len(x)
    xx = sum(cubic_kernel_loop(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(cubic_kernel_loop(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(cubic_kernel_loop(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2.0 * xy / m**2


def torch_fidelity_kid_reference(f1, f2, subsets, subset_size, seed=2020):
    """torch-fidelity ``kid_features_to_metric``: RandomState subsets, cubic kernel, np.std."""
    n1, n2 = len(f1), len(f2)
    rng = np.random.RandomState(seed)
    mmds = np.zeros(subsets)
    for i in range(subsets):
        x = f1[rng.choice(n1, subset_size, replace=False)]
        y = f2[rng.choice(n2, subset_size, replace=False)]
        d = x.shape[1]
        k_11 = (x @ x.T / d + 1) ** 3
        k_22 = (y @ y.T / d + 1) ** 3
        k_12 = (x @ y.T / d + 1) ** 3
        m = subset_size
        a = k_11.sum() - np.diag(k_11).sum()
        b = k_22.sum() - np.diag(k_22).sum()
        c = k_12.sum()
        mmds[i] = (a + b) / (m * (m - 1)) - 2 * c / m**2
    return float(np.mean(mmds)), float(np.std(mmds))


def test_single_full_subset_matches_explicit_loops():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.5
    # A subset of size N without replacement is a permutation: MMD^2 is unchanged.
    result = kid(x, y, subsets=1, subset_size=6)
    assert_allclose(result.mean, unbiased_mmd2_loops(x, y), rtol=1e-10)
    assert result.std == 0.0


def test_parity_with_torch_fidelity_subsets():
    rng = np.random.default_rng(1)
    f1 = rng.normal(size=(120, 16))
    f2 = rng.normal(size=(90, 16)) * 1.2 + 0.2
    mean, std = torch_fidelity_kid_reference(f1, f2, subsets=25, subset_size=40)
    result = kid(f1, f2, subsets=25, subset_size=40)
    assert isinstance(result, KIDResult)
    assert_allclose(result.mean, mean, rtol=1e-5)
    assert_allclose(result.std, std, rtol=1e-5)


def test_parity_with_torch_fidelity_other_seed_and_float32_torch_input():
    rng = np.random.default_rng(2)
    f1 = rng.normal(size=(80, 8)).astype(np.float32)
    f2 = (rng.normal(size=(80, 8)) + 0.1).astype(np.float32)
    mean, std = torch_fidelity_kid_reference(f1.astype(np.float64), f2.astype(np.float64), 10, 30, seed=7)
    result = kid(torch.from_numpy(f1), torch.from_numpy(f2), subsets=10, subset_size=30, seed=7)
    assert_allclose([result.mean, result.std], [mean, std], rtol=1e-5)


def test_near_zero_for_same_distribution_and_monotone_in_shift():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    shifts = [0.0, 0.25, 0.5, 1.0, 2.0]
    means = [kid(x, y + s, subsets=20, subset_size=100).mean for s in shifts]
    assert abs(means[0]) < 0.1 * means[1]
    assert np.all(np.diff(means) > 0)


def test_identical_sets_give_the_unbiased_estimators_order_one_over_m_value():
    # KID(X, X) with full subsets: (S - T) * 2 / (m (m - 1)) - 2 S / m^2, S = sum K, T = trace K.
    x = np.random.default_rng(6).normal(size=(50, 4))
    k = (x @ x.T / 4 + 1) ** 3
    s, t, m = k.sum(), np.trace(k), 50
    expected = 2 * (s - t) / (m * (m - 1)) - 2 * s / m**2
    assert_allclose(kid(x, x, subsets=3, subset_size=m).mean, expected, rtol=1e-10)
    assert expected < 0


def test_generator_seed_is_deterministic():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    a = kid(x, y, subsets=5, subset_size=20, seed=np.random.default_rng(9))
    b = kid(x, y, subsets=5, subset_size=20, seed=np.random.default_rng(9))
    assert a == b


def test_too_few_samples_and_bad_arguments():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(30, 4))
    with pytest.raises(MetricError, match="subset_size=40 is larger"):
        kid(x, y, subset_size=40)
    with pytest.raises(MetricError, match="subset_size"):
        kid(x, y, subset_size=1)
    with pytest.raises(MetricError, match="subsets"):
        kid(x, y, subsets=0, subset_size=10)
    with pytest.raises(ShapeError):
        kid(x, rng.normal(size=(30, 5)), subset_size=10)
