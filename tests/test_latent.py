import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.latent import lerp, slerp


def test_lerp_values():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    out = lerp(z0, z1, torch.tensor([0.0, 0.25, 1.0]))
    assert_close(out, torch.tensor([[0.0, 2.0], [1.0, 1.0], [4.0, -2.0]]))


def test_slerp_orthogonal_unit_vectors_hand_values():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    t = torch.tensor([0.0, 0.5, 1.0 / 3.0, 1.0])
    out = slerp(z0, z1, t)
    # omega = pi/2: slerp = (cos(t pi/2), sin(t pi/2))
    expected = torch.tensor([[1.0, 0.0], [math.sqrt(0.5), math.sqrt(0.5)], [math.cos(math.pi / 6), 0.5], [0.0, 1.0]])
    assert_close(out, expected)


def test_slerp_batched_keeps_norm_and_matches_numpy():
    g = torch.Generator().manual_seed(0)
    z0 = torch.randn(3, 5, generator=g, dtype=torch.float64)
    z1 = torch.randn(3, 5, generator=g, dtype=torch.float64)
    z1 = z1 / z1.norm(dim=1, keepdim=True) * z0.norm(dim=1, keepdim=True)  # equal norms
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    out = slerp(z0, z1, t)
    assert out.shape == (3, 7, 5)
    assert_close(out.norm(dim=-1), z0.norm(dim=1, keepdim=True).expand(3, 7))
    a, b = z0.numpy(), z1.numpy()
    for i in range(3):
        om = np.arccos(a[i] @ b[i] / (np.linalg.norm(a[i]) * np.linalg.norm(b[i])))
        for j, tj in enumerate(t.numpy()):
            ref = (np.sin((1 - tj) * om) * a[i] + np.sin(tj * om) * b[i]) / np.sin(om)
            np.testing.assert_allclose(out[i, j].numpy(), ref, rtol=1e-10)


def test_slerp_parallel_falls_back_to_lerp():
    z0 = torch.tensor([1.0, 1.0])
    out = slerp(z0, 2 * z0, torch.tensor([0.5]))
    assert_close(out, torch.tensor([[1.5, 1.5]]))


def test_shape_mismatch():
    with pytest.raises(ShapeError):
        lerp(torch.zeros(2), torch.zeros(3), torch.tensor([0.5]))
