"""Mixture mode coverage (VEEGAN/PacGAN protocol) on hand-made 2-D samples."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import ModeCoverage, mode_coverage

CENTRES = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
STD = 0.1  # high quality: within 0.3 of the nearest centre


def test_hand_computed_histogram_fraction_and_reverse_kl():
    samples = np.array(
        [
            [1.0, 0.0],
            [1.2, 0.1],  # distance sqrt(0.05) ~ 0.224 <= 0.3
            [0.75, -0.15],  # distance sqrt(0.085) ~ 0.292 <= 0.3
            [0.0, 1.29],  # 0.29 from mode 1
            [0.0, 0.0],  # 1.0 from every mode: low quality
            [-1.31, 0.0],  # 0.31 from mode 2: low quality
        ]
    )
    result = mode_coverage(samples, CENTRES, STD)
    assert isinstance(result, ModeCoverage)
    assert result.histogram == (3, 1, 0, 0)
    assert result.modes == 2
    assert_allclose(result.high_quality_fraction, 4 / 6)
    # q = (3/4, 1/4, 0, 0): KL(q || U_4) = 3/4 log 3 + 1/4 log 1
    assert_allclose(result.reverse_kl, 0.75 * math.log(3.0))


def test_uniform_perfect_samples_and_torch_input():
    samples = torch.tensor(np.repeat(CENTRES, 5, axis=0))
    result = mode_coverage(samples, torch.tensor(CENTRES), STD)
    assert (result.modes, result.histogram) == (4, (5, 5, 5, 5))
    assert result.high_quality_fraction == 1.0
    assert_allclose(result.reverse_kl, 0.0, atol=1e-15)


def test_collapse_and_growing_shift():
    # all samples on one mode: KL = log K
    one = mode_coverage(np.repeat(CENTRES[:1], 10, axis=0), CENTRES, STD)
    assert one.modes == 1
    assert_allclose(one.reverse_kl, math.log(4))
    base = np.repeat(CENTRES, 25, axis=0) + np.random.default_rng(0).normal(size=(100, 2)) * STD
    shifts = (0.0, 0.1, 0.2, 0.4)
    fractions = [mode_coverage(base + [s, 0.0], CENTRES, STD).high_quality_fraction for s in shifts]
    assert np.all(np.diff(fractions) < 0)


def test_no_high_quality_sample_gives_infinite_kl():
    result = mode_coverage(np.array([[5.0, 5.0]]), CENTRES, STD)
    assert (result.modes, result.high_quality_fraction, result.histogram) == (0, 0.0, (0, 0, 0, 0))
    assert result.reverse_kl == math.inf


def test_errors():
    with pytest.raises(ShapeError):
        mode_coverage(np.zeros((3, 3)), CENTRES, STD)
    with pytest.raises(MetricError, match="std"):
        mode_coverage(np.zeros((3, 2)), CENTRES, 0.0)
