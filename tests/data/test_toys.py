import itertools

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.config import DataConfig
from gankit.data import build_dataset, grid_centres, ring_centres, sample_mixture
from gankit.errors import ConfigError


def test_ring_centres_match_numpy() -> None:
    angles = 2 * np.pi * np.arange(8) / 8
    expected = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    got = ring_centres()
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-7)
    # no duplicated endpoint: all 8 are distinct, neighbours 2 sin(pi/8) apart
    dist = torch.cdist(got.double(), got.double()) + torch.eye(8, dtype=torch.float64) * 10
    assert_close(dist.min(dim=1).values, torch.full((8,), 2 * np.sin(np.pi / 8), dtype=torch.float64))


def test_grid_centres_match_numpy() -> None:
    expected = np.array(list(itertools.product([-4, -2, 0, 2, 4], repeat=2)), dtype=np.float32)
    np.testing.assert_array_equal(grid_centres().numpy(), expected)


@pytest.mark.parametrize(
    ("name", "k", "std", "n", "rtol"),
    # rtol = 5 standard errors of a sample std: 5 / sqrt(2 * n / k)
    [("ring", 8, 0.01, 40_000, 0.05), ("grid", 25, 0.05, 50_000, 0.08)],
)
def test_mixture_components(name: str, k: int, std: float, n: int, rtol: float) -> None:
    ds = build_dataset(DataConfig(name=name, n_samples=n, seed=3))
    assert ds.x.shape == (n, 2) and ds.x.dtype == torch.float32
    assert ds.y is not None and ds.y.dtype == torch.int64
    assert ds.num_classes == k and ds.mode_std == std
    assert ds.mode_centres is not None and ds.mode_centres.shape == (k, 2)
    expected_centres = ring_centres() if name == "ring" else grid_centres()
    assert_close(ds.mode_centres, expected_centres)
    counts = np.bincount(ds.y.numpy(), minlength=k)
    np.testing.assert_array_equal(counts, np.full(k, n // k))
    x, y, c = ds.x.double().numpy(), ds.y.numpy(), ds.mode_centres.double().numpy()
    offsets = x - c[y]
    per_comp_std = np.stack([offsets[y == i].std(axis=0, ddof=1) for i in range(k)])
    np.testing.assert_allclose(per_comp_std, np.full((k, 2), std), rtol=rtol, atol=0)
    per_comp_mean = np.stack([x[y == i].mean(axis=0) for i in range(k)])
    np.testing.assert_allclose(per_comp_mean, c, rtol=0, atol=5 * std / np.sqrt(n / k))


def test_sample_mixture_shapes_and_balance() -> None:
    centres = torch.tensor([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    x, y = sample_mixture(centres, 0.1, 10, torch.Generator().manual_seed(0))
    assert x.shape == (10, 3) and y.shape == (10,) and y.dtype == torch.int64
    np.testing.assert_array_equal(np.bincount(y.numpy(), minlength=3), [4, 3, 3])
    nearest = torch.cdist(x, centres).argmin(dim=1)
    assert_close(nearest, y)


@pytest.mark.parametrize("name", ["ring", "grid", "spiral"])
def test_deterministic_per_seed(name: str) -> None:
    a = build_dataset(DataConfig(name=name, n_samples=500, seed=7))
    b = build_dataset(DataConfig(name=name, n_samples=500, seed=7))
    c = build_dataset(DataConfig(name=name, n_samples=500, seed=8))
    assert_close(a.x, b.x, rtol=0, atol=0)
    if a.y is not None:
        assert_close(a.y, b.y, rtol=0, atol=0)
    assert not torch.equal(a.x, c.x)


@pytest.mark.parametrize("name", ["ring", "grid", "spiral"])
def test_limit_keeps_prefix(name: str) -> None:
    full = build_dataset(DataConfig(name=name, n_samples=300, seed=1))
    part = build_dataset(DataConfig(name=name, n_samples=300, seed=1, limit=50))
    assert len(part) == 50
    assert_close(part.x, full.x[:50], rtol=0, atol=0)


def test_spiral_geometry() -> None:
    ds = build_dataset(DataConfig(name="spiral", n_samples=20_000, seed=0))
    assert ds.x.shape == (20_000, 2) and ds.x.dtype == torch.float32
    assert ds.y is None and ds.mode_centres is None and ds.num_classes == 0
    r = np.linalg.norm(ds.x.double().numpy(), axis=1)
    # r = 2 sqrt(u), u ~ U(0,1): E[r] = 4/3, E[r^2] = 2, max 2 (+ noise 0.02)
    np.testing.assert_allclose([r.mean(), (r**2).mean()], [4 / 3, 2.0], rtol=0.02)
    assert r.max() <= 2.0 + 5 * 0.02
    # points lie on the spiral: the angle, unwrapped by the radius, matches theta = 2*pi*r
    theta = 2 * np.pi * r
    phi = np.arctan2(ds.x[:, 1].double().numpy(), ds.x[:, 0].double().numpy())
    wrapped = np.angle(np.exp(1j * (theta - phi)))
    far = r > 0.5  # near the centre the noise dominates the angle
    assert np.quantile(np.abs(wrapped[far]), 0.99) < 0.5


@pytest.mark.parametrize("n", [0, -5])
def test_bad_n_samples(n: int) -> None:
    with pytest.raises(ConfigError, match="n_samples"):
        build_dataset(DataConfig(name="ring", n_samples=n))
