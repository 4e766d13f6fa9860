"""R2 (zero-centred gradient penalty on fakes) with critics of known gradient, and LeCam's
regulariser and anchors by hand."""

import pytest
import torch
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.losses import lecam_anchor_update, lecam_penalty, r1_penalty, r2_penalty
from gankit.losses.penalties import gamma_at


def test_r2_of_a_linear_critic_is_the_squared_weight_norm():
    w = torch.tensor([1.0, 2.0, 2.0])
    fake = torch.randn(5, 3)
    assert_close(r2_penalty(lambda x: x @ w, fake), torch.tensor(9.0))  # ||w||^2 = 1 + 4 + 4


def test_r2_is_taken_at_the_fakes_per_sample():
    # D(x) = 1/2 sum(a * x^2): grad = a * x, so R2 = mean_n ||a * x_n||^2 over the *fake* samples
    a = torch.tensor([1.0, 3.0])
    critic = lambda x: 0.5 * (a * x.square()).sum(dim=1)  # noqa: E731
    fake = torch.tensor([[1.0, 1.0], [2.0, 0.0]])
    want = ((1 * 1) ** 2 + (3 * 1) ** 2 + (1 * 2) ** 2 + 0.0) / 2  # (1 + 9) and (4 + 0), averaged
    assert_close(r2_penalty(critic, fake), torch.tensor(want))
    real = torch.zeros(2, 2)
    assert_close(r1_penalty(critic, real), torch.tensor(0.0))  # R1 at the reals differs
    assert not fake.requires_grad  # the caller's tensor is untouched


def test_r2_backpropagates_into_the_critic_and_refuses_an_empty_batch():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    r2_penalty(lambda x: x @ w, torch.randn(4, 2)).backward()
    assert_close(w.grad, 2 * w.detach())  # d||w||^2/dw = 2w
    with pytest.raises(ShapeError):
        r2_penalty(lambda x: x.sum(1), torch.zeros(0, 2))


def test_lecam_penalty_by_hand():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.5])
    alpha_r, alpha_f = torch.tensor(2.0), torch.tensor(-0.5)
    # mean((r - alpha_F)^2) + mean((alpha_R - f)^2) = mean(2.25, 12.25) + mean(9, 2.25)
    assert_close(lecam_penalty(real, fake, alpha_r, alpha_f), torch.tensor(7.25 + 5.625))
    # one-sided (the authors' code): relu(r - alpha_F)^2 and relu(alpha_R - f)^2; r = -1 falls below alpha_F
    real2 = torch.tensor([-1.0, 3.0])
    assert_close(lecam_penalty(real2, fake, alpha_r, alpha_f, one_sided=True), torch.tensor(12.25 / 2 + 5.625))
    assert_close(lecam_penalty(real2, fake, alpha_r, alpha_f), torch.tensor((0.25 + 12.25) / 2 + 5.625))


def test_lecam_anchors_start_at_the_first_means_then_average():
    a = lecam_anchor_update(None, torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0]), 0.9)
    assert_close(a, torch.tensor([2.0, -1.0], dtype=torch.float64))
    a = lecam_anchor_update(a, torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0]), 0.9)
    assert_close(a, torch.tensor([0.9 * 2.0, 0.9 * -1.0 + 0.1], dtype=torch.float64))


def test_no_gradient_flows_into_the_anchors():
    alpha = torch.tensor(1.0, requires_grad=True)
    real = torch.tensor([0.0], requires_grad=True)
    lecam_penalty(real, torch.tensor([0.0]), alpha, alpha).backward()
    assert alpha.grad is None
    assert_close(real.grad, torch.tensor([-2.0]))  # d(r - alpha_F)^2/dr = 2(0 - 1)


def test_cosine_gamma_schedule_by_hand():
    assert gamma_at(2.0, 37, 100) == 2.0  # constant
    assert gamma_at(2.0, 0, 100, "cosine", 0.1) == pytest.approx(2.0)
    assert gamma_at(2.0, 50, 100, "cosine", 0.1) == pytest.approx(2.0 * (0.1 + 0.9 * 0.5))
    assert gamma_at(2.0, 25, 100, "cosine", 0.1) == pytest.approx(2.0 * (0.1 + 0.9 * (1 + 0.5**0.5) / 2))
    assert gamma_at(2.0, 100, 100, "cosine", 0.1) == pytest.approx(0.2)
    assert gamma_at(2.0, 150, 100, "cosine", 0.1) == pytest.approx(0.2)  # held after train.steps
