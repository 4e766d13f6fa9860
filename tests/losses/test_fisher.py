"""Fisher GAN (Mroueh & Sercu 2017): hand values, the multiplier's sign, and the
augmented Lagrangian driving a scaled critic onto the constraint Omega = 1."""

from __future__ import annotations

import json
import math

import numpy as np
import torch
from torch.testing import assert_close

from gankit.losses.fisher import FisherMultiplier, fisher_d_loss, fisher_g_loss, fisher_multiplier_step

REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.0]


def _np_fisher(real, fake, lam, rho):
    e = np.mean(real) - np.mean(fake)
    omega = 0.5 * (np.mean(real**2) + np.mean(fake**2))
    c = 1.0 - omega
    return float(-(e + lam * c - rho / 2 * c**2)), float(c)


def test_hand_values():
    # E = 0.5 - (-2/3) = 7/6; Omega = ((4 + 1 + .25)/3 + (9 + 0 + 1)/3) / 2 = 61/24; c = -37/24
    e, c = 7 / 6, 1 - 61 / 24
    lam, rho = 0.3, 0.5
    hand = -(e + lam * c - rho / 2 * c**2)
    np_loss, np_c = _np_fisher(np.array(REAL), np.array(FAKE), lam, rho)
    assert_close(np_loss, hand, rtol=1e-12, atol=1e-12)
    real, fake = torch.tensor(REAL, dtype=torch.float64), torch.tensor(FAKE, dtype=torch.float64)
    loss, constraint = fisher_d_loss(real, fake, lam, rho)
    assert_close(loss, torch.tensor(hand, dtype=torch.float64))
    assert_close(constraint, torch.tensor(c, dtype=torch.float64))
    assert not constraint.requires_grad
    assert_close(fisher_g_loss(fake), torch.tensor(-np.mean(FAKE), dtype=torch.float64))


def test_patch_maps_and_batch_sizes():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(2, 1, 3, 3)), rng.normal(size=(4, 1, 3, 3))
    exp_loss, exp_c = _np_fisher(real.ravel(), fake.ravel(), -0.2, 1.0)
    loss, c = fisher_d_loss(torch.tensor(real), torch.tensor(fake), -0.2, 1.0)
    assert_close(loss, torch.tensor(exp_loss, dtype=torch.float64))
    assert_close(c, torch.tensor(exp_c, dtype=torch.float64))


def test_multiplier_step_is_the_papers_gradient_descent_on_lambda():
    """lambda <- lambda - rho dL_F/dlambda = lambda + rho d(loss_D)/dlambda (authors' code)."""
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    lam_t = torch.tensor(0.3, requires_grad=True)
    rho = 0.5
    loss, constraint = fisher_d_loss(real, fake, lam_t, rho)
    (grad,) = torch.autograd.grad(loss, lam_t)
    assert_close(grad, -constraint)
    new = fisher_multiplier_step(0.3, constraint, rho)
    assert_close(new, 0.3 + rho * grad.item())
    # Omega > 1 here (constraint < 0): lambda must grow to push Omega back down
    assert constraint.item() < 0 and new > 0.3


def test_augmented_lagrangian_reaches_the_constraint_and_lambda_is_half_the_ipm():
    """Critic f = s * h with h fixed. Maximising L_F over s with the multiplier rule drives
    Omega(s) = s^2 Omega_0 to 1; stationarity E_0 = 2 lambda s Omega_0 then gives
    lambda* = E_0 / (2 sqrt(Omega_0)) = (Fisher IPM) / 2."""
    h_real = torch.tensor(REAL, dtype=torch.float64)
    h_fake = torch.tensor(FAKE, dtype=torch.float64)
    e0 = (h_real.mean() - h_fake.mean()).item()
    omega0 = 0.5 * (h_real.square().mean() + h_fake.square().mean()).item()
    s = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    mult = FisherMultiplier(rho=0.5)
    lr = 0.02
    for _ in range(3000):
        loss, constraint = mult.loss(s * h_real, s * h_fake)
        (g,) = torch.autograd.grad(loss, s)
        with torch.no_grad():
            s -= lr * g
        mult.update(constraint)
    omega = s.item() ** 2 * omega0
    assert_close(omega, 1.0, rtol=0.0, atol=1e-6)
    assert_close(mult.lam, e0 / (2 * math.sqrt(omega0)), rtol=1e-5, atol=1e-8)


def test_multiplier_state_is_json_and_round_trips():
    m = FisherMultiplier(rho=1e-6, lam=0.25)
    m.update(torch.tensor(0.5))
    state = json.loads(json.dumps(m.state_dict()))
    m2 = FisherMultiplier(rho=1.0)
    m2.load_state_dict(state)
    assert m2.state_dict() == m.state_dict()
    assert_close(m2.lam, 0.25 - 1e-6 * 0.5)
