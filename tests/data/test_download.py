import gzip
import hashlib
from pathlib import Path

import pytest

from gankit.data import download, sha256_decompressed
from gankit.errors import DataError

PAYLOAD = bytes(range(256)) * 40
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_SHA = "0" * 64


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "blob.gz").write_bytes(gzip.compress(PAYLOAD))
    (src / "blob.bin").write_bytes(PAYLOAD)
    return src


def _assert_empty(directory: Path) -> None:
    assert not directory.exists() or sorted(p.name for p in directory.iterdir()) == []


def test_sha256_decompressed(source: Path) -> None:
    assert sha256_decompressed(source / "blob.gz") == PAYLOAD_SHA
    assert sha256_decompressed(source / "blob.bin") == PAYLOAD_SHA
    raw_gz_sha = hashlib.sha256((source / "blob.gz").read_bytes()).hexdigest()
    assert sha256_decompressed(source / "blob.gz", gunzip=False) == raw_gz_sha


def test_file_url_right_checksum(tmp_path: Path, source: Path) -> None:
    dest = tmp_path / "out" / "deep" / "blob.gz"
    got = download((source / "blob.gz").as_uri(), dest, PAYLOAD_SHA)
    assert got == dest
    assert gzip.decompress(dest.read_bytes()) == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.gz"]


def test_http_right_checksum(tmp_path: Path, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    (root / "blob.gz").write_bytes(gzip.compress(PAYLOAD))
    dest = tmp_path / "out" / "blob.gz"
    download(f"{base}/blob.gz", dest, PAYLOAD_SHA.upper())
    assert gzip.decompress(dest.read_bytes()) == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.gz"]


def test_uncompressed_destination_hashes_raw_bytes(tmp_path: Path, source: Path) -> None:
    dest = tmp_path / "out" / "blob.bin"
    download((source / "blob.bin").as_uri(), dest, PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD


def test_no_checksum(tmp_path: Path, source: Path) -> None:
    dest = tmp_path / "out" / "blob.gz"
    download((source / "blob.gz").as_uri(), dest, None)
    assert dest.read_bytes() == (source / "blob.gz").read_bytes()


def test_file_url_wrong_checksum_leaves_nothing(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(DataError, match="sha256 mismatch") as info:
        download((source / "blob.gz").as_uri(), out / "blob.gz", WRONG_SHA)
    assert PAYLOAD_SHA in str(info.value)
    _assert_empty(out)


def test_http_wrong_checksum_leaves_nothing(tmp_path: Path, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    (root / "blob.gz").write_bytes(gzip.compress(PAYLOAD))
    out = tmp_path / "out"
    with pytest.raises(DataError, match="sha256 mismatch"):
        download(f"{base}/blob.gz", out / "blob.gz", WRONG_SHA)
    _assert_empty(out)


def test_bad_gzip_leaves_nothing(tmp_path: Path, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    (root / "blob.gz").write_bytes(PAYLOAD)  # not gzip although named .gz
    out = tmp_path / "out"
    with pytest.raises(DataError, match="blob.gz"):
        download(f"{base}/blob.gz", out / "blob.gz", PAYLOAD_SHA)
    _assert_empty(out)


def test_mirrors_tried_in_order(tmp_path: Path, http_root: tuple[str, Path], source: Path) -> None:
    base, root = http_root
    (root / "blob.gz").write_bytes(gzip.compress(b"a different file"))
    urls = [f"{base}/missing.gz", f"{base}/blob.gz", (source / "blob.gz").as_uri()]
    dest = tmp_path / "out" / "blob.gz"
    download(urls, dest, PAYLOAD_SHA)  # 404, then wrong content, then the right one
    assert gzip.decompress(dest.read_bytes()) == PAYLOAD


def test_all_mirrors_fail(tmp_path: Path, http_root: tuple[str, Path]) -> None:
    base, _ = http_root
    out = tmp_path / "out"
    urls = [f"{base}/missing.gz", (tmp_path / "nowhere.gz").as_uri()]
    with pytest.raises(DataError) as info:
        download(urls, out / "blob.gz", PAYLOAD_SHA)
    message = str(info.value)
    assert "HTTP 404" in message and urls[0] in message and urls[1] in message
    assert "\n" not in message
    _assert_empty(out)


def test_failure_keeps_existing_file(tmp_path: Path, source: Path) -> None:
    dest = tmp_path / "out" / "blob.gz"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(DataError):
        download((source / "blob.gz").as_uri(), dest, WRONG_SHA)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.gz"]
    assert dest.read_bytes() == b"old"


def test_no_urls(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no URL"):
        download([], tmp_path / "x.gz", None)
