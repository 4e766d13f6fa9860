"""Improved precision/recall and density/coverage: brute-force loops, properties, errors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import density_coverage, precision_recall


def dist(a, b):
    return float(np.sqrt(np.sum((a - b) ** 2)))


def knn_radius_loops(points, k):
    radii = []
    for i, p in enumerate(points):
        others = sorted(dist(p, q) for j, q in enumerate(points) if j != i)
        radii.append(others[k - 1])
    return radii


def pr_loops(real, fake, k):
    r_real, r_fake = knn_radius_loops(real, k), knn_radius_loops(fake, k)
    precision = np.mean([any(dist(y, x) <= r for x, r in zip(real, r_real)) for y in fake])
    recall = np.mean([any(dist(x, y) <= r for y, r in zip(fake, r_fake)) for x in real])
    return precision, recall


def dc_loops(real, fake, k):
    r_real = knn_radius_loops(real, k)
    density = sum(1 for y in fake for x, r in zip(real, r_real) if dist(y, x) < r) / (k * len(fake))
    coverage = np.mean([any(dist(y, x) < r for y in fake) for x, r in zip(real, r_real)])
    return density, coverage


@pytest.mark.parametrize("dim", [2, 30])  # exact cdist path and BLAS path
def test_match_brute_force(dim):
    rng = np.random.default_rng(dim)
    real = rng.normal(size=(14, dim))
    fake = rng.normal(size=(11, dim)) * 0.8 + 0.3
    pr = precision_recall(real, fake, k=3)
    assert_allclose([pr.precision, pr.recall], pr_loops(real, fake, 3))
    dc = density_coverage(real, fake, k=5)
    assert_allclose([dc.density, dc.coverage], dc_loops(real, fake, 5))
    pr1 = precision_recall(real, fake, k=1)
    assert_allclose([pr1.precision, pr1.recall], pr_loops(real, fake, 1))


def test_identical_sets():
    x = np.random.default_rng(0).normal(size=(40, 4))
    pr = precision_recall(x, x.copy())
    assert (pr.precision, pr.recall) == (1.0, 1.0)
    dc = density_coverage(x, x.copy())
    assert dc.coverage == 1.0
    assert_allclose(dc.density, dc_loops(x, x, 5)[0])


def test_same_distribution_near_ideal_and_decreasing_with_shift():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    prs = [precision_recall(real, fake + s) for s in (0.0, 1.0, 2.0, 4.0)]
    dcs = [density_coverage(real, fake + s) for s in (0.0, 1.0, 2.0, 4.0)]
    assert prs[0].precision > 0.85 and prs[0].recall > 0.85
    assert_allclose(dcs[0].density, 1.0, atol=0.15)
    assert dcs[0].coverage > 0.85
    for values in (
        [p.precision for p in prs],
        [p.recall for p in prs],
        [d.density for d in dcs],
        [d.coverage for d in dcs],
    ):
        assert np.all(np.diff(values) < 0)
        assert values[-1] < 0.05


def test_collapse_keeps_precision_but_loses_recall():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(300, 2))
    fake = rng.normal(size=(300, 2)) * 0.1  # collapsed onto the densest part
    pr = precision_recall(real, fake)
    assert pr.precision > 0.95
    assert pr.recall < 0.3
    assert density_coverage(real, fake).coverage < 0.3


def test_errors():
    rng = np.random.default_rng(3)
    with pytest.raises(MetricError, match="at least 4"):
        precision_recall(rng.normal(size=(3, 2)), rng.normal(size=(10, 2)), k=3)
    with pytest.raises(MetricError, match="at least 6"):
        density_coverage(rng.normal(size=(10, 2)), rng.normal(size=(5, 2)), k=5)
    with pytest.raises(MetricError, match="k"):
        precision_recall(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), k=0)
    with pytest.raises(ShapeError):
        density_coverage(rng.normal(size=(10, 2)), rng.normal(size=(10, 3)))
