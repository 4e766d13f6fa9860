"""mnist-m: Ganin et al.'s |patch - digit| blend over crops of scikit-learn's sample photos."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.data.mnist_m import blend, crop_params, crops, sample_photos
from gankit.errors import ConfigError


def test_crops_match_slicing():
    photos = torch.rand(2, 3, 20, 30, generator=torch.Generator().manual_seed(0))
    params = torch.tensor([[0, 0, 0], [1, 12, 22], [0, 5, 9]])
    got = crops(photos, params, 8)  # (3, 3, 8, 8)
    for i, (k, top, left) in enumerate(params.tolist()):
        torch.testing.assert_close(got[i], photos[k, :, top : top + 8, left : left + 8])


def test_crop_params_are_seeded_and_in_range():
    p = crop_params(5000, 28, (2, 3, 427, 640), seed=7)
    assert p.dtype == torch.int64 and p.shape == (5000, 3)
    assert p[:, 0].min() == 0 and p[:, 0].max() == 1
    assert p[:, 1].min() >= 0 and p[:, 1].max() == 427 - 28 and p[:, 2].max() == 640 - 28
    torch.testing.assert_close(crop_params(5000, 28, (2, 3, 427, 640), seed=7), p)
    assert not torch.equal(crop_params(5000, 28, (2, 3, 427, 640), seed=8), p)
    with pytest.raises(ConfigError, match="do not fit"):
        crop_params(1, 500, (2, 3, 427, 640), seed=0)


def test_blend_by_hand():
    digit = torch.tensor([-1.0, 0.0, 1.0]).reshape(1, 1, 1, 3)  # d = 0, 0.5, 1
    patch = torch.tensor([[0.2, 0.2, 0.2], [1.0, 0.5, 0.0], [0.0, 0.0, 0.0]]).reshape(1, 3, 1, 3)
    want = 2 * torch.tensor([[0.2, 0.3, 0.8], [1.0, 0.0, 1.0], [0.0, 0.5, 1.0]]).reshape(1, 3, 1, 3) - 1
    torch.testing.assert_close(blend(digit, patch), want)


def test_mnist_m_dataset(real_data):
    from sklearn.datasets import load_sample_images

    cfg = DataConfig(name="mnist-m", path=str(real_data), download=False, limit=12, seed=5)
    ds = build_dataset(cfg)
    mnist = build_dataset(DataConfig(name="mnist", path=str(real_data), download=False, limit=12))
    assert {g: list(f) for g, f in ds.groups.items()} == {"a": ["a", "y_a"], "b": ["b", "y_b"]}
    torch.testing.assert_close(ds.field("a"), mnist.x)
    torch.testing.assert_close(ds.field("y_b"), mnist.y)
    b = ds.field("b")
    assert b.shape == (12, 3, 28, 28) and b.dtype == torch.float32
    assert float(b.min()) >= -1.0 and float(b.max()) <= 1.0
    photos = np.stack(load_sample_images().images).astype(np.float64) / 255.0  # (2, 427, 640, 3)
    digits = (mnist.x.numpy()[:, 0].astype(np.float64) + 1) / 2  # (12, 28, 28)
    for i, (k, top, left) in enumerate(crop_params(12, 28, (2, 3, 427, 640), seed=5).tolist()):
        patch = photos[k, top : top + 28, left : left + 28].transpose(2, 0, 1)  # (3, 28, 28)
        want = 2 * np.abs(patch - digits[i]) - 1
        torch.testing.assert_close(b[i], torch.from_numpy(want).float())
    again = build_dataset(cfg)
    torch.testing.assert_close(again.field("b"), b)
    assert not torch.equal(build_dataset(dataclasses.replace(cfg, seed=6)).field("b"), b)
    rgb = build_dataset(dataclasses.replace(cfg, channels=3)).field("a")
    assert rgb.shape == (12, 3, 28, 28)
    torch.testing.assert_close(rgb[:, 1], mnist.x[:, 0])


def test_mnist_m_checks_the_side_before_loading_mnist(tmp_path):
    assert sample_photos().shape == (2, 3, 427, 640)
    with pytest.raises(ConfigError, match="do not fit"):  # not the DataError of the missing MNIST files
        build_dataset(DataConfig(name="mnist-m", path=str(tmp_path), download=False, resolution=512))
