"""EBGAN, BEGAN and MAGAN losses and state helpers, against hand / NumPy values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.losses.energy import (
    BEGANBalance,
    MAGANMargin,
    began_convergence,
    began_d_loss,
    began_g_loss,
    began_k_update,
    ebgan_d_loss,
    ebgan_g_loss,
    magan_d_loss,
    magan_g_loss,
    magan_margin_update,
    pulling_away_term,
)

REAL_E = [0.2, 1.5, 0.7]  # per-sample reconstruction energies
FAKE_E = [0.5, 3.0, 1.2]


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def test_ebgan_hand_values_and_per_sample_hinge():
    m = 1.0
    hand = (0.2 + 1.5 + 0.7) / 3 + (0.5 + 0.0 + 0.0) / 3
    assert_close(ebgan_d_loss(_t(REAL_E), _t(FAKE_E), m), _t(hand))
    assert_close(ebgan_g_loss(_t(FAKE_E)), _t((0.5 + 3.0 + 1.2) / 3))
    # the hinge is per sample: on the batch mean it would be max(0, 1 - 1.567) = 0
    batch_hinge = np.mean(REAL_E) + max(0.0, m - np.mean(FAKE_E))
    assert abs(hand - batch_hinge) > 0.1
    assert_close(magan_d_loss(_t(REAL_E), _t(FAKE_E), m), _t(hand))
    assert_close(magan_g_loss(_t(FAKE_E)), ebgan_g_loss(_t(FAKE_E)))


def test_pulling_away_term_against_explicit_loops():
    codes = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0]])
    n = len(codes)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                cos = codes[i] @ codes[j] / (np.linalg.norm(codes[i]) * np.linalg.norm(codes[j]))
                total += cos**2
    assert_close(pulling_away_term(_t(codes)), _t(total / (n * (n - 1))))
    # (N, C, H, W) codes are flattened per sample
    assert_close(pulling_away_term(_t(codes).view(3, 3, 1, 1)), _t(total / (n * (n - 1))))


def test_pulling_away_term_extremes():
    assert_close(pulling_away_term(torch.eye(4, dtype=torch.float64)), _t(0.0))  # orthogonal
    same = _t([[1.0, -2.0]]).repeat(5, 1)  # (5, 2) identical codes
    assert_close(pulling_away_term(same), _t(1.0))
    assert_close(pulling_away_term(3.0 * same * torch.tensor([[1.0], [-1.0], [2.0], [1.0], [5.0]])), _t(1.0))
    with pytest.raises(ShapeError):
        pulling_away_term(torch.ones(1, 3))


def test_began_hand_values():
    k = 0.3
    assert_close(began_d_loss(_t(REAL_E), _t(FAKE_E), k), _t(0.8 - 0.3 * 4.7 / 3))
    assert_close(began_g_loss(_t(FAKE_E)), _t(4.7 / 3))
    # k + lambda_k (gamma L(x) - L(G(z))) = 0.3 + 0.1 (0.5 * 0.8 - 4.7/3)
    assert_close(began_k_update(k, _t(REAL_E), _t(FAKE_E), 0.5, 0.1), 0.3 + 0.1 * (0.4 - 4.7 / 3))
    assert began_k_update(0.01, 0.8, 4.7, 0.5, 0.1) == 0.0  # clipped at 0
    assert began_k_update(0.99, 4.0, 0.1, 0.5, 0.1) == 1.0  # clipped at 1
    assert_close(began_convergence(_t(REAL_E), _t(FAKE_E), 0.5), 0.8 + abs(0.4 - 4.7 / 3))


def test_began_balance_sequence_and_state():
    bal = BEGANBalance(gamma=0.7, lambda_k=0.05)
    k = 0.0
    rng = np.random.default_rng(0)
    for _ in range(20):
        r, f = rng.uniform(0.1, 1.0, 4), rng.uniform(0.1, 1.0, 4)
        k = min(max(k + 0.05 * (0.7 * r.mean() - f.mean()), 0.0), 1.0)
        assert_close(bal.update(_t(r), _t(f)), k)
    assert_close(bal.d_loss(_t(REAL_E), _t(FAKE_E)), _t(0.8 - k * 4.7 / 3))
    assert_close(bal.convergence(0.8, 1.0), 0.8 + abs(0.7 * 0.8 - 1.0))
    restored = BEGANBalance()
    restored.load_state_dict(json.loads(json.dumps(bal.state_dict())))
    assert restored.state_dict() == bal.state_dict()


@pytest.mark.parametrize(
    "real, fake, prev, expected",
    [
        (0.6, 1.5, 1.4, 0.6),  # all three conditions hold: m <- E_real
        (1.2, 1.5, 1.4, 1.0),  # E_real >= m
        (0.6, 0.5, 0.4, 1.0),  # E_real >= E_fake
        (0.6, 1.5, 1.6, 1.0),  # the fake energy decreased since last epoch
        (0.6, 1.5, math.inf, 1.0),  # first epoch (S_G,0 = inf)
    ],
)
def test_magan_margin_rule(real, fake, prev, expected):
    assert magan_margin_update(1.0, real, fake, prev) == expected


def test_magan_margin_epochs_and_state():
    mm = MAGANMargin()
    mm.observe(_t([0.1]), _t([0.2]))
    with pytest.raises(RuntimeError):  # margin not initialised
        mm.end_epoch()
    mm = MAGANMargin()
    assert mm.initialise(_t([1.0, 1.0])) == 1.0
    # epoch 1: real mean 0.6 < m and < fake mean 1.5, but previous fake sum is inf
    mm.observe(_t([0.5, 0.7]), _t([1.0, 2.0]))
    assert mm.end_epoch() is False and mm.margin == 1.0
    # epoch 2 (two batches): real mean 0.4, fake mean 1.6 >= 1.5 -> m = 0.4
    mm.observe(_t([0.3, 0.5]), _t([1.2, 1.6]))
    state = json.loads(json.dumps(mm.state_dict()))  # mid-epoch checkpoint
    resumed = MAGANMargin()
    resumed.load_state_dict(state)
    for m in (mm, resumed):
        m.observe(_t([0.4, 0.4]), _t([1.8, 1.8]))
        assert m.end_epoch() is True
        assert_close(m.margin, 0.4)
    # epoch 3: fake mean dropped (1.0 < 1.6) -> unchanged
    mm.observe(_t([0.1]), _t([1.0]))
    assert mm.end_epoch() is False
    assert_close(mm.margin, 0.4)


def test_shape_errors():
    with pytest.raises(ShapeError):
        ebgan_d_loss(torch.tensor(1.0), _t(FAKE_E), 1.0)
    with pytest.raises(ShapeError):
        began_g_loss(torch.zeros(0))
