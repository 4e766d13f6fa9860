import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gankit.data import encode_idx, parse_idx, read_idx
from gankit.errors import DataError

MakeIdx = Callable[[np.ndarray], bytes]


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 3, 4), dtype=np.uint8)


@pytest.mark.parametrize("compressed", [False, True])
def test_roundtrip_ubyte(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx, compressed: bool) -> None:
    data = make_idx(images)
    path = tmp_path / ("x.idx.gz" if compressed else "x.idx")
    path.write_bytes(gzip.compress(data) if compressed else data)
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (5, 3, 4) and got.flags.writeable
    np.testing.assert_array_equal(got, images)


def test_gzip_detected_by_magic_without_suffix(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(gzip.compress(make_idx(images)))
    np.testing.assert_array_equal(read_idx(path), images)


def test_int32_big_endian(make_idx: MakeIdx) -> None:
    values = np.array([[1, -2, 70000], [2**31 - 1, -(2**31), 0]], dtype=np.int32)
    got = parse_idx(make_idx(values))
    assert got.dtype == np.dtype("int32") and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_encode_matches_independent_writer(images: np.ndarray, make_idx: MakeIdx) -> None:
    assert encode_idx(images) == make_idx(images)
    labels = np.arange(7, dtype=np.uint8)
    assert encode_idx(labels) == make_idx(labels)


def _error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_wrong_magic(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    path = tmp_path / "bad-magic"
    path.write_bytes(b"\x01\x02" + make_idx(images)[2:])
    assert "magic" in _error(path)


def test_unknown_dtype_code(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    data = bytearray(make_idx(images))
    data[2] = 0x07
    path = tmp_path / "bad-dtype"
    path.write_bytes(bytes(data))
    assert "0x07" in _error(path)


@pytest.mark.parametrize("cut", [1, 30, 60])
def test_truncated(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx, cut: int) -> None:
    data = make_idx(images)  # 16 header bytes + 60 values
    path = tmp_path / "short.idx"
    path.write_bytes(data[: len(data) - cut])
    assert "truncated IDX data" in _error(path)


def test_truncated_header(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    path = tmp_path / "short-header.idx"
    path.write_bytes(make_idx(images)[:10])
    assert "truncated IDX header" in _error(path)


def test_trailing_garbage(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    path = tmp_path / "long.idx.gz"
    path.write_bytes(gzip.compress(make_idx(images) + b"junk"))
    assert "4 unexpected trailing bytes" in _error(path)


def test_not_gzip(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    path = tmp_path / "raw-but-named.gz"
    path.write_bytes(make_idx(images))
    assert "gzip" in _error(path)


def test_truncated_gzip(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    blob = gzip.compress(make_idx(images))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    assert "gzip" in _error(path)


def test_corrupt_gzip(tmp_path: Path, images: np.ndarray, make_idx: MakeIdx) -> None:
    blob = bytearray(gzip.compress(make_idx(images)))
    blob[-8] ^= 0xFF  # CRC32
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    assert "gzip" in _error(path)


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in _error(tmp_path / "nope.gz")
