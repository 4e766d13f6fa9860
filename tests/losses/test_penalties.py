"""Regularizers against critics whose input gradients are known in closed form (DESIGN habit 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.losses.penalties import clip_weights_, gradient_penalty, r1_penalty


def linear_critic(w: torch.Tensor):
    """D(x)_i = <w, x_i>: gradient w.r.t. x_i is w for every sample, norm ||w||."""
    return lambda x: (x * w).flatten(1).sum(dim=1)  # (N,)


def _w_with_norm(shape: tuple[int, ...], norm: float, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(shape, generator=g, dtype=torch.float64)
    return w * (norm / w.norm())


def _pair(shape: tuple[int, ...], seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64),
            torch.randn(shape, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("sample_shape", [(5,), (3, 4, 4)], ids=["vector", "image"])
@pytest.mark.parametrize("w_norm, expected", [(2.0, 1.0), (1.0, 0.0), (3.5, 6.25)])
def test_gp_linear_critic_is_norm_minus_one_squared(sample_shape, w_norm, expected):
    w = _w_with_norm(sample_shape, w_norm)
    real, fake = _pair((6, *sample_shape))
    gp = gradient_penalty(linear_critic(w), real, fake, generator=torch.Generator().manual_seed(0))
    assert_close(gp, torch.tensor(expected, dtype=torch.float64))  # (||w|| - 1)^2


def test_gp_target_argument():
    w = _w_with_norm((4,), 2.0)
    real, fake = _pair((3, 4))
    gp = gradient_penalty(linear_critic(w), real, fake, target=0.5)
    assert_close(gp, torch.tensor((2.0 - 0.5) ** 2, dtype=torch.float64))


def test_gp_tfgan_critic_two_times_sum():
    # TF-GAN's test critic D(x) = 2 * x (summed): every input coordinate has gradient 2, so
    # the per-sample norm is 2 * sqrt(d). With d = 4 the penalty is (4 - 1)^2 = 9.
    real, fake = _pair((5, 4))
    gp = gradient_penalty(lambda x: 2.0 * x, real, fake)  # logits (N, 4) are summed
    assert_close(gp, torch.tensor(9.0, dtype=torch.float64))


def test_gp_uses_per_sample_norms_not_one_batch_norm():
    # D(x)_i = a_i <w, x_i> with ||w|| = 1: sample i has gradient norm |a_i|.
    a = torch.tensor([1.0, 3.0], dtype=torch.float64)
    w = _w_with_norm((3,), 1.0)
    critic = lambda x: a * (x * w).sum(dim=1)  # noqa: E731  (N,)
    real, fake = _pair((2, 3))
    per_sample = ((1.0 - 1.0) ** 2 + (3.0 - 1.0) ** 2) / 2  # = 2.0
    whole_batch = (np.sqrt(1.0**2 + 3.0**2) - 1.0) ** 2  # ~ 4.675, the anti-pattern
    assert abs(per_sample - whole_batch) > 1.0  # the two definitions really differ here
    got = gradient_penalty(critic, real, fake)
    assert_close(got, torch.tensor(per_sample, dtype=torch.float64))


@pytest.mark.parametrize("shape", [(4, 3), (4, 2, 3, 3)], ids=["vector", "image"])
def test_gp_interpolates_with_per_sample_eps_from_generator(shape):
    # D(x)_i = 1/2 ||x_i||^2 has gradient x_i, so the penalty depends on where x_hat lies.
    critic = lambda x: 0.5 * x.flatten(1).square().sum(dim=1)  # noqa: E731
    real, fake = _pair(shape)
    gp = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(123))
    eps = torch.rand(shape[0], generator=torch.Generator().manual_seed(123), dtype=torch.float64)
    eps_np = eps.numpy().reshape(-1, *([1] * (len(shape) - 1)))
    x_hat = eps_np * real.numpy() + (1.0 - eps_np) * fake.numpy()
    norms = np.sqrt((x_hat.reshape(shape[0], -1) ** 2).sum(axis=1))
    expected = np.mean((norms - 1.0) ** 2)
    assert_close(gp, torch.tensor(expected, dtype=torch.float64))
    # Same generator seed -> same value; the draw really comes from the generator.
    again = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(123))
    other = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(7))
    assert_close(again, gp, rtol=0, atol=0)
    assert not torch.allclose(other, gp)


def test_gp_is_differentiable_with_analytic_gradient():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    w = _w_with_norm((2, 3, 3), 2.0).requires_grad_(True)
    real, fake = _pair((4, 2, 3, 3))
    gp = gradient_penalty(linear_critic(w), real, fake)
    gp.backward()
    w_ = w.detach()
    assert_close(w.grad, 2.0 * (w_.norm() - 1.0) * w_ / w_.norm())


def test_gp_passes_conditioning_and_leaves_inputs_untouched():
    w = _w_with_norm((3,), 1.0)
    c = torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64)
    critic = lambda x, c: c * (x * w).sum(dim=1)  # noqa: E731  gradient norm |c_i|
    real, fake = _pair((3, 3))
    real.requires_grad_(True)  # caller's leaf: must stay as it is
    gp = gradient_penalty(critic, real, fake, c=c)
    expected = ((2.0 - 1.0) ** 2 + (0.5 - 1.0) ** 2 + 0.0) / 3
    assert_close(gp, torch.tensor(expected, dtype=torch.float64))
    assert real.requires_grad and not fake.requires_grad
    assert real.grad is None and fake.grad is None


def test_gp_shape_errors():
    critic = linear_critic(torch.ones(3))
    with pytest.raises(ShapeError):
        gradient_penalty(critic, torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(ShapeError):
        gradient_penalty(critic, torch.tensor(1.0), torch.tensor(1.0))


@pytest.mark.parametrize("sample_shape", [(5,), (1, 4, 4)], ids=["vector", "image"])
def test_r1_linear_critic_is_norm_squared(sample_shape):
    w = _w_with_norm(sample_shape, 1.7)
    real, _ = _pair((6, *sample_shape))
    assert_close(r1_penalty(linear_critic(w), real), torch.tensor(1.7**2, dtype=torch.float64))


def test_r1_per_sample_squared_norm_and_gradient():
    # D(x)_i = 1/2 ||x_i||^2 -> R1 = mean_i ||x_i||^2
    critic = lambda x: 0.5 * x.flatten(1).square().sum(dim=1)  # noqa: E731
    real = torch.tensor([[3.0, 4.0], [0.0, 0.5]], dtype=torch.float64)
    assert_close(r1_penalty(critic, real), torch.tensor((25.0 + 0.25) / 2, dtype=torch.float64))
    assert not real.requires_grad
    # Differentiable: d/dw ||w||^2 = 2 w for the linear critic.
    w = _w_with_norm((2,), 1.3).requires_grad_(True)
    r1_penalty(linear_critic(w), real).backward()
    assert_close(w.grad, 2.0 * w.detach())


def test_r1_passes_conditioning():
    w = _w_with_norm((2,), 1.0)
    c = torch.tensor([1.0, 2.0], dtype=torch.float64)
    real = torch.ones(2, 2, dtype=torch.float64)
    got = r1_penalty(lambda x, c: c * (x * w).sum(dim=1), real, c=c)
    assert_close(got, torch.tensor((1.0 + 4.0) / 2, dtype=torch.float64))


def test_clip_weights_clamps_exactly():
    lin = nn.Linear(3, 2)
    weight = np.array([[0.5, -0.005, 0.01], [-0.2, 0.0099, -0.01]], dtype=np.float32)
    bias = np.array([0.03, -0.007], dtype=np.float32)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(weight))
        lin.bias.copy_(torch.from_numpy(bias))
    clip_weights_(lin, 0.01)
    expected_w = torch.from_numpy(np.clip(weight, -0.01, 0.01))
    assert_close(lin.weight.detach(), expected_w, rtol=0, atol=0)
    assert_close(lin.bias.detach(), torch.from_numpy(np.clip(bias, -0.01, 0.01)), rtol=0, atol=0)
    assert lin.weight.requires_grad  # still a trainable parameter
    with pytest.raises(ValueError):
        clip_weights_(lin, 0.0)
