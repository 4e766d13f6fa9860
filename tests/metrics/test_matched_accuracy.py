import itertools

import numpy as np
import pytest

from gankit.errors import MetricError, ShapeError
from gankit.metrics.statistics import matched_accuracy


def _brute_force(codes, labels, k):
    return max(np.mean([perm[c] == y for c, y in zip(codes, labels)]) for perm in itertools.permutations(range(k)))


def test_permuted_codes_match_perfectly():
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    codes = np.array([2, 2, 0, 0, 1, 1, 1])  # code 2 -> class 0, 0 -> 1, 1 -> 2
    res = matched_accuracy(codes, labels)
    assert res.accuracy == 1.0 and res.mapping == (1, 2, 0)


def test_equals_brute_force_over_permutations():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 60)
    codes = np.where(rng.random(60) < 0.6, (labels + 1) % 4, rng.integers(0, 4, 60))
    assert matched_accuracy(codes, labels).accuracy == pytest.approx(_brute_force(codes, labels, 4))


def test_bad_input():
    with pytest.raises(ShapeError):
        matched_accuracy([0, 1], [0])
    with pytest.raises(MetricError, match="at least one"):
        matched_accuracy([], [])
