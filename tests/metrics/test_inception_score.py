"""Inception Score / Mode Score: OpenAI + torch-fidelity algorithms in explicit NumPy."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import inception_score, mode_score


def openai_is_reference(preds: np.ndarray, splits: int) -> tuple[float, float]:
    """The OpenAI improved-GAN ``get_inception_score`` loop over softmax predictions."""
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits) : ((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def torch_fidelity_is_reference(logits: torch.Tensor, splits=10, seed=2020) -> tuple[float, float]:
    """torch-fidelity ``isc_features_to_metric``: permute with RandomState, torch softmax."""
    n = logits.shape[0]
    logits = logits[np.random.RandomState(seed).permutation(n), :].double()
    p = logits.softmax(dim=1)
    log_p = logits.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        p_chunk = p[(i * n // splits) : ((i + 1) * n // splits), :]
        log_p_chunk = log_p[(i * n // splits) : ((i + 1) * n // splits), :]
        q_chunk = p_chunk.mean(dim=0, keepdim=True)
        kl = p_chunk * (log_p_chunk - torch.log(q_chunk))
        scores.append(kl.sum(dim=1).mean().exp().item())
    return float(np.mean(scores)), float(np.std(scores))


def mode_score_loops(preds, real_preds, splits):
    n, c = preds.shape
    p_star = [sum(real_preds[i][k] for i in range(len(real_preds))) / len(real_preds) for k in range(c)]
    scores = []
    for s in range(splits):
        part = preds[s * n // splits : (s + 1) * n // splits]
        marg = [sum(row[k] for row in part) / len(part) for k in range(c)]
        e_kl = sum(sum(row[k] * math.log(row[k] / marg[k]) for k in range(c)) for row in part) / len(part)
        kl_star = sum(marg[k] * math.log(marg[k] / p_star[k]) for k in range(c))
        scores.append(math.exp(e_kl - kl_star))
    return float(np.mean(scores)), float(np.std(scores))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_parity_with_openai_unshuffled():
    logits = np.random.default_rng(0).normal(size=(500, 12)) * 3
    probs = _softmax(logits)
    result = inception_score(probs, splits=10, shuffle=False)
    assert_allclose([result.mean, result.std], openai_is_reference(probs, 10), rtol=1e-3)


def test_parity_with_torch_fidelity_defaults_from_logits():
    logits = torch.from_numpy(np.random.default_rng(1).normal(size=(1003, 20)).astype(np.float32) * 4)
    expected = torch_fidelity_is_reference(logits)
    result = inception_score(logits, logits=True)
    assert_allclose([result.mean, result.std], expected, rtol=1e-3)
    # Same numbers from probabilities (float32 softmax, row sums off by ~1e-7).
    from_probs = inception_score(logits.softmax(dim=1))
    assert_allclose([from_probs.mean, from_probs.std], expected, rtol=1e-3)


def test_ideal_and_worst_values():
    c, splits = 5, 4
    one_hot = np.tile(np.eye(c), (splits, 1))  # each split holds every class once
    assert_allclose(inception_score(one_hot, splits, shuffle=False).mean, c, rtol=1e-12)
    same = np.tile(_softmax(np.random.default_rng(2).normal(size=(1, c))), (40, 1))
    assert_allclose(inception_score(same, splits).mean, 1.0, rtol=1e-12)


def test_decreases_as_modes_collapse():
    c = 10
    values = []
    for used in (10, 6, 3, 1):
        labels = np.arange(1200) % used  # every split of 120 is balanced over `used` classes
        values.append(inception_score(np.eye(c)[labels], splits=10, shuffle=False).mean)
    assert_allclose(values, [10, 6, 3, 1], rtol=1e-12)
    assert np.all(np.diff(values) < 0)


def test_mode_score_matches_loops():
    rng = np.random.default_rng(3)
    preds = _softmax(rng.normal(size=(30, 4)) * 2)
    real = _softmax(rng.normal(size=(25, 4)) * 2 + np.array([1.0, 0.0, 0.0, -1.0]))
    result = mode_score(preds, real, splits=3, shuffle=False)
    assert_allclose([result.mean, result.std], mode_score_loops(preds, real, 3), rtol=1e-10)


def test_mode_score_equals_is_when_marginals_match_and_drops_with_drift():
    c = 4
    fake = np.tile(np.eye(c), (10, 1))  # 40 samples, balanced
    real = np.tile(np.eye(c), (3, 1))
    ms = mode_score(fake, real, splits=2, shuffle=False).mean
    assert_allclose(ms, c, rtol=1e-12)
    real_smooth = np.full((8, c), 1.0 / c)
    values = []
    for weight in (0.0, 0.3, 0.6, 0.9):
        drifted = (1 - weight) * np.full(c, 1.0 / c) + weight * np.eye(c)[0]  # real marginal drifts
        values.append(mode_score(fake, np.vstack([real_smooth, drifted[None]]), splits=2).mean)
    assert np.all(np.diff(values) < 0)
    assert np.all(np.array(values) <= c + 1e-12)


def test_mode_score_zero_when_fake_uses_a_class_real_never_does():
    fake = np.tile(np.eye(3), (4, 1))
    real = np.array([[0.5, 0.5, 0.0]])
    assert mode_score(fake, real, splits=2).mean == 0.0


def test_errors():
    probs = np.full((5, 3), 1 / 3)
    with pytest.raises(MetricError, match="fewer than splits"):
        inception_score(probs, splits=10)
    with pytest.raises(MetricError, match="sum to 1"):
        inception_score(probs * 2, splits=1)
    with pytest.raises(MetricError, match="negative"):
        inception_score(probs - 0.5, splits=1)
    with pytest.raises(MetricError, match="splits"):
        inception_score(probs, splits=0)
    with pytest.raises(ShapeError):
        inception_score(probs[0], splits=1)
    with pytest.raises(ShapeError, match="classes"):
        mode_score(probs, np.full((5, 4), 0.25), splits=1)
