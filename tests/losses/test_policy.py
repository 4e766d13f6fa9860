"""Sequence losses: cross-entropy by hand, the REINFORCE loss and its gradient by hand."""

import math

import pytest
import torch

from gankit.errors import ShapeError
from gankit.losses.policy import reinforce_loss, sequence_cross_entropy


def test_sequence_cross_entropy_by_hand():
    logits = torch.tensor([[[1.0, 2.0, 0.0], [0.5, 0.5, 3.0]]])  # (1, 2, 3)
    tokens = torch.tensor([[1, 0]])
    nll = [-(2.0 - math.log(math.e + math.e**2 + 1)), -(0.5 - math.log(2 * math.e**0.5 + math.e**3))]
    torch.testing.assert_close(sequence_cross_entropy(logits, tokens), torch.tensor(sum(nll) / 2))


def test_reinforce_loss_is_minus_reward_weighted_log_prob_per_sequence():
    log_probs = torch.tensor([[-1.0, -2.0], [-0.5, -3.0]], requires_grad=True)
    rewards = torch.tensor([[0.2, 0.4], [1.0, 0.5]])
    loss = reinforce_loss(log_probs, rewards)
    expected = -((-1.0 * 0.2) + (-2.0 * 0.4) + (-0.5 * 1.0) + (-3.0 * 0.5)) / 2  # B = 2
    torch.testing.assert_close(loss, torch.tensor(expected))
    loss.backward()
    torch.testing.assert_close(log_probs.grad, -rewards / 2)  # no gradient through the rewards


def test_reinforce_gradient_is_unbiased_on_a_one_step_policy():
    """J(theta) = sum_y p_theta(y) r(y); the expectation over y ~ p of the REINFORCE gradient
    (enumerated exactly over the 3 tokens) equals -grad J."""
    theta = torch.tensor([0.3, -0.2, 0.9], requires_grad=True)
    r = torch.tensor([1.0, 0.0, 2.0])
    p = torch.softmax(theta, 0).detach()
    expected_grad = torch.zeros(3)
    for y in range(3):
        logp = torch.log_softmax(theta, 0)[y].view(1, 1)
        (g,) = torch.autograd.grad(reinforce_loss(logp, r[y].view(1, 1)), theta)
        expected_grad += p[y] * g
    # -grad J by hand: dJ/dtheta_k = p_k (r_k - sum_y p_y r_y)
    exact = -(p * (r - (p * r).sum()))
    torch.testing.assert_close(expected_grad, exact)


def test_shape_mismatch_is_one_line():
    with pytest.raises(ShapeError, match="rewards"):
        reinforce_loss(torch.zeros(2, 3), torch.zeros(2, 4))
