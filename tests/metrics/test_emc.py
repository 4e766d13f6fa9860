"""EMC (seed 000): hand-computed values, brute-force reference, properties."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gankit.errors import ShapeError
from gankit.metrics import EMCResult, emc


def emc_loops(real, gen):
    sq = [min(float(np.sum((x - g) ** 2)) for g in gen) for x in real]
    return 2 * np.mean(sq), np.sqrt(np.mean(sq))


def test_hand_computed():
    real = np.array([[0.0, 0.0], [3.0, 0.0]])
    gen = np.array([[1.0, 0.0], [3.0, 2.0], [10.0, 10.0]])
    # nearest: (1, 0) at distance^2 1 and (3, 2) at distance^2 4 -> mean 2.5
    result = emc(real, gen)
    assert isinstance(result, EMCResult)
    assert_allclose([result.mse, result.rms], [5.0, np.sqrt(2.5)])


@pytest.mark.parametrize("dim", [3, 40])
def test_matches_brute_force(dim):
    rng = np.random.default_rng(dim)
    real, gen = rng.normal(size=(15, dim)), rng.normal(size=(20, dim))
    result = emc(real, gen)
    assert_allclose([result.mse, result.rms], emc_loops(real, gen), rtol=1e-9)


def test_zero_when_heldout_is_generated_and_monotone_in_shift():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(30, 2))
    gen = np.vstack([real, rng.normal(size=(30, 2))])
    assert_allclose([emc(real, gen).mse, emc(real, gen).rms], [0.0, 0.0], atol=1e-12)
    values = [emc(real, real + s).rms for s in (0.0, 0.1, 0.5, 2.0)]
    assert_allclose(values[0], 0.0, atol=1e-12)
    assert np.all(np.diff(values) > 0)


def test_shape_error():
    with pytest.raises(ShapeError):
        emc(np.zeros((3, 2)), np.zeros((3, 3)))
