"""Sample sources: .npz conversions and errors, subsets, folders, runs, dispatch."""

import os
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.errors import ConfigError, DataError
from gankit.metrics.sources import (
    folder_fingerprint,
    load_samples,
    samples_from_npz,
    subset_indices,
)
from gankit.runs import load_run, train
from gankit.runs.samples import load_samples as load_run_samples
from gankit.runs.samples import samples_from_run
from tests.helpers import tiny


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return train(tiny("ring-gan", out, "train.steps=3", "train.run_name=ring")).run_dir


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_float_images_pass_through_and_uint8_layouts_convert(tmp_path):
    rng = np.random.default_rng(0)
    floats = rng.uniform(-1, 1, size=(5, 1, 6, 6)).astype(np.float32)
    s = samples_from_npz(_npz(tmp_path / "f.npz", samples=floats))
    assert s.x.shape == (5, 1, 6, 6) and s.x.dtype == torch.float32 and s.is_image
    np.testing.assert_array_equal(s.x.numpy(), floats)

    u = rng.integers(0, 256, size=(4, 6, 7, 3), dtype=np.uint8)  # NHWC
    expected = u.transpose(0, 3, 1, 2).astype(np.float64) / 127.5 - 1.0
    for name, arr in (("nhwc", u), ("nchw", u.transpose(0, 3, 1, 2).copy())):
        s = samples_from_npz(_npz(tmp_path / f"{name}.npz", samples=arr))
        assert s.x.shape == (4, 3, 6, 7)
        np.testing.assert_allclose(s.x.numpy(), expected, rtol=0, atol=1e-6)

    gray = rng.integers(0, 256, size=(3, 5, 5), dtype=np.uint8)  # (N, H, W)
    s = samples_from_npz(_npz(tmp_path / "g.npz", samples=gray))
    assert s.x.shape == (3, 1, 5, 5)
    np.testing.assert_allclose(s.x[:, 0].numpy(), gray / 127.5 - 1.0, rtol=0, atol=1e-6)
    assert float(s.x.min()) >= -1.0 and float(s.x.max()) <= 1.0


def test_vectors_key_choice_and_labels(tmp_path):
    vec = np.arange(12, dtype=np.float64).reshape(6, 2) * 10.0  # vectors keep any range
    s = samples_from_npz(_npz(tmp_path / "v.npz", samples=vec, other=np.zeros(3), labels=np.arange(6) % 2))
    assert not s.is_image and s.x.shape == (6, 2) and s.x.dtype == torch.float64  # float64 kept
    np.testing.assert_array_equal(s.x.numpy(), vec)
    np.testing.assert_array_equal(s.labels.numpy(), np.arange(6) % 2)
    single = samples_from_npz(_npz(tmp_path / "one.npz", arr_0=vec.astype(np.int32)))
    assert single.x.dtype == torch.float32
    np.testing.assert_array_equal(single.x.numpy(), vec)
    assert single.identity["key"] == "arr_0" and len(single.identity["sha256"]) == 64


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"samples": np.zeros(7)}, "expected images"),  # (N,)
        ({"samples": np.zeros((2, 1, 3, 3, 3))}, "expected images"),  # 5-D
        ({"samples": np.zeros((2, 5, 4, 4), np.float32)}, "C = 1 or 3"),  # 5 channels
        ({"samples": np.full((2, 1, 4, 4), 255.0)}, r"\[-1, 1\]"),  # 0..255 floats
        ({"a": np.zeros((2, 2)), "b": np.zeros((2, 2))}, "single array"),
        ({"samples": np.full((3, 2), np.nan)}, "NaN"),
        ({"samples": np.zeros((0, 2))}, "empty"),
    ],
)
def test_bad_npz_contents_are_data_errors(tmp_path, arrays, match):
    with pytest.raises(DataError, match=match):
        samples_from_npz(_npz(tmp_path / "bad.npz", **arrays))


def test_npz_that_is_not_an_npz_or_holds_pickles(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DataError, match="not a readable .npz"):
        samples_from_npz(tmp_path / "text.npz")
    obj = np.empty(2, dtype=object)
    obj[:] = [{"a": 1}, {"b": 2}]
    np.savez(tmp_path / "obj.npz", samples=obj)  # needs pickle to load: refused
    with pytest.raises(DataError, match="not a readable .npz"):
        samples_from_npz(tmp_path / "obj.npz")
    with pytest.raises(DataError, match="only .npz"):
        (tmp_path / "x.pkl").write_bytes(pickle.dumps([1]))
        load_samples(str(tmp_path / "x.pkl"))


def test_subsets_are_seeded_sorted_and_never_larger_than_the_data(tmp_path):
    idx = subset_indices(100, 10, seed=3, what="x")
    expected = np.sort(np.random.default_rng(3).choice(100, 10, replace=False))
    np.testing.assert_array_equal(idx, expected)
    assert subset_indices(100, 100, seed=3, what="x") is None and subset_indices(100, None, 0, "x") is None
    with pytest.raises(DataError, match="has 100 samples, fewer than the n=101"):
        subset_indices(100, 101, seed=0, what="x")
    with pytest.raises(ConfigError):
        subset_indices(100, 0, seed=0, what="x")
    vec = np.random.default_rng(1).normal(size=(20, 3))
    s = samples_from_npz(_npz(tmp_path / "v.npz", samples=vec), n=5, seed=7)
    rows = np.sort(np.random.default_rng(7).choice(20, 5, replace=False))
    np.testing.assert_array_equal(s.x.numpy(), vec[rows])
    assert s.identity["n"] == 5 and s.identity["subset_seed"] == 7


def test_folder_fingerprint_changes_when_an_image_changes(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((4, 4), 40 * i, np.uint8)).save(folder / f"{i}.png")
    before = folder_fingerprint(folder)
    assert folder_fingerprint(folder) == before
    s = load_samples(str(folder))
    assert s.kind == "folder" and s.x.shape == (3, 1, 4, 4) and s.identity["files_sha256"] == before
    Image.fromarray(np.full((4, 4), 200, np.uint8)).save(folder / "1.png")
    os.utime(folder / "1.png", ns=(1, 1))  # a different mtime, whatever the clock resolution
    assert folder_fingerprint(folder) != before


def test_run_samples_equal_load_run_sample(ring_run):
    s = samples_from_run(ring_run, 300, seed=4, batch_size=128)  # 3 generator batches
    direct = load_run(ring_run).sample(300, seed=4)
    torch.testing.assert_close(s.x, direct, rtol=1e-6, atol=1e-6)
    assert s.kind == "run" and s.dataset == "ring" and s.mode_centres.shape == (8, 2)
    assert load_run_samples(ring_run, n=300, seed=4).identity == s.identity
    with pytest.raises(ConfigError, match="needs n"):
        samples_from_run(ring_run, None)
    with pytest.raises(DataError, match="is a training run"):  # gankit.metrics never samples a run itself
        load_samples(ring_run, n=10)


def test_dispatch_unknown_source():
    with pytest.raises(DataError, match="not an image folder, an .npz file or a registered dataset"):
        load_samples("no-such-dataset-or-path")
