"""Mode-specific normalisation: α and the mode by hand on a fitted two-mode column, exact
inversion, dropped light modes, and the JSON state."""

import json
import math

import numpy as np
import torch

from gankit.data.table_transform import ModeNormalizer, TableEncoder
from gankit.data.tables import table_from_dict


def _two_modes(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([-0.5 + 0.02 * rng.standard_normal(n), 0.4 + 0.05 * rng.standard_normal(n)])


def test_alpha_and_inverse_by_hand():
    norm = ModeNormalizer(weights=(0.5, 0.5), means=(-0.5, 0.5), stds=(0.1, 0.2))
    x, modes = np.array([-0.4, 0.9, 3.0]), np.array([0, 1, 1])
    alpha = norm.transform(x, modes)
    np.testing.assert_allclose(alpha, [(-0.4 + 0.5) / 0.4, (0.9 - 0.5) / 0.8, 1.0])  # the last one clipped
    np.testing.assert_allclose(norm.inverse(alpha[:2], modes[:2]), x[:2], rtol=0, atol=1e-12)
    # p(k | x) ∝ w_k N(x; μ_k, σ_k²)
    pdf = lambda v, m, s: math.exp(-0.5 * ((v - m) / s) ** 2) / s  # noqa: E731
    p0, p1 = 0.5 * pdf(0.1, -0.5, 0.1), 0.5 * pdf(0.1, 0.5, 0.2)
    np.testing.assert_allclose(norm.posterior(np.array([0.1]))[0], [p0 / (p0 + p1), p1 / (p0 + p1)], rtol=1e-10)


def test_fitted_two_mode_column_by_hand():
    x = _two_modes()
    norm = ModeNormalizer.fit(x, seed=0)
    assert norm.modes == 2 and all(w >= 0.005 for w in norm.weights)
    order = np.argsort(norm.means)
    np.testing.assert_allclose(np.array(norm.means)[order], [-0.5, 0.4], atol=0.01)
    assert max(norm.stds) < 0.1  # the prior widens small clusters a little; far narrower than their gap
    np.testing.assert_allclose(np.array(norm.weights)[order], [0.5, 0.5], atol=0.02)
    # every value of the left cluster lies in the left mode: α and the one-hot by hand
    table = table_from_dict({"v": x.tolist()}, "v:continuous")
    enc = TableEncoder.fit(table.columns, table.continuous, seed=0)
    rows = enc.encode(table.continuous, table.categorical, np.random.default_rng(1)).double()
    scaled = table.continuous[:, 0].double().numpy()
    fitted = enc.normalizers["v"]
    left = int(np.argmin(fitted.means))
    i = 3  # a row of the left cluster
    assert rows[i, 1 + left] == 1 and rows[i, 1:].sum() == 1
    alpha = (scaled[i] - fitted.means[left]) / (4 * fitted.stds[left])
    assert abs(rows[i, 0].item() - alpha) < 1e-6


def test_invert_transform_is_exact_and_categories_round_trip():
    rng = np.random.default_rng(2)
    n = 300
    data = {"a": _two_modes(n // 2).tolist(), "b": rng.exponential(2.0, n).tolist(),
            "c": rng.choice(["x", "y", "z"], n).tolist()}
    table = table_from_dict(data, "a:continuous,b:continuous,c:categorical")
    enc = TableEncoder.fit(table.columns, table.continuous, seed=0)
    rows = enc.encode(table.continuous, table.categorical, np.random.default_rng(0))
    assert rows.shape == (n, 2 * 11 + 3)
    alpha_slots = [s.start for s in enc.spans if s.kind == "alpha"]
    assert rows[:, alpha_slots].abs().max() < 1  # nothing clipped: the inverse is exact
    cont, cat = enc.decode(rows)
    torch.testing.assert_close(cont, table.continuous.double(), rtol=0, atol=1e-6)
    assert torch.equal(cat, table.categorical)


def test_light_modes_dropped_masked_and_state_is_json():
    x = np.random.default_rng(3).standard_normal(500)  # one Gaussian: most of the 10 components die
    table = table_from_dict({"v": x.tolist(), "k": ["p", "q"] * 250}, "v:continuous,k:categorical")
    enc = TableEncoder.fit(table.columns, table.continuous, seed=0)
    kept = enc.normalizers["v"].modes
    assert 1 <= kept < 10
    mask = enc.mode_mask()
    assert mask.tolist() == [False] * (1 + kept) + [True] * (10 - kept) + [False, False]
    back = TableEncoder.from_json(json.loads(json.dumps(enc.to_json())))
    a = enc.encode(table.continuous, table.categorical, np.random.default_rng(5))
    b = back.encode(table.continuous, table.categorical, np.random.default_rng(5))
    assert torch.equal(a, b)
