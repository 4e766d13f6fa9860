"""Table metrics against NumPy: KS from the two empirical CDFs, TV from category frequencies,
the correlation difference from np.corrcoef, ML efficacy on separable and one-class tables."""

import numpy as np
import pytest

from gankit.metrics.tables import column_distances, correlation_difference, ml_efficacy, total_variation

COLUMNS = [{"name": "a", "type": "continuous"}, {"name": "b", "type": "continuous"},
           {"name": "g", "type": "categorical", "categories": ["n", "y"]}]


def _ks_by_hand(x, y):
    grid = np.concatenate([x, y])
    fx = (x[None, :] <= grid[:, None]).mean(axis=1)
    fy = (y[None, :] <= grid[:, None]).mean(axis=1)
    return np.abs(fx - fy).max()


def test_column_distances_by_hand():
    rng = np.random.default_rng(0)
    real = {"a": rng.normal(size=200), "b": rng.normal(size=200), "g": list("nny" * 66) + ["n", "n"]}
    fake = {"a": rng.normal(0.5, 1, 150), "b": rng.exponential(size=150), "g": ["y"] * 100 + ["n"] * 50}
    d = column_distances(real, fake, COLUMNS)
    assert d["a"] == pytest.approx(_ks_by_hand(real["a"], fake["a"]), abs=1e-12)
    assert d["b"] == pytest.approx(_ks_by_hand(real["b"], fake["b"]), abs=1e-12)
    p_real_n = real["g"].count("n") / 200
    assert d["g"] == pytest.approx(0.5 * (abs(p_real_n - 50 / 150) + abs((1 - p_real_n) - 100 / 150)))
    assert total_variation(["x"], ["z"]) == 1.0


def test_correlation_difference_by_hand():
    rng = np.random.default_rng(1)
    cols = [{"name": n, "type": "continuous"} for n in "pqr"]
    real = {n: rng.normal(size=100) for n in "pqr"}
    real["q"] = real["p"] + 0.5 * real["q"]
    fake = {n: rng.normal(size=80) for n in "pqr"}
    cr = np.corrcoef([real[n] for n in "pqr"])
    cf = np.corrcoef([fake[n] for n in "pqr"])
    want = np.mean([abs(cr[i, j] - cf[i, j]) for i, j in ((0, 1), (0, 2), (1, 2))])
    assert correlation_difference(real, fake, cols) == pytest.approx(want, abs=1e-12)
    fake["r"] = np.zeros(80)  # a constant synthetic column counts as uncorrelated
    want = np.mean([abs(cr[0, 1] - cf[0, 1]), abs(cr[0, 2]), abs(cr[1, 2])])
    assert correlation_difference(real, fake, cols) == pytest.approx(want, abs=1e-12)


def test_ml_efficacy_separable_and_one_class():
    rng = np.random.default_rng(2)
    a = rng.normal(size=300)
    table = {"a": a, "b": rng.normal(size=300), "g": ["y" if v > 0 else "n" for v in a]}
    out = ml_efficacy(table, table, COLUMNS, "g")
    assert out["tree/f1"] == 1.0 and out["tree/accuracy"] == 1.0 and out["logistic/f1"] > 0.97
    one_class = dict(table, g=["n"] * 300)  # every prediction "n": F1 of "y" is 0, accuracy = share of "n"
    out = ml_efficacy(one_class, table, COLUMNS, "g")
    share = np.mean([v == "n" for v in table["g"]])
    assert out["f1"] == 0.0 and out["logistic/accuracy"] == pytest.approx(share)
