"""Adversarial losses against values computed independently in NumPy (DESIGN habit 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.losses import (
    LOSSES,
    AdversarialLoss,
    minimax_d_loss,
    minimax_g_loss,
    ns_g_loss,
)

# Hand-picked logits (higher = more real).
REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.0]


def _sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _expected(name: str, real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """(d_loss, g_loss) straight from each paper's formula, in float64 NumPy."""
    d_r, d_f = _sig(real), _sig(fake)
    if name in ("minimax", "ns"):
        d = -np.mean(np.log(d_r)) - np.mean(np.log(1.0 - d_f))
        g = np.mean(np.log(1.0 - d_f)) if name == "minimax" else -np.mean(np.log(d_f))
    elif name == "lsgan":
        d = 0.5 * np.mean((real - 1.0) ** 2) + 0.5 * np.mean(fake**2)
        g = 0.5 * np.mean((fake - 1.0) ** 2)
    elif name == "wgan":
        d = np.mean(fake) - np.mean(real)
        g = -np.mean(fake)
    elif name == "hinge":
        d = np.mean(np.maximum(0.0, 1.0 - real)) + np.mean(np.maximum(0.0, 1.0 + fake))
        g = -np.mean(fake)
    else:  # pragma: no cover
        raise AssertionError(name)
    return float(d), float(g)


NAMES = ["minimax", "ns", "lsgan", "wgan", "hinge"]

# Some values also written out by hand, to pin the NumPy reference itself.
_SP = lambda t: math.log1p(math.exp(t))  # noqa: E731  softplus
HAND = {
    # D: mean softplus(-r) + mean softplus(f)
    "minimax": ((_SP(-2) + _SP(1) + _SP(-0.5)) / 3 + (_SP(-3) + _SP(0) + _SP(1)) / 3,
                -(_SP(-3) + _SP(0) + _SP(1)) / 3),
    "lsgan": (0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2 + (0.5 - 1) ** 2) / 3 + 0.5 * (9 + 0 + 1) / 3,
              0.5 * ((-3 - 1) ** 2 + (0 - 1) ** 2 + (1 - 1) ** 2) / 3),
    "wgan": ((-3 + 0 + 1) / 3 - (2 - 1 + 0.5) / 3, -(-3 + 0 + 1) / 3),
    "hinge": ((0 + 2 + 0.5) / 3 + (0 + 1 + 2) / 3, -(-3 + 0 + 1) / 3),
}


def test_registry_has_the_five_core_losses_and_the_f_gan_family():
    fgan = {f"fgan-{d}" for d in ("kl", "rkl", "js", "pearson", "hellinger", "tv")}
    assert set(LOSSES.names()) == set(NAMES) | fgan | {"rsgan", "ragan", "rpgan"}  # + losses/relativistic.py
    for name in NAMES:
        assert isinstance(LOSSES.get(name), AdversarialLoss)
        assert LOSSES.describe(name)


@pytest.mark.parametrize("name", sorted(HAND))
def test_numpy_reference_matches_hand_arithmetic(name):
    d, g = _expected(name, np.array(REAL), np.array(FAKE))
    assert_close(d, HAND[name][0], rtol=1e-12, atol=1e-12)
    assert_close(g, HAND[name][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", ["N", "N1", "patch_const"])
def test_values_on_all_logit_shapes(name, shape):
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    if shape == "N1":
        real, fake = real[:, None], fake[:, None]  # (N, 1)
    elif shape == "patch_const":
        real = real.view(3, 1, 1, 1).expand(3, 1, 4, 5).contiguous()  # (N, 1, H, W)
        fake = fake.view(3, 1, 1, 1).expand(3, 1, 4, 5).contiguous()
    exp_d, exp_g = _expected(name, np.array(REAL), np.array(FAKE))
    loss = LOSSES.get(name)
    assert_close(loss.d_loss(real, fake), torch.tensor(exp_d, dtype=torch.float32))
    assert_close(loss.g_loss(fake), torch.tensor(exp_g, dtype=torch.float32))


@pytest.mark.parametrize("name", NAMES)
def test_patchgan_map_is_mean_over_all_elements(name):
    rng = np.random.default_rng(0)
    real = rng.normal(0.0, 2.0, size=(2, 1, 3, 4))
    fake = rng.normal(0.0, 2.0, size=(5, 1, 3, 4))  # batch sizes may differ
    exp_d, exp_g = _expected(name, real.ravel(), fake.ravel())
    loss = LOSSES.get(name)
    r_t, f_t = torch.tensor(real), torch.tensor(fake)  # float64
    assert_close(loss.d_loss(r_t, f_t), torch.tensor(exp_d, dtype=torch.float64))
    assert_close(loss.g_loss(f_t), torch.tensor(exp_g, dtype=torch.float64))


def test_one_sided_label_smoothing():
    real, fake = np.array(REAL), np.array(FAKE)
    t = 0.9
    d_r, d_f = _sig(real), _sig(fake)
    exp = -np.mean(t * np.log(d_r) + (1 - t) * np.log(1 - d_r)) - np.mean(np.log(1 - d_f))
    got = minimax_d_loss(torch.tensor(REAL), torch.tensor(FAKE), real_label=t)
    assert_close(got, torch.tensor(float(exp), dtype=torch.float32))
    # The default is no smoothing.
    no_smooth = _expected("minimax", real, fake)[0]
    assert_close(minimax_d_loss(torch.tensor(REAL), torch.tensor(FAKE)),
                 torch.tensor(no_smooth, dtype=torch.float32))


def test_bce_losses_are_numerically_stable_for_huge_logits():
    real = torch.tensor([200.0, -200.0])
    fake = torch.tensor([-200.0, 200.0])
    # softplus(-200) = 0 and softplus(200) = 200 exactly in float32.
    assert_close(minimax_d_loss(real, fake), torch.tensor((0.0 + 200.0) / 2 + (0.0 + 200.0) / 2))
    assert_close(ns_g_loss(fake), torch.tensor((200.0 + 0.0) / 2))
    assert_close(minimax_g_loss(fake), torch.tensor(-(0.0 + 200.0) / 2))


def _grad(fn, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    f = f.clone().requires_grad_(True)
    value = fn(f)
    (g,) = torch.autograd.grad(value, f)
    return value.detach(), g


def test_saturating_and_non_saturating_g_losses_differ_with_analytic_gradients():
    fake = torch.tensor(FAKE, dtype=torch.float64)
    n = fake.numel()
    v_sat, g_sat = _grad(minimax_g_loss, fake)
    v_ns, g_ns = _grad(ns_g_loss, fake)
    assert not torch.allclose(v_sat, v_ns)
    assert not torch.allclose(g_sat, g_ns)
    # d/df mean(-softplus(f)) = -sigmoid(f)/n ; d/df mean(softplus(-f)) = -sigmoid(-f)/n
    sig = torch.tensor(_sig(np.array(FAKE)), dtype=torch.float64)
    assert_close(g_sat, -sig / n)
    assert_close(g_ns, -(1.0 - sig) / n)


def test_saturating_gradient_vanishes_when_d_rejects_fakes():
    # f = -20 -> D(G(z)) = sigmoid(-20) ~ 2e-9: D confidently rejects every fake.
    fake = torch.full((4,), -20.0, dtype=torch.float64)
    _, g_sat = _grad(minimax_g_loss, fake)
    _, g_ns = _grad(ns_g_loss, fake)
    assert_close(g_sat, torch.full_like(fake, -math.exp(-20.0) / 4), rtol=1e-6, atol=0.0)
    assert g_sat.abs().max() < 1e-9  # saturated: |grad| ~ 5e-10
    assert_close(g_ns, torch.full_like(fake, -1.0 / 4), rtol=1e-6, atol=0.0)  # not saturated


@pytest.mark.parametrize("name", NAMES)
def test_shape_errors(name):
    loss = LOSSES.get(name)
    with pytest.raises(ShapeError):
        loss.d_loss(torch.zeros(3), torch.zeros(3, 1))  # different trailing shapes
    with pytest.raises(ShapeError):
        loss.d_loss(torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 3, 3))
    with pytest.raises(ShapeError):
        loss.d_loss(torch.tensor(1.0), torch.tensor(0.0))  # scalars
    with pytest.raises(ShapeError):
        loss.g_loss(torch.tensor(0.0))
    with pytest.raises(ShapeError):
        loss.d_loss(torch.zeros(0), torch.zeros(0))  # empty batch
