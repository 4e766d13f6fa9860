import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.testing import assert_close

from gankit.config import DataConfig
from gankit.data import build_dataset, resize_images


@pytest.fixture(scope="module")
def sk() -> tuple[np.ndarray, np.ndarray]:
    bunch = load_digits()
    return bunch.images, bunch.target


def test_all_split_maps_values_exactly(sk: tuple[np.ndarray, np.ndarray]) -> None:
    images, target = sk
    ds = build_dataset(DataConfig(name="digits", split="all"))
    assert ds.x.shape == (1797, 1, 8, 8) and ds.x.dtype == torch.float32
    assert ds.y is not None and ds.y.dtype == torch.int64
    expected = (images.astype(np.float32) / np.float32(8.0) - np.float32(1.0))[:, None]
    np.testing.assert_array_equal(ds.x.numpy(), expected)
    np.testing.assert_array_equal(ds.y.numpy(), target)
    x = ds.x.numpy()[:, 0]
    assert (images == 0).any() and (images == 16).any()
    np.testing.assert_array_equal(x[images == 0], -1.0)
    np.testing.assert_array_equal(x[images == 16], 1.0)
    assert x.min() == -1.0 and x.max() == 1.0
    assert ds.num_classes == 10 and ds.class_names == tuple("0123456789")


@pytest.mark.parametrize(("split", "rows"), [("train", slice(0, 1500)), ("test", slice(1500, 1797))])
def test_splits_and_label_histograms(split: str, rows: slice, sk: tuple[np.ndarray, np.ndarray]) -> None:
    images, target = sk
    ds = build_dataset(DataConfig(name="digits", split=split))
    assert len(ds) == rows.stop - rows.start
    assert ds.y is not None
    np.testing.assert_array_equal(
        torch.bincount(ds.y, minlength=10).numpy(), np.bincount(target[rows], minlength=10)
    )
    np.testing.assert_array_equal(ds.x.numpy()[:, 0], images[rows].astype(np.float32) / 8 - 1)


def test_limit(sk: tuple[np.ndarray, np.ndarray]) -> None:
    ds = build_dataset(DataConfig(name="digits", split="test", limit=20))
    assert ds.y is not None
    np.testing.assert_array_equal(ds.y.numpy(), sk[1][1500:1520])


@pytest.mark.parametrize("res", [4, 8, 16, 32])
def test_resize_shape_and_range(res: int) -> None:
    ds = build_dataset(DataConfig(name="digits", resolution=res, limit=64))
    assert ds.x.shape == (64, 1, res, res) and ds.x.dtype == torch.float32
    assert ds.x.min() >= -1.0 and ds.x.max() <= 1.0
    native = build_dataset(DataConfig(name="digits", limit=64)).x
    if res == 8:
        assert_close(ds.x, native, rtol=0, atol=0)
    # bilinear, align_corners=False, anti-aliased only when shrinking
    ref = F.interpolate(native, size=(res, res), mode="bilinear", align_corners=False, antialias=res < 8)
    assert_close(ds.x, ref.clamp(-1, 1))
    if res < 8:  # the anti-aliasing matters, so the comparison above can tell
        plain = F.interpolate(native, size=(res, res), mode="bilinear", align_corners=False)
        assert (ds.x - plain).abs().max() > 0.05


def test_resize_constant_stays_constant() -> None:
    constant = torch.full((2, 3, 8, 8), 0.25)
    assert_close(resize_images(constant, 20), torch.full((2, 3, 20, 20), 0.25))
    assert_close(resize_images(constant, 3), torch.full((2, 3, 3, 3), 0.25))
