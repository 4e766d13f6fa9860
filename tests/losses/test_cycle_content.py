"""CycleGAN's cycle and identity losses and SRGAN's content and pixel losses against values
computed by hand in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.losses.content import content_loss, pixel_mse_loss
from gankit.losses.cycle import cycle_consistency_loss, identity_loss

# two 1x2x2 "images" and their reconstructions, hand-picked
REAL = [[[[1.0, -1.0], [0.5, 0.0]]], [[[0.0, 0.25], [-0.5, 1.0]]]]
RECON = [[[[0.5, -1.0], [1.0, 0.0]]], [[[-1.0, 0.25], [0.5, 0.0]]]]


def test_cycle_and_identity_are_the_mean_absolute_difference():
    """|differences| = 0.5, 0, 0.5, 0 | 1, 0, 1, 1 -> 4 / 8 = 0.5 (catches a sum instead of a
    mean, a square instead of an absolute value, or a missing abs)."""
    real, recon = torch.tensor(REAL), torch.tensor(RECON)
    assert_close(cycle_consistency_loss(real, recon), torch.tensor(0.5))
    assert_close(identity_loss(real, recon), torch.tensor(0.5))
    expected = np.mean(np.abs(np.array(RECON) - np.array(REAL)))
    assert_close(cycle_consistency_loss(real, recon), torch.tensor(expected, dtype=torch.float32))
    assert_close(cycle_consistency_loss(real, real), torch.tensor(0.0))


def test_cycle_gradient_is_the_sign_over_n():
    real = torch.tensor(REAL)
    recon = torch.tensor(RECON, requires_grad=True)
    cycle_consistency_loss(real, recon).backward()
    expected = np.sign(np.array(RECON) - np.array(REAL)) / 8.0
    assert_close(recon.grad, torch.tensor(expected, dtype=torch.float32))


def test_shape_mismatch_is_one_line():
    with pytest.raises(ShapeError, match="one shape"):
        cycle_consistency_loss(torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 2, 2))
    with pytest.raises(ShapeError):
        identity_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4))


W = torch.tensor([[1.0, 0.0, 2.0], [0.0, -1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.5]])  # (4 pixels, 3 features)


def linear_features(x: torch.Tensor) -> torch.Tensor:
    """A known feature network: φ(x) = flatten(x) @ W, (N, 3)."""
    return x.flatten(1) @ W


def test_content_loss_with_a_known_feature_net():
    """φ(g) − φ(t) by hand: pixel differences [-0.5, 0, 0.5, 0] @ W = [0, 0.5, -1] and
    [-1, 0, 1, -1] @ W = [0, 1, -2.5] -> mean of squares 8.5 / 6 (catches a loss on pixels
    instead of features, a missing square or a sum)."""
    real, fake = torch.tensor(REAL), torch.tensor(RECON, requires_grad=True)
    loss = content_loss(linear_features, fake, real)
    assert_close(loss, torch.tensor(8.5 / 6))
    d = (np.array(RECON).reshape(2, 4) - np.array(REAL).reshape(2, 4)) @ W.numpy()  # (2, 3)
    assert_close(loss, torch.tensor(np.mean(d**2), dtype=torch.float32))
    loss.backward()
    grad = (2.0 / d.size) * d @ W.numpy().T  # dL/dg = 2/n · d Wᵀ
    assert_close(fake.grad, torch.tensor(grad.reshape(2, 1, 2, 2), dtype=torch.float32))


def test_content_loss_treats_the_target_features_as_constants():
    real = torch.tensor(REAL, requires_grad=True)
    fake = torch.tensor(RECON, requires_grad=True)
    content_loss(linear_features, fake, real).backward()
    assert real.grad is None and fake.grad is not None


def test_pixel_mse_by_hand():
    """Squares 0.25, 0, 0.25, 0 | 1, 0, 1, 1 -> 3.5 / 8."""
    assert_close(pixel_mse_loss(torch.tensor(RECON), torch.tensor(REAL)), torch.tensor(3.5 / 8))
    with pytest.raises(ShapeError):
        pixel_mse_loss(torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 7, 7))
