"""Stabilisers: DRAGAN, feature matching, one-sided label smoothing, instance noise —
hand / NumPy values, and the per-sample vs batch distinctions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.losses import minimax_d_loss, ns_d_loss
from gankit.losses.stabilizers import (
    add_instance_noise,
    bce_d_loss_with_targets,
    dragan_penalty,
    dragan_perturb,
    feature_matching_loss,
    fixed_real_targets,
    instance_noise_std,
    random_real_targets,
)

F64 = torch.float64


def _real_images() -> torch.Tensor:
    return torch.arange(24, dtype=F64).view(4, 1, 2, 3) / 10.0 - 1.0  # (4, 1, 2, 3)


# --------------------------------------------------------------------------- DRAGAN


def test_dragan_linear_critic_has_known_penalty():
    """D(x) = <W, x> has gradient W everywhere: penalty (||W|| - 1)^2 whatever the noise."""
    w = torch.full((1, 2, 3), 0.5, dtype=F64)  # ||W|| = sqrt(6 * 0.25)
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731  (N,)
    expected = (np.sqrt(6 * 0.25) - 1.0) ** 2
    for noise in ("uniform", "gaussian"):
        gen = torch.Generator().manual_seed(3)
        got = dragan_penalty(critic, _real_images(), noise=noise, generator=gen)
        assert_close(got, torch.tensor(expected, dtype=F64))


def _numpy_perturb(x: np.ndarray, seed: int, scale: float, noise: str) -> np.ndarray:
    """The DRAGAN perturbation from the formula, using the same random draws as torch."""
    gen = torch.Generator().manual_seed(seed)
    if noise == "gaussian":
        return x + scale * torch.randn(x.shape, generator=gen, dtype=F64).numpy()
    u = torch.rand(x.shape, generator=gen, dtype=F64).numpy()
    alpha = torch.rand(x.shape[0], generator=gen, dtype=F64).numpy().reshape(-1, 1, 1, 1)
    x_p = x + scale * x.std() * u  # numpy std: ddof = 0, over the whole batch
    return x + alpha * (x_p - x)


@pytest.mark.parametrize("noise", ["uniform", "gaussian"])
def test_dragan_per_sample_norm_with_quadratic_critic(noise):
    """D(x) = ||x||^2 / 2 per sample has gradient x: penalty = mean_i (||x_i~|| - 1)^2."""
    x = _real_images()
    critic = lambda v: 0.5 * v.flatten(1).square().sum(1)  # noqa: E731
    got = dragan_penalty(critic, x, scale=0.7, noise=noise, generator=torch.Generator().manual_seed(5))
    x_t = _numpy_perturb(x.numpy(), 5, 0.7, noise)
    norms = np.linalg.norm(x_t.reshape(4, -1), axis=1)  # per sample
    assert_close(got, torch.tensor(np.mean((norms - 1.0) ** 2), dtype=F64))
    batch_norm = np.linalg.norm(x_t)  # one norm over the batch: the anti-pattern
    assert abs(np.mean((norms - 1.0) ** 2) - (batch_norm - 1.0) ** 2) > 0.1


def test_dragan_perturbation_is_near_the_data_and_matches_numpy():
    x = _real_images()
    x_t = dragan_perturb(x, scale=0.5, generator=torch.Generator().manual_seed(0))
    assert_close(x_t.numpy(), _numpy_perturb(x.numpy(), 0, 0.5, "uniform"))
    delta = x_t - x
    bound = 0.5 * x.std(unbiased=False).item()
    assert delta.min().item() >= 0.0 and delta.max().item() < bound
    assert not x_t.requires_grad


def test_dragan_backpropagates_into_the_critic_and_passes_c():
    torch.manual_seed(0)
    lin = nn.Linear(6, 1).double()
    seen = {}

    def critic(x, c):
        seen["c"] = c
        return torch.tanh(lin(x.flatten(1))).squeeze(1)  # (N,)

    x = _real_images()
    labels = torch.tensor([0, 1, 0, 1])
    penalty = dragan_penalty(critic, x, c=labels, generator=torch.Generator().manual_seed(1))
    penalty.backward()
    assert seen["c"] is labels
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
    assert not x.requires_grad


# --------------------------------------------------------------------------- feature matching


def test_feature_matching_of_known_means():
    real = torch.tensor([[1.0, 2.0], [3.0, 0.0], [2.0, 4.0]], dtype=F64)  # mean (2, 2)
    fake = torch.tensor([[0.0, 1.0], [2.0, -1.0]], dtype=F64, requires_grad=True)  # mean (1, 0)
    loss = feature_matching_loss(real, fake)
    assert_close(loss, torch.tensor((2 - 1) ** 2 + (2 - 0) ** 2, dtype=F64))
    # batch means are matched, not per-sample distances (which would not vanish here)
    per_sample = np.mean([np.sum((r - f) ** 2) for r in real.numpy() for f in fake.detach().numpy()])
    assert abs(per_sample - 5.0) > 1.0
    loss.backward()  # d/d fake_i = -2 (mu_r - mu_f) / N_fake
    assert_close(fake.grad, torch.tensor([[-1.0, -2.0], [-1.0, -2.0]], dtype=F64))


def test_feature_matching_flattens_maps_and_detaches_real():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(3, 2, 2, 2, generator=gen, dtype=F64).requires_grad_(True)
    fake = torch.randn(4, 2, 2, 2, generator=gen, dtype=F64)
    expected = np.sum((real.detach().numpy().reshape(3, -1).mean(0) - fake.numpy().reshape(4, -1).mean(0)) ** 2)
    loss = feature_matching_loss(real, fake)
    assert_close(loss, torch.tensor(expected, dtype=F64))
    assert not loss.requires_grad  # nothing to learn from the real side
    with pytest.raises(ShapeError):
        feature_matching_loss(torch.zeros(2, 3), torch.zeros(2, 4))


# --------------------------------------------------------------------------- label smoothing

REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.0]


def _np_bce(real, fake, t):
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    return float(-np.mean(t * np.log(sig(real)) + (1 - t) * np.log(1 - sig(real))) - np.mean(np.log(1 - sig(fake))))


def test_fixed_targets():
    t = fixed_real_targets(5, 0.9)
    assert_close(t, torch.full((5,), 0.9))
    with pytest.raises(ValueError):
        fixed_real_targets(2, 1.5)


def test_random_targets_are_per_sample_in_range_with_the_given_generator():
    t = random_real_targets(1000, generator=torch.Generator().manual_seed(0))
    ref = 0.8 + 0.2 * torch.rand(1000, generator=torch.Generator().manual_seed(0))
    assert_close(t, ref)
    assert t.min().item() >= 0.8 and t.max().item() <= 1.0
    assert t.std().item() > 0.03  # one draw per sample, not one per batch
    assert_close(t.mean().item(), 0.9, rtol=0.0, atol=0.01)  # s.e. of the mean ~ 0.0018
    t2 = random_real_targets(1000, generator=torch.Generator().manual_seed(0))
    assert_close(t, t2)  # reproducible


def test_bce_with_targets_against_numpy():
    targets = np.array([0.85, 0.95, 0.8])
    got = bce_d_loss_with_targets(torch.tensor(REAL, dtype=F64), torch.tensor(FAKE, dtype=F64), torch.tensor(targets))
    assert_close(got, torch.tensor(_np_bce(np.array(REAL), np.array(FAKE), targets), dtype=F64))
    # per-sample targets differ from one batch-mean target
    batch = _np_bce(np.array(REAL), np.array(FAKE), targets.mean())
    assert abs(got.item() - batch) > 1e-3


def test_bce_with_targets_reduces_to_the_core_losses():
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    assert_close(bce_d_loss_with_targets(real, fake, torch.ones(3)), ns_d_loss(real, fake))
    assert_close(bce_d_loss_with_targets(real, fake, fixed_real_targets(3, 0.9)),
                 minimax_d_loss(real, fake, real_label=0.9))


def test_bce_with_targets_on_patch_maps():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3, 1, 2, 2)), rng.normal(size=(3, 1, 2, 2))
    t = np.array([0.8, 0.9, 1.0])
    expected = _np_bce(real, fake, t.reshape(3, 1, 1, 1))  # one target per sample, every patch
    got = bce_d_loss_with_targets(torch.tensor(real), torch.tensor(fake), torch.tensor(t))
    assert_close(got, torch.tensor(expected, dtype=F64))
    full = torch.tensor(t).view(3, 1, 1, 1).expand(3, 1, 2, 2)  # per-element targets also work
    assert_close(bce_d_loss_with_targets(torch.tensor(real), torch.tensor(fake), full), got)
    with pytest.raises(ShapeError):
        bce_d_loss_with_targets(torch.tensor(real), torch.tensor(fake), torch.ones(2))


# --------------------------------------------------------------------------- instance noise


def test_instance_noise_schedule():
    assert instance_noise_std(0, 0.4, 100) == 0.4
    assert_close(instance_noise_std(25, 0.4, 100), 0.3)
    assert instance_noise_std(100, 0.4, 100) == 0.0
    assert instance_noise_std(500, 0.4, 100) == 0.0
    assert instance_noise_std(500, 0.4, 0) == 0.4  # constant


def test_add_instance_noise_values_and_gradient():
    x = torch.zeros(2, 3, dtype=F64, requires_grad=True)
    y = add_instance_noise(x, 0.5, generator=torch.Generator().manual_seed(7))
    assert_close(y.detach(), 0.5 * torch.randn(2, 3, generator=torch.Generator().manual_seed(7), dtype=F64))
    y.sum().backward()
    assert_close(x.grad, torch.ones(2, 3, dtype=F64))  # the generator still gets gradients
    assert add_instance_noise(x, 0.0) is x
    big = add_instance_noise(torch.zeros(20_000), 0.3, generator=torch.Generator().manual_seed(0))
    assert_close(big.std().item(), 0.3, rtol=0.02, atol=0.0)


