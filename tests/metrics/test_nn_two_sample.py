"""1-NN two-sample test: brute-force leave-one-out loops, properties, errors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import NNTwoSample, one_nn_two_sample


def loo_1nn_loops(real, fake):
    points = [(p, 1) for p in real] + [(p, 0) for p in fake]
    correct = []
    for i, (p, label) in enumerate(points):
        best, best_label = np.inf, None
        for j, (q, other) in enumerate(points):
            if i == j:
                continue
            d = np.sqrt(np.sum((p - q) ** 2))
            if d < best:
                best, best_label = d, other
        correct.append(best_label == label)
    n = len(real)
    return np.mean(correct), np.mean(correct[:n]), np.mean(correct[n:])


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(9, 3)), rng.normal(size=(9, 3)) * 1.3 + 0.4
    result = one_nn_two_sample(real, fake)
    assert isinstance(result, NNTwoSample)
    assert_allclose([result.accuracy, result.real_accuracy, result.fake_accuracy], loo_1nn_loops(real, fake))


def test_high_dimensional_path_matches_brute_force():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(12, 40)), rng.normal(size=(12, 40)) + 0.2
    result = one_nn_two_sample(real, fake)
    assert_allclose([result.accuracy, result.real_accuracy, result.fake_accuracy], loo_1nn_loops(real, fake))


def test_about_half_for_same_distribution_and_grows_with_shift():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    values = [one_nn_two_sample(real, fake + s).accuracy for s in (0.0, 1.0, 2.0, 4.0)]
    assert_allclose(values[0], 0.5, atol=0.06)
    assert np.all(np.diff(values) > 0)
    assert values[-1] > 0.95


def test_copy_of_real_set_scores_zero_memorisation():
    real = np.random.default_rng(4).normal(size=(50, 3))
    result = one_nn_two_sample(real, real.copy())
    assert (result.accuracy, result.real_accuracy, result.fake_accuracy) == (0.0, 0.0, 0.0)


def test_collapsed_fakes_are_recognised():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(100, 2))
    fake = np.zeros((100, 2)) + 1e-3 * rng.normal(size=(100, 2))  # mode collapse
    result = one_nn_two_sample(real, fake)
    assert result.fake_accuracy > 0.95
    assert result.accuracy > 0.9


def test_errors():
    rng = np.random.default_rng(6)
    with pytest.raises(MetricError, match="equally many"):
        one_nn_two_sample(rng.normal(size=(10, 2)), rng.normal(size=(11, 2)))
    with pytest.raises(MetricError, match="at least 2"):
        one_nn_two_sample(rng.normal(size=(1, 2)), rng.normal(size=(1, 2)))
    with pytest.raises(ShapeError):
        one_nn_two_sample(rng.normal(size=(10, 2)), rng.normal(size=(10, 3)))
