import gzip
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.data import build_dataset, mnist
from gankit.errors import DataError

MakeIdx = Callable[[np.ndarray], bytes]
MNIST_TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]  # fmt: skip


def _raw_idx(path: Path, header: int) -> np.ndarray:
    """Decode a real .gz IDX file with plain numpy (independent of gankit)."""
    return np.frombuffer(gzip.decompress(path.read_bytes()), dtype=np.uint8, offset=header)


# ----------------------------------------------------------------------- the real files


@pytest.fixture(scope="module")
def mnist_train(real_data: Path):  # type: ignore[no-untyped-def]
    return build_dataset(DataConfig(name="mnist", path=str(real_data), download=False))


def test_mnist_train(mnist_train, real_data: Path) -> None:  # type: ignore[no-untyped-def]
    ds = mnist_train
    assert ds.x.shape == (60_000, 1, 28, 28) and ds.x.dtype == torch.float32
    assert ds.y is not None and ds.y.dtype == torch.int64 and ds.y.shape == (60_000,)
    np.testing.assert_array_equal(torch.bincount(ds.y, minlength=10).numpy(), MNIST_TRAIN_HIST)
    assert ds.num_classes == 10 and ds.class_names == tuple("0123456789")
    raw = _raw_idx(real_data / "mnist" / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    expected = raw[:500].astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    np.testing.assert_array_equal(ds.x[:500, 0].numpy(), expected)
    assert ds.x.min() == -1.0 and ds.x.max() == 1.0
    labels = _raw_idx(real_data / "mnist" / "train-labels-idx1-ubyte.gz", 8)
    np.testing.assert_array_equal(ds.y.numpy(), labels)


def test_mnist_test_split(real_data: Path) -> None:
    test = build_dataset(DataConfig(name="mnist", split="test", path=str(real_data)))
    assert test.x.shape == (10_000, 1, 28, 28)
    labels = _raw_idx(real_data / "mnist" / "t10k-labels-idx1-ubyte.gz", 8)
    assert test.y is not None
    np.testing.assert_array_equal(test.y.numpy(), labels)


def test_fashion_mnist(real_data: Path) -> None:
    train = build_dataset(DataConfig(name="fashion-mnist", path=str(real_data)))
    assert train.x.shape == (60_000, 1, 28, 28) and train.y is not None
    np.testing.assert_array_equal(torch.bincount(train.y, minlength=10).numpy(), [6000] * 10)
    assert train.class_names[0] == "T-shirt/top" and train.class_names[9] == "Ankle boot"
    assert len(train.class_names) == 10
    test = build_dataset(DataConfig(name="fashion-mnist", split="test", path=str(real_data),
                                    resolution=32, limit=1000))  # fmt: skip
    assert test.x.shape == (1000, 1, 32, 32)
    assert test.x.min() >= -1.0 and test.x.max() <= 1.0


def test_hashes_match_shared_checksum_list(real_data: Path) -> None:
    listed = {}
    for line in (real_data / "SHA256-decompressed.txt").read_text().splitlines():
        digest, name = line.split()
        dataset, file = name.split("/")
        listed.setdefault(dataset, {})[file.removesuffix(".gz")] = digest
    assert listed == mnist.SHA256
    # and the shared test split really has those hashes (cheap: the small files only)
    for name in ["t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte"]:
        data = gzip.decompress((real_data / "mnist" / f"{name}.gz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == mnist.SHA256["mnist"][name]


def test_truncated_real_copy(tmp_path: Path, real_data: Path) -> None:
    d = tmp_path / "broken" / "mnist"
    d.mkdir(parents=True)
    shutil.copy(real_data / "mnist" / "t10k-labels-idx1-ubyte.gz", d)
    blob = (real_data / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    (d / "t10k-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        build_dataset(DataConfig(name="mnist", split="test", path=str(d.parent), download=False))
    # an uncompressed copy that lost its last byte
    data = gzip.decompress(blob)
    (d / "t10k-images-idx3-ubyte.gz").unlink()
    (d / "t10k-images-idx3-ubyte").write_bytes(data[:-1])
    with pytest.raises(DataError, match="truncated IDX data"):
        build_dataset(DataConfig(name="mnist", split="test", path=str(d.parent), download=False))


# ------------------------------------------------------------------ synthetic small files


def _synthetic(seed: int, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    return images, (np.arange(n) % 10).astype(np.uint8)


def _write_split(
    folder: Path, make_idx: MakeIdx, seed: int, split: str = "train", gz: bool = True, n: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = _synthetic(seed, n)
    prefix = "train" if split == "train" else "t10k"
    for name, arr in [(f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)]:
        data = make_idx(arr)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
    return images, labels


def _check(ds, images: np.ndarray, labels: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    expected = images[:, None].astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    np.testing.assert_array_equal(ds.x.numpy(), expected)
    np.testing.assert_array_equal(ds.y.numpy(), labels.astype(np.int64))


def test_search_order(tmp_path: Path, make_idx: MakeIdx, monkeypatch: pytest.MonkeyPatch,
                      isolated_data_env: Path) -> None:  # fmt: skip
    cfg_dir, env_dir = tmp_path / "cfg", tmp_path / "env"
    cache_set = _write_split(isolated_data_env / "mnist", make_idx, seed=3)
    _check(build_dataset(DataConfig(name="mnist", download=False)), *cache_set)
    env_set = _write_split(env_dir, make_idx, seed=2, gz=False)  # D/<file>, uncompressed
    monkeypatch.setenv("GANKIT_DATA", str(env_dir))
    _check(build_dataset(DataConfig(name="mnist", download=False)), *env_set)
    cfg_set = _write_split(cfg_dir / "mnist", make_idx, seed=1)  # D/<dataset>/<file>.gz
    _check(build_dataset(DataConfig(name="mnist", path=str(cfg_dir), download=False)), *cfg_set)
    # a directory without the files falls through to the next one
    empty = tmp_path / "empty"
    empty.mkdir()
    _check(build_dataset(DataConfig(name="mnist", path=str(empty), download=False)), *env_set)
    assert mnist.search_dirs(str(cfg_dir)) == [cfg_dir, env_dir, isolated_data_env]


def test_all_split_concatenates_and_limit(tmp_path: Path, make_idx: MakeIdx) -> None:
    train = _write_split(tmp_path, make_idx, seed=8, split="train", n=6)
    test = _write_split(tmp_path, make_idx, seed=9, split="test", n=4)
    both = build_dataset(DataConfig(name="mnist", split="all", path=str(tmp_path), download=False))
    _check(both, np.concatenate([train[0], test[0]]), np.concatenate([train[1], test[1]]))
    part = build_dataset(
        DataConfig(name="mnist", split="all", path=str(tmp_path), download=False, limit=8)
    )
    _check(part, np.concatenate([train[0], test[0][:2]]), np.concatenate([train[1], test[1][:2]]))


def test_cache_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist.cache_dir() == tmp_path / ".cache" / "gankit" / "data"


def test_missing_without_download(tmp_path: Path, isolated_data_env: Path) -> None:
    with pytest.raises(DataError) as info:
        build_dataset(DataConfig(name="fashion-mnist", path=str(tmp_path / "nowhere"), download=False))
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and str(tmp_path / "nowhere") in message
    assert str(isolated_data_env) in message and "GANKIT_DATA" in message and "download" in message
    assert not isolated_data_env.exists()


def test_count_mismatch(tmp_path: Path, make_idx: MakeIdx) -> None:
    images, labels = _synthetic(0, 6)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(make_idx(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(make_idx(labels[:5]))
    with pytest.raises(DataError, match="expected 6 uint8 labels"):
        build_dataset(DataConfig(name="mnist", path=str(tmp_path), download=False))


def _serve_hashes(src: Path, monkeypatch: pytest.MonkeyPatch, dataset: str, wrong: bool = False) -> None:
    hashes = {}
    for f in src.iterdir():
        raw = gzip.decompress(f.read_bytes())
        hashes[f.name.removesuffix(".gz")] = "f" * 64 if wrong else hashlib.sha256(raw).hexdigest()
    monkeypatch.setitem(mnist.SHA256, dataset, hashes)


def test_download_over_http(tmp_path: Path, make_idx: MakeIdx, monkeypatch: pytest.MonkeyPatch,
                            http_root: tuple[str, Path]) -> None:  # fmt: skip
    base, root = http_root
    images, labels = _write_split(root / "mirror2", make_idx, seed=5, split="test")
    _serve_hashes(root / "mirror2", monkeypatch, "mnist")
    monkeypatch.setitem(mnist.MIRRORS, "mnist", (f"{base}/mirror1/", f"{base}/mirror2"))  # 1: 404
    dest = tmp_path / "data"
    ds = build_dataset(DataConfig(name="mnist", split="test", path=str(dest)))
    _check(ds, images, labels)
    assert sorted(p.name for p in (dest / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]  # fmt: skip
    # second load reads the local copy (the mirror is gone)
    monkeypatch.setitem(mnist.MIRRORS, "mnist", ())
    _check(build_dataset(DataConfig(name="mnist", split="test", path=str(dest))), images, labels)


def test_download_file_url_into_cache(tmp_path: Path, make_idx: MakeIdx,
                                      monkeypatch: pytest.MonkeyPatch, isolated_data_env: Path) -> None:  # fmt: skip
    src = tmp_path / "mirror"
    images, labels = _write_split(src, make_idx, seed=6, split="train")
    _serve_hashes(src, monkeypatch, "fashion-mnist")
    monkeypatch.setitem(mnist.MIRRORS, "fashion-mnist", (src.as_uri() + "/",))
    _check(build_dataset(DataConfig(name="fashion-mnist")), images, labels)
    assert sorted(p.name for p in (isolated_data_env / "fashion-mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # fmt: skip


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_download_wrong_checksum_leaves_nothing(
    scheme: str, tmp_path: Path, make_idx: MakeIdx, monkeypatch: pytest.MonkeyPatch,
    http_root: tuple[str, Path], isolated_data_env: Path,
) -> None:  # fmt: skip
    base, root = http_root
    _write_split(root, make_idx, seed=7)
    _serve_hashes(root, monkeypatch, "mnist", wrong=True)
    mirror = base if scheme == "http" else root.as_uri()
    monkeypatch.setitem(mnist.MIRRORS, "mnist", (mirror,))
    dest = tmp_path / "data"
    with pytest.raises(DataError, match="sha256 mismatch"):
        build_dataset(DataConfig(name="mnist", path=str(dest)))
    leftovers = [p for p in dest.rglob("*") if p.is_file()] if dest.exists() else []
    assert leftovers == []
    assert not isolated_data_env.exists()


def test_official_mirrors() -> None:
    assert mnist.MIRRORS["mnist"] == (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    )
    assert mnist.MIRRORS["fashion-mnist"] == (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    )
    assert set(mnist.SHA256["mnist"]) == set(FILES) == set(mnist.SHA256["fashion-mnist"])
