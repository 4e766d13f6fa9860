"""f-GAN objectives (Nowozin et al. 2016): hand values against NumPy written from Table 2,
and the variational bound against the true divergence of two known 1-D Gaussians."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate
from torch.testing import assert_close

from gankit.errors import ConfigError, ShapeError
from gankit.losses import AdversarialLoss, ns_d_loss
from gankit.losses.fgan import (
    F_DIVERGENCES,
    fgan_d_loss,
    fgan_g_loss,
    fgan_lower_bound,
    get_divergence,
    register_fgan_losses,
)
from gankit.registry import Registry

NAMES = ["kl", "rkl", "js", "pearson", "hellinger", "tv"]
REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.0]
LOG2 = math.log(2.0)

# --------------------------------------------------------------------------- NumPy reference
# Table 2 of the paper, written independently of the module: activation g_f and conjugate f*.
NP_ACT = {
    "kl": lambda v: v,
    "rkl": lambda v: -np.exp(-v),
    "js": lambda v: LOG2 - np.log1p(np.exp(-v)),
    "pearson": lambda v: v,
    "hellinger": lambda v: 1.0 - np.exp(-v),
    "tv": lambda v: 0.5 * np.tanh(v),
}
NP_CONJ = {
    "kl": lambda t: np.exp(t - 1.0),
    "rkl": lambda t: -1.0 - np.log(-t),
    "js": lambda t: -np.log(2.0 - np.exp(t)),
    "pearson": lambda t: 0.25 * t**2 + t,
    "hellinger": lambda t: t / (1.0 - t),
    "tv": lambda t: t,
}
NP_F = {  # generator functions f(u), Table 1
    "kl": lambda u: u * np.log(u),
    "rkl": lambda u: -np.log(u),
    "js": lambda u: u * np.log(u) - (u + 1.0) * np.log((u + 1.0) / 2.0),
    "pearson": lambda u: (u - 1.0) ** 2,
    "hellinger": lambda u: (np.sqrt(u) - 1.0) ** 2,
    "tv": lambda u: 0.5 * np.abs(u - 1.0),
}
NP_FPRIME = {  # f'(u): the optimal critic T* = f'(p/q)
    "kl": lambda u: 1.0 + np.log(u),
    "rkl": lambda u: -1.0 / u,
    "js": lambda u: np.log(2.0 * u / (1.0 + u)),
    "pearson": lambda u: 2.0 * (u - 1.0),
    "hellinger": lambda u: 1.0 - 1.0 / np.sqrt(u),
    "tv": lambda u: 0.5 * np.sign(u - 1.0),
}


def _expected(name: str, real: np.ndarray, fake: np.ndarray) -> tuple[float, float, float]:
    """(d_loss, non-saturating g_loss, saturating g_loss) from the paper's formulas."""
    g, fs = NP_ACT[name], NP_CONJ[name]
    d = -(np.mean(g(real)) - np.mean(fs(g(fake))))
    return float(d), float(-np.mean(g(fake))), float(-np.mean(fs(g(fake))))


# A few values written out by hand to pin the NumPy reference itself.
HAND_D = {
    "kl": -((2 - 1 + 0.5) / 3 - (math.exp(-4) + math.exp(-1) + 1.0) / 3),
    "pearson": -((2 - 1 + 0.5) / 3 - ((9 / 4 - 3) + 0 + (1 / 4 + 1)) / 3),
    "rkl": -(-(math.exp(-2) + math.exp(1) + math.exp(-0.5)) / 3 - ((-3 - 1) + (0 - 1) + (1 - 1)) / 3),
}


@pytest.mark.parametrize("name", sorted(HAND_D))
def test_numpy_reference_matches_hand_arithmetic(name):
    d, _, _ = _expected(name, np.array(REAL), np.array(FAKE))
    assert_close(d, HAND_D[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", ["N", "N1", "patch_const"])
def test_hand_values_on_all_logit_shapes(name, shape):
    real, fake = torch.tensor(REAL, dtype=torch.float64), torch.tensor(FAKE, dtype=torch.float64)
    if shape == "N1":
        real, fake = real[:, None], fake[:, None]  # (N, 1)
    elif shape == "patch_const":
        real = real.view(3, 1, 1, 1).expand(3, 1, 4, 5).contiguous()  # (N, 1, H, W)
        fake = fake.view(3, 1, 1, 1).expand(3, 1, 4, 5).contiguous()
    d, g_ns, g_sat = _expected(name, np.array(REAL), np.array(FAKE))
    f64 = dict(dtype=torch.float64)
    assert_close(fgan_d_loss(real, fake, name), torch.tensor(d, **f64))
    assert_close(fgan_lower_bound(real, fake, name), torch.tensor(-d, **f64))
    assert_close(fgan_g_loss(fake, name), torch.tensor(g_ns, **f64))
    assert_close(fgan_g_loss(fake, name, saturating=True), torch.tensor(g_sat, **f64))


@pytest.mark.parametrize("name", NAMES)
def test_patch_maps_and_different_batch_sizes(name):
    rng = np.random.default_rng(1)
    real = rng.normal(0.0, 1.5, size=(2, 1, 3, 4))
    fake = rng.normal(0.0, 1.5, size=(5, 1, 3, 4))
    d, g_ns, _ = _expected(name, real.ravel(), fake.ravel())
    assert_close(fgan_d_loss(torch.tensor(real), torch.tensor(fake), name), torch.tensor(d, dtype=torch.float64))
    assert_close(fgan_g_loss(torch.tensor(fake), name), torch.tensor(g_ns, dtype=torch.float64))


@pytest.mark.parametrize("name", NAMES)
def test_stable_composite_equals_conjugate_of_activation(name):
    div = F_DIVERGENCES[name]
    v = torch.linspace(-8.0, 8.0, 161, dtype=torch.float64)  # (161,)
    assert_close(div.conjugate_of_activation(v), div.conjugate(div.activation(v)), rtol=1e-9, atol=1e-12)
    expected = NP_CONJ[name](NP_ACT[name](v.numpy()))
    assert_close(div.conjugate_of_activation(v), torch.from_numpy(expected), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["js", "rkl", "tv", "kl", "pearson"])
def test_finite_for_large_logits(name):
    real = torch.tensor([60.0, -60.0])
    fake = torch.tensor([-60.0, 60.0])
    assert torch.isfinite(fgan_d_loss(real, fake, name))
    assert torch.isfinite(fgan_g_loss(fake, name))


def test_js_is_the_gan_discriminator_loss_minus_log4():
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    assert_close(fgan_d_loss(real, fake, "js"), ns_d_loss(real, fake) - math.log(4.0))


def test_registration_adds_six_pairs_and_is_idempotent():
    reg: Registry[AdversarialLoss] = Registry("loss")
    register_fgan_losses(reg)
    register_fgan_losses(reg)  # harmless second call
    assert reg.names() == sorted(f"fgan-{n}" for n in NAMES)
    real, fake = torch.tensor(REAL, dtype=torch.float64), torch.tensor(FAKE, dtype=torch.float64)
    for name in NAMES:
        pair = reg.get(f"fgan-{name}")
        assert "Nowozin" in reg.describe(f"fgan-{name}")
        d, g_ns, _ = _expected(name, np.array(REAL), np.array(FAKE))
        assert_close(pair.d_loss(real, fake), torch.tensor(d, dtype=torch.float64))
        assert_close(pair.g_loss(fake), torch.tensor(g_ns, dtype=torch.float64))


def test_errors():
    with pytest.raises(ConfigError):
        get_divergence("chi")
    with pytest.raises(ShapeError):
        fgan_d_loss(torch.zeros(3), torch.zeros(3, 1), "kl")
    with pytest.raises(ShapeError):
        fgan_g_loss(torch.tensor(0.0), "kl")


# --------------------------------------------------------------------------- Fenchel-Young


@pytest.mark.parametrize("name", NAMES)
def test_fenchel_young_pointwise(name):
    """t u - f*(t) <= f(u) for t in dom f*, with equality at t = f'(u) (the bound's origin)."""
    div = F_DIVERGENCES[name]
    u = torch.logspace(-2, 2, 41, dtype=torch.float64)  # (U,)
    v = torch.linspace(-4.0, 4.0, 33, dtype=torch.float64)  # (V,)
    t = div.activation(v)[:, None]  # (V, 1): every activated value lies in dom f*
    gap = div.f(u)[None, :] - (t * u[None, :] - div.conjugate(t))  # (V, U)
    assert bool((gap >= -1e-12).all())
    t_star = torch.from_numpy(NP_FPRIME[name](u.numpy()))  # (U,)
    assert_close(t_star * u - div.conjugate(t_star), div.f(u), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- Gaussians

MU_P, S_P = 0.0, 1.0  # P = N(0, 1)
MU_Q, S_Q = 1.0, 1.5  # Q = N(1, 1.5^2)
X = np.linspace(-25.0, 25.0, 200_001)  # integration grid, step 2.5e-4
BOUND_ATOL = 1e-7  # tolerance of the grid integral (trapezoid on smooth integrands)


def _pdf(x, mu, s):
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2.0 * math.pi))


def _log_ratio(x):
    """log p(x) - log q(x) in closed form."""
    return (-0.5 * ((x - MU_P) / S_P) ** 2 - math.log(S_P)) - (-0.5 * ((x - MU_Q) / S_Q) ** 2 - math.log(S_Q))


def _kl(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def _pearson():
    a = 1 / S_P**2 - 1 / (2 * S_Q**2)
    b = 2 * MU_P / S_P**2 - MU_Q / S_Q**2
    c = MU_P**2 / S_P**2 - MU_Q**2 / (2 * S_Q**2)
    return S_Q / (math.sqrt(2 * math.pi) * S_P**2) * math.sqrt(math.pi / a) * math.exp(b**2 / (4 * a) - c) - 1


def _hellinger():
    bc = math.sqrt(2 * S_P * S_Q / (S_P**2 + S_Q**2)) * math.exp(-((MU_P - MU_Q) ** 2) / (4 * (S_P**2 + S_Q**2)))
    return 2.0 * (1.0 - bc)


def _tv():
    """(1/2)∫|p - q| = P(A) - Q(A), A = {p > q} = [r1, r2] (S_P < S_Q)."""
    A = 1 / (2 * S_Q**2) - 1 / (2 * S_P**2)
    B = MU_P / S_P**2 - MU_Q / S_Q**2
    C = -(MU_P**2) / (2 * S_P**2) + MU_Q**2 / (2 * S_Q**2) + math.log(S_Q / S_P)
    r1, r2 = sorted(np.roots([A, B, C]).real)

    def cdf(x, mu, s):
        return 0.5 * (1 + math.erf((x - mu) / (s * math.sqrt(2))))

    return (cdf(r2, MU_P, S_P) - cdf(r1, MU_P, S_P)) - (cdf(r2, MU_Q, S_Q) - cdf(r1, MU_Q, S_Q))


def _js():
    """No closed form: adaptive quadrature (SciPy) of ∫ p log(2p/(p+q)) + q log(2q/(p+q))."""

    def integrand(x):
        p, q = _pdf(x, MU_P, S_P), _pdf(x, MU_Q, S_Q)
        return p * math.log(2 * p / (p + q)) + q * math.log(2 * q / (p + q))

    value, _ = integrate.quad(integrand, -30, 30, epsabs=1e-13, epsrel=1e-12, limit=200)
    return value


TRUE = {
    "kl": _kl(MU_P, S_P, MU_Q, S_Q),
    "rkl": _kl(MU_Q, S_Q, MU_P, S_P),
    "js": _js(),
    "pearson": _pearson(),
    "hellinger": _hellinger(),
    "tv": _tv(),
}


@pytest.mark.parametrize("name", NAMES)
def test_true_divergences_agree_with_quadrature_of_f(name):
    """The closed forms above are ∫ q f(p/q) (checked by SciPy quadrature)."""

    def integrand(x):
        q = _pdf(x, MU_Q, S_Q)
        return q * NP_F[name](np.exp(_log_ratio(x)))

    value, _ = integrate.quad(integrand, -30, 30, epsabs=1e-13, epsrel=1e-12, limit=200, points=[0.0, 1.0])
    assert_close(value, TRUE[name], rtol=1e-7, atol=1e-9)
    if name == "js":
        assert 0.0 < TRUE["js"] < 2 * LOG2


def _bound_from_logits(name: str, v: np.ndarray) -> float:
    """∫ p g_f(v) - ∫ q f*(g_f(v)) on the grid, through the module's activation/conjugate."""
    div = F_DIVERGENCES[name]
    vt = torch.from_numpy(v)  # (X,) float64
    t = div.activation(vt).numpy()
    fs = div.conjugate_of_activation(vt).numpy()
    p, q = _pdf(X, MU_P, S_P), _pdf(X, MU_Q, S_Q)
    return float(np.trapezoid(p * t, X) - np.trapezoid(q * fs, X))


def _bound_from_critic(name: str, t: np.ndarray) -> float:
    """∫ p T - ∫ q f*(T) on the grid for a critic T given directly (T in dom f*)."""
    fs = F_DIVERGENCES[name].conjugate(torch.from_numpy(t)).numpy()
    p, q = _pdf(X, MU_P, S_P), _pdf(X, MU_Q, S_Q)
    return float(np.trapezoid(p * t, X) - np.trapezoid(q * fs, X))


# optimal logits v* with g_f(v*) = f'(p/q), as functions of l = log(p/q)
OPTIMAL_LOGIT = {
    "kl": lambda lr: 1.0 + lr,
    "rkl": lambda lr: lr,
    "js": lambda lr: lr,
    "pearson": lambda lr: 2.0 * np.expm1(lr),
    "hellinger": lambda lr: 0.5 * lr,
}


def _arbitrary_logits(name: str) -> list[np.ndarray]:
    """Constant, linear, oscillating, scaled-optimal and perturbed-optimal critics."""
    lr = _log_ratio(X)
    v_opt = OPTIMAL_LOGIT.get(name, lambda r: 3.0 * r)(lr)
    return [
        np.zeros_like(X),
        np.full_like(X, 0.7),
        0.3 - 0.5 * X,
        0.2 + 0.8 * np.sin(1.3 * X),
        0.5 * v_opt,
        v_opt + 0.3 * np.cos(X),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_bound_is_below_the_true_divergence_for_arbitrary_critics(name):
    for i, v in enumerate(_arbitrary_logits(name)):
        bound = _bound_from_logits(name, v)
        assert math.isfinite(bound)
        # an inequality, not a closeness test: a sub-optimal critic must stay below D_f
        assert bound <= TRUE[name] + BOUND_ATOL, (name, i, bound, TRUE[name])
    # and a sub-optimal critic is *strictly* below (the bound is not trivially tight)
    assert TRUE[name] - _bound_from_logits(name, np.zeros_like(X)) > 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_bound_equals_the_divergence_at_the_optimal_critic(name):
    """T* = f'(p/q) plugged in analytically gives D_f to 1e-7 (grid trapezoid).

    For tv, f'(u) = sign(u - 1)/2 is a subgradient (p = q only at two points, measure zero),
    so we verify that the critic T* = sign(p - q)/2 attains TV exactly, and that the
    activated critics tanh(k log(p/q))/2 approach it from below as k grows (g_f never
    reaches ±1/2, so no finite logit is optimal).
    """
    u = np.exp(_log_ratio(X))
    t_star = NP_FPRIME[name](u)
    assert_close(_bound_from_critic(name, t_star), TRUE[name], rtol=0.0, atol=BOUND_ATOL)
    if name == "tv":
        gaps = [TRUE[name] - _bound_from_logits(name, k * _log_ratio(X)) for k in (1.0, 10.0, 100.0, 1000.0)]
        assert all(g > -BOUND_ATOL for g in gaps)
        assert all(a > b for a, b in zip(gaps, gaps[1:]))  # monotone approach
        assert_close(gaps[-1], 0.0, rtol=0.0, atol=1e-4)
    else:  # through the activation: g_f(v*) = T* with v* in closed form
        v_star = OPTIMAL_LOGIT[name](_log_ratio(X))
        assert_close(F_DIVERGENCES[name].activation(torch.from_numpy(v_star)).numpy(), t_star, rtol=1e-8, atol=1e-10)
        assert_close(_bound_from_logits(name, v_star), TRUE[name], rtol=0.0, atol=BOUND_ATOL)


@pytest.mark.parametrize("name", ["kl", "rkl", "js", "pearson", "hellinger"])
def test_d_loss_on_samples_estimates_minus_the_divergence(name):
    """Monte Carlo: -fgan_d_loss at the optimal logits ≈ D_f within 5 standard errors."""
    gen = torch.Generator().manual_seed(0)
    n = 100_000
    xp = MU_P + S_P * torch.randn(n, generator=gen, dtype=torch.float64)  # (n,) ~ P
    xq = MU_Q + S_Q * torch.randn(n, generator=gen, dtype=torch.float64)  # (n,) ~ Q
    vp = torch.from_numpy(OPTIMAL_LOGIT[name](_log_ratio(xp.numpy())))
    vq = torch.from_numpy(OPTIMAL_LOGIT[name](_log_ratio(xq.numpy())))
    estimate = -fgan_d_loss(vp, vq, name)
    div = F_DIVERGENCES[name]
    se = math.sqrt(div.activation(vp).var().item() / n + div.conjugate_of_activation(vq).var().item() / n)
    assert_close(estimate.item(), TRUE[name], rtol=0.0, atol=5 * se)
