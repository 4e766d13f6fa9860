import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.data.sequences import load_npy_sequences, sample_sines
from gankit.errors import DataError


def test_sines_follow_the_formula_with_the_stated_noise() -> None:
    x, freq, phase = sample_sines(400, 24, 5, torch.Generator().manual_seed(0), noise=0.05)
    assert x.shape == (400, 24, 5) and x.dtype == torch.float32
    assert freq.shape == phase.shape == (400, 5)
    f, p = freq.double().numpy(), phase.double().numpy()
    t = np.arange(24) / 24
    clean = np.sin(2 * np.pi * f[:, None, :] * t[None, :, None] + p[:, None, :])  # (N, T, D)
    residual = x.double().numpy() - clean
    assert abs(residual.mean()) < 0.002
    assert abs(residual.std() - 0.05) < 0.002
    assert 1.0 <= f.min() and f.max() <= 3.0 and f.max() - f.min() > 1.9
    assert -math.pi <= p.min() and p.max() <= math.pi and p.max() - p.min() > 6.0


def test_sines_are_deterministic_in_the_seed() -> None:
    a = sample_sines(8, 10, 3, torch.Generator().manual_seed(1))[0]
    assert_close(a, sample_sines(8, 10, 3, torch.Generator().manual_seed(1))[0], rtol=0, atol=0)
    assert not torch.allclose(a, sample_sines(8, 10, 3, torch.Generator().manual_seed(2))[0])


@pytest.mark.parametrize("dtype", [np.float64, np.int16])
def test_npy_round_trip(tmp_path: Path, dtype: type) -> None:
    array = (np.arange(2 * 3 * 4).reshape(2, 3, 4) * 1.5 - 4).astype(dtype)
    np.save(tmp_path / "seq.npy", array)
    x = load_npy_sequences(tmp_path / "seq.npy")
    assert x.dtype == torch.float32
    assert_close(x, torch.from_numpy(array.astype(np.float32)), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("array", "pattern"),
    [
        (np.zeros((4, 5)), r"expected shape \(N, T, D\), got \(4, 5\) \(2-D\)"),
        (np.zeros((0, 5, 2)), "empty array"),
        (np.array([[[1.0, np.nan]]]), "NaN or infinite"),
        (np.array([[[1e39]]]), "NaN or infinite"),  # finite in float64, infinite as float32
        (np.array([[["a"]]]), "expected real numbers"),
    ],
)
def test_npy_errors(tmp_path: Path, array: np.ndarray, pattern: str) -> None:
    np.save(tmp_path / "seq.npy", array)
    with pytest.raises(DataError, match=pattern):
        load_npy_sequences(tmp_path / "seq.npy")


def test_npy_refuses_pickles_archives_and_missing_files(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([[[{"a": 1}]]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="without pickles"):
        load_npy_sequences(tmp_path / "obj.npy")
    np.savez(tmp_path / "arch.npz", x=np.zeros((1, 2, 3)))
    with pytest.raises(DataError, match="npz archive"):
        load_npy_sequences(tmp_path / "arch.npz")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="junk.npy"):
        load_npy_sequences(tmp_path / "junk.npy")
    with pytest.raises(DataError, match="does not exist"):
        load_npy_sequences(tmp_path / "absent.npy")


def test_registered_sequence_datasets(tmp_path: Path) -> None:
    from gankit.config import DataConfig
    from gankit.data import build_dataset
    from gankit.errors import ConfigError

    ds = build_dataset(DataConfig(name="sines", n_samples=7, seq_len=10, seq_features=3, seed=4, limit=5))
    assert len(ds) == 5 and ds.sample_shape == (10, 3) and not ds.is_image
    assert_close(ds.x, sample_sines(7, 10, 3, torch.Generator().manual_seed(4))[0][:5], rtol=0, atol=0)
    assert ds.meta == {"cycles": [1.0, 3.0], "noise": 0.05}
    assert build_dataset(DataConfig(name="sines", n_samples=2)).sample_shape == (24, 5)

    array = np.arange(60, dtype=np.float32).reshape(5, 4, 3)
    np.save(tmp_path / "s.npy", array)
    ds = build_dataset(DataConfig(name="npy-sequences", path=str(tmp_path / "s.npy"), seq_len=4))
    assert_close(ds.x, torch.from_numpy(array), rtol=0, atol=0)
    with pytest.raises(DataError, match=r"s\.npy: sequences have T=4 steps but data\.seq_len=6"):
        build_dataset(DataConfig(name="npy-sequences", path=str(tmp_path / "s.npy"), seq_len=6))
    with pytest.raises(ConfigError, match="data.path must name the .npy file"):
        build_dataset(DataConfig(name="npy-sequences"))
