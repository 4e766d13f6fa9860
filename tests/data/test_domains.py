"""Domain-B transforms of coupled GANs: the negative is exact, the edge map is the Sobel
gradient magnitude (checked by hand on a step and against NumPy), rescaled per image."""

import numpy as np
import pytest
import torch

from gankit.data.domains import DOMAINS, edges, negative
from gankit.errors import ConfigError


def _numpy_edges(x: np.ndarray) -> np.ndarray:
    """Sobel magnitude written independently: edge-padded 3x3 correlation, max-rescaled per image."""
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
    ky = kx.T
    n, c, h, w = x.shape
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    gx, gy = np.zeros((n, c, h, w)), np.zeros((n, c, h, w))
    for i in range(3):
        for j in range(3):
            window = padded[:, :, i : i + h, j : j + w]
            gx += kx[i, j] * window
            gy += ky[i, j] * window
    m = np.sqrt(gx**2 + gy**2)
    peak = m.reshape(n, -1).max(axis=1)
    return 2 * m / peak[:, None, None, None] - 1


def test_registered():
    assert {"negative", "edges"} <= set(DOMAINS.names())
    with pytest.raises(ConfigError, match="unknown domain transform 'rotate'"):
        DOMAINS.get("rotate")


def test_negative_is_exact():
    x = torch.rand(3, 1, 5, 5, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.testing.assert_close(negative(x), x.neg(), rtol=0, atol=0)
    torch.testing.assert_close(negative(negative(x)), x, rtol=0, atol=0)
    torch.testing.assert_close(negative(torch.tensor([[0.25, -1.0]])), torch.tensor([[-0.25, 1.0]]), rtol=0, atol=0)


def test_edges_of_a_vertical_step_by_hand():
    # left 3 columns -1, right 3 columns +1: G_y = 0; G_x = (1+2+1)·(1-(-1)) = 8 on the two
    # columns beside the step and 0 elsewhere (replicate padding: no edge at the borders)
    x = torch.full((1, 1, 4, 6), -1.0)
    x[..., 3:] = 1.0
    expected = torch.full((1, 1, 4, 6), -1.0)
    expected[..., 2:4] = 1.0  # 2 · 8/8 - 1
    torch.testing.assert_close(edges(x), expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(edges(x), torch.from_numpy(_numpy_edges(x.numpy())).float())


def test_edges_match_numpy_on_random_images():
    x = torch.rand(3, 2, 7, 5, generator=torch.Generator().manual_seed(1)) * 2 - 1
    torch.testing.assert_close(edges(x), torch.from_numpy(_numpy_edges(x.numpy())).float(), rtol=1e-5, atol=1e-5)


def test_edges_are_rescaled_per_image():
    x = torch.rand(1, 1, 6, 6, generator=torch.Generator().manual_seed(2)) * 2 - 1
    batch = torch.cat([x, 0.1 * x, torch.full_like(x, 0.3)])  # same image at lower contrast; a flat image
    out = edges(batch)
    torch.testing.assert_close(out[1], out[0])  # contrast does not matter after rescaling
    assert float(out[0].max()) == pytest.approx(1.0) and float(out[0].min()) >= -1.0
    torch.testing.assert_close(out[2], torch.full_like(x[0], -1.0), rtol=0, atol=0)  # no gradient: all -1


def test_edges_need_images():
    with pytest.raises(ConfigError, match=r"images \(N, C, H, W\)"):
        edges(torch.zeros(4, 2))
