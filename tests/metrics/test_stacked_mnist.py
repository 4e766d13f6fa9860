"""Stacked-MNIST mode counting on hand-made per-channel labels, and the KL's split into the
channels' own KLs plus their total correlation."""

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


def test_channel_kl_by_hand():
    labels = np.array([[1, 2, 3], [1, 2, 3], [0, 0, 0], [9, 9, 9]])
    result = stacked_mnist_modes(labels)
    # every channel: labels (a, a, b, c) -> q = (1/2, 1/4, 1/4) over 10 classes: sum q log(10 q)
    per_channel = 0.5 * math.log(5) + 0.5 * math.log(2.5)
    assert_allclose(result.channel_kl, [per_channel] * 3)
    assert_allclose(result.dependence, result.kl - 3 * per_channel)
    assert result.channel_counts == (
        (1, 2, 0, 0, 0, 0, 0, 0, 0, 1),  # channel 0: labels 1, 1, 0, 9
        (1, 0, 2, 0, 0, 0, 0, 0, 0, 1),
        (1, 0, 0, 2, 0, 0, 0, 0, 0, 1),
    )


def test_kl_is_channel_kls_plus_total_correlation():
    """kl = Σ_c KL(q_c || u_10) + TC, TC = Σ q log(q / Π_c q_c), computed here with NumPy; for
    independent channels (the exact product of three histograms) TC = 0."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, (5000, 3))
    labels[:2000, 2] = labels[:2000, 0]  # channel 2 copies channel 0 for 40 % of samples: dependent
    labels[:1000, 1] = 1  # and channel 1 over-produces 1s
    result = stacked_mnist_modes(labels)
    q = np.zeros((10, 10, 10))
    np.add.at(q, (labels[:, 0], labels[:, 1], labels[:, 2]), 1.0)
    q /= q.sum()
    m0, m1, m2 = q.sum((1, 2)), q.sum((0, 2)), q.sum((0, 1))
    product = m0[:, None, None] * m1[None, :, None] * m2[None, None, :]
    nz = q > 0
    tc = float((q[nz] * np.log(q[nz] / product[nz])).sum())
    assert_allclose(result.channel_kl, [float((m * np.log(10 * m)).sum()) for m in (m0, m1, m2)], rtol=1e-10)
    assert_allclose(result.dependence, tc, rtol=1e-9)
    assert tc > 0.05 and result.channel_kl[1] > 0.05  # both parts are really there
    # independent channels: every triple (a, b, c) weighted w_a · w_b · w_c exactly
    w = np.array([1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    a, b, c = np.meshgrid(np.arange(10), np.arange(10), np.arange(10), indexing="ij")
    reps = (w[a] * w[b] * w[c]).ravel()
    triples = np.repeat(np.stack([a.ravel(), b.ravel(), c.ravel()], axis=1), reps, axis=0)
    independent = stacked_mnist_modes(triples)
    p = w / w.sum()
    assert_allclose(independent.channel_kl, [float((p * np.log(10 * p)).sum())] * 3, rtol=1e-10)
    assert_allclose(independent.dependence, 0.0, atol=1e-10)


def test_all_modes_uniform_and_total_collapse():
    ids = np.arange(1000)
    labels = torch.tensor(np.stack([ids // 100, ids // 10 % 10, ids % 10], axis=1))
    full = stacked_mnist_modes(labels)
    assert full.modes == 1000
    assert_allclose(full.kl, 0.0, atol=1e-12)
    collapsed = stacked_mnist_modes(np.full((26000, 3), 7))
    assert collapsed.modes == 1
    assert_allclose(collapsed.kl, math.log(1000))
    assert_allclose(full.channel_kl, [0.0] * 3, atol=1e-12)
    assert_allclose(collapsed.channel_kl, [math.log(10)] * 3)  # all of the KL is in the marginals
    assert_allclose(collapsed.dependence, 0.0, atol=1e-12)


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
