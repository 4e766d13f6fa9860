"""TimeGAN's discriminative and predictive scores, and MMD on flattened sequences, through the registry."""

import numpy as np
import pytest
import torch

from gankit.data.sequences import sample_sines
from gankit.errors import MetricError
from gankit.metrics.evaluate import evaluate
from gankit.metrics.sources import SampleSet
from gankit.metrics.statistics import discriminative_score, mmd2, predictive_score

FAST = {"iterations": 100, "batch_size": 64, "lr": 1e-2}


def _sines(n, seed, steps=12, features=3):
    return sample_sines(n, steps, features, torch.Generator().manual_seed(seed))[0]


def test_discriminative_score_is_near_zero_for_one_distribution_and_half_for_disjoint_ones():
    a, b = _sines(400, 0), _sines(400, 1)
    same = discriminative_score(a, b, **FAST)
    assert same.score < 0.1 and same.n_test == 160
    assert same.score == pytest.approx(abs(same.accuracy - 0.5))
    apart = discriminative_score(a, b + 3.0, **FAST)  # shifted by 3: no overlap at all
    assert apart.accuracy == 1.0 and apart.score == 0.5
    again = discriminative_score(a, b + 3.0, **FAST)
    assert again == apart  # seeded: a function of its inputs


def _delayed_copy(n, seed):
    """Feature 0 is uniform noise; the last feature at step t is feature 0 at step t-1."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 10, 2, generator=g) * 2 - 1  # (n, T, 2)
    x[:, 1:, 1] = x[:, :-1, 0]
    return x


def test_predictive_score_learns_a_deterministic_next_step_and_fails_on_unrelated_training_data():
    real, fake = _delayed_copy(300, 0), _delayed_copy(300, 1)
    learnt = predictive_score(real, fake, iterations=400, batch_size=64, hidden=8)
    unrelated = predictive_score(real, torch.rand(300, 10, 2) * 2 - 1, iterations=400, batch_size=64, hidden=8)
    chance = float(real[:, 1:, 1].abs().mean())  # the MAE of predicting 0: about 0.5
    assert learnt < 0.1 * chance
    assert unrelated > 0.6 * chance


def _set(x, name):
    return SampleSet(x=torch.as_tensor(x), name=name, kind="array", identity={"name": name})


def test_registered_scores_and_mmd_of_flattened_sequences():
    real, fake = _sines(300, 0).numpy(), (_sines(300, 1) * 0.5).numpy()
    metrics = ["discriminative_score", "predictive_score", "mmd"]
    res = evaluate(_set(real, "real"), _set(fake, "fake"), metrics, features="identity",
                   options={"discriminative_score": FAST, "predictive_score": FAST})
    assert 0.0 <= res["discriminative_score"]["score"] <= 0.5
    assert res["predictive_score"] > 0
    expected = mmd2(real.reshape(300, -1).astype(np.float64), fake.reshape(300, -1).astype(np.float64))
    assert res["mmd"] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(MetricError, match=r"\(N, T, D\)"):
        evaluate(real.reshape(300, -1), fake.reshape(300, -1), ["discriminative_score"])
    with pytest.raises(MetricError, match="real sequences"):
        evaluate(None, _set(fake, "fake"), ["predictive_score"])
    with pytest.raises(MetricError, match="sequences"):
        discriminative_score(real[:, :, 0], fake)


def test_predictive_score_reads_the_predicted_features_own_past_only_when_asked():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(300, 10, 2, generator=g) * 2 - 1  # feature 0: noise unrelated to feature 1
    signs = torch.tensor([(-1.0) ** t for t in range(10)])
    x[:, :, 1] = x[:, :1, 1] * signs  # feature 1 flips its sign every step: known from its own past alone
    timegan = predictive_score(x, x, iterations=400, batch_size=64, hidden=8)
    own = predictive_score(x, x, iterations=400, batch_size=64, hidden=8, own_past=True)
    chance = float(x[:, 1:, 1].abs().mean())
    assert own < 0.2 * chance < 0.8 * chance < timegan
