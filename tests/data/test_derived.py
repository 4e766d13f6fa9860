"""Paired tasks derived from MNIST / Fashion-MNIST: values recomputed independently."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.data import DATASETS, build_dataset
from gankit.data.derived import hole_masks, tint_colours
from gankit.errors import ConfigError

N = 16


def _cfg(real_data, name: str, **kw) -> DataConfig:
    return DataConfig(name=name, path=str(real_data), download=False, limit=N, **kw)


@pytest.fixture(scope="module")
def mnist(real_data):
    return build_dataset(_cfg(real_data, "mnist"))


def test_every_task_is_registered_for_both_bases():
    for base in ("mnist", "fashion"):
        for task in ("edges", "inverted", "superres4", "inpaint", "colour"):
            assert DATASETS.describe(f"{base}-{task}").startswith("paired: ")


@pytest.mark.parametrize("base", ["mnist", "fashion"])
def test_edges_match_scipy_sobel(real_data, base):
    from scipy import ndimage

    ds = build_dataset(_cfg(real_data, f"{base}-edges"))
    source = build_dataset(_cfg(real_data, {"mnist": "mnist", "fashion": "fashion-mnist"}[base]))
    b = source.x.numpy().astype(np.float64)[:, 0]  # (N, 28, 28)
    gx = [ndimage.sobel(im, axis=1, mode="nearest") for im in b]  # per image: scipy smooths every other axis
    gy = [ndimage.sobel(im, axis=0, mode="nearest") for im in b]
    m = np.hypot(np.stack(gx), np.stack(gy))  # (N, 28, 28)
    want = 2 * m / m.reshape(N, -1).max(axis=1)[:, None, None] - 1
    torch.testing.assert_close(ds.field("a")[:, 0], torch.from_numpy(want).float(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ds.field("b"), source.x)
    torch.testing.assert_close(ds.y, source.y)
    assert (ds.num_classes, ds.class_names, ds.meta) == (10, source.class_names, {"base": source.name, "task": "edges"})


def test_inverted_and_superres(real_data, mnist):
    inv = build_dataset(_cfg(real_data, "mnist-inverted"))
    torch.testing.assert_close(inv.field("a"), -mnist.x)
    sr = build_dataset(_cfg(real_data, "mnist-superres4"))
    blocks = mnist.x.numpy().astype(np.float64).reshape(N, 1, 7, 4, 7, 4).mean(axis=(3, 5))  # (N, 1, 7, 7)
    assert sr.field("a").shape == (N, 1, 7, 7) and sr.field("b").shape == (N, 1, 28, 28)
    torch.testing.assert_close(sr.field("a"), torch.from_numpy(blocks).float())
    assert build_dataset(_cfg(real_data, "mnist-superres4", resolution=32)).field("a").shape == (N, 1, 8, 8)
    with pytest.raises(ConfigError, match="divisible"):
        build_dataset(_cfg(real_data, "mnist-superres4", resolution=30))


def test_inpaint_hole_and_mask(real_data, mnist):
    ds = build_dataset(_cfg(real_data, "mnist-inpaint", seed=3))
    mask, a, b = ds.field("mask"), ds.field("a"), ds.field("b")
    assert mask.shape == (N, 1, 28, 28) and mask.dtype == torch.float32
    torch.testing.assert_close(b, mnist.x)
    for i in range(N):
        rows, cols = torch.nonzero(mask[i, 0], as_tuple=True)
        top, left = int(rows.min()), int(cols.min())
        want = torch.zeros(28, 28)
        want[top : top + 14, left : left + 14] = 1.0  # one 14x14 square inside the image
        torch.testing.assert_close(mask[i, 0], want)
        torch.testing.assert_close(a[i, 0], torch.where(want.bool(), torch.zeros(()), b[i, 0]))
    corners = {(int(torch.nonzero(m[0])[:, 0].min()), int(torch.nonzero(m[0])[:, 1].min())) for m in mask}
    assert len(corners) > N // 2  # positions vary per example
    torch.testing.assert_close(hole_masks(N, 28, 3), mask)  # a pure function of the seed
    assert not torch.equal(hole_masks(N, 28, 4), mask)


def test_colour_tints_each_example(real_data, mnist):
    ds = build_dataset(_cfg(real_data, "mnist-colour", seed=1))
    a, b = ds.field("a"), ds.field("b")
    assert a.shape == (N, 1, 28, 28) and b.shape == (N, 3, 28, 28)
    torch.testing.assert_close(a, mnist.x)
    flat = a.reshape(N, -1)
    brightest = flat.argmax(dim=1)  # (N,): the brightest stroke pixel, t = (a + 1) / 2 near 1
    t_max = (flat[torch.arange(N), brightest] + 1) / 2  # (N,)
    colours = (b.reshape(N, 3, -1)[torch.arange(N), :, brightest] + 1) / 2 / t_max[:, None]  # (N, 3): b = 2 t c - 1
    torch.testing.assert_close(colours.amax(dim=1), torch.ones(N))
    t = (a + 1) / 2  # (N, 1, 28, 28)
    torch.testing.assert_close(b, 2 * t * colours[:, :, None, None] - 1)
    torch.testing.assert_close(tint_colours(N, 1), colours)
    assert not torch.allclose(tint_colours(N, 2), colours)
    with pytest.raises(ConfigError, match="leave data.channels=0"):
        build_dataset(_cfg(real_data, "mnist-colour", channels=3))


def test_channels_and_ranges(real_data):
    ds = build_dataset(_cfg(real_data, "fashion-inverted", channels=3))
    a = ds.field("a")
    assert a.shape == (N, 3, 28, 28)
    torch.testing.assert_close(a[:, 0], a[:, 2])
    for name in ("mnist-edges", "mnist-inpaint", "fashion-superres4", "fashion-colour"):
        fields = build_dataset(_cfg(real_data, name)).groups["main"]
        for key in ("a", "b"):
            assert fields[key].dtype == torch.float32
            assert -1.0 <= float(fields[key].min()) and float(fields[key].max()) <= 1.0
        assert fields["y"].dtype == torch.int64
