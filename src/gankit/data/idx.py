"""Strict reader for IDX files (the MNIST format), raw or gzip-compressed.

Layout: two zero bytes, a dtype code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian
uint32, then the values in big-endian C order. Any deviation (wrong magic, unknown dtype,
truncated data, trailing bytes, a broken gzip stream) raises ``DataError`` naming the file.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from gankit.errors import DataError

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike[str], head: bytes) -> bool:
    """Whether a file is gzip-compressed: its name ends in ``.gz`` or it starts with 1f 8b."""
    return str(path).endswith(".gz") or head.startswith(GZIP_MAGIC)


def read_decompressed(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``, gunzipped when it is a gzip file (see ``is_gzip``).

    Raises ``DataError`` if the file cannot be read or the gzip stream is broken.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not is_gzip(path, raw[:2]):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is not a valid gzip file ({exc})") from None


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file into a writable numpy array in native byte order.

    ``name`` is used in error messages (e.g. the file path).
    """
    if len(data) < 4:
        raise DataError(f"{name}: not an IDX file (only {len(data)} bytes, no header)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{name}: not an IDX file (magic number starts with {data[:2].hex()}, expected 0000)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise DataError(f"{name}: unknown IDX dtype code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow for huge dimensions
    if len(data) < expected:
        raise DataError(
            f"{name}: truncated IDX data ({len(data)} bytes, shape {shape} needs {expected})"
        )
    if len(data) > expected:
        raise DataError(
            f"{name}: {len(data) - expected} unexpected trailing bytes after IDX data "
            f"of shape {shape}"
        )
    try:
        values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    except ValueError as exc:  # e.g. an empty array with dimensions beyond what numpy can index
        raise DataError(f"{name}: IDX shape {shape} cannot be read ({exc})") from None
    return values.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a numpy array; ``DataError`` if anything is off."""
    return parse_idx(read_decompressed(path), str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of ``array`` (inverse of ``parse_idx``); handy for tests and tools."""
    for code, dtype in IDX_DTYPES.items():
        if np.dtype(array.dtype).newbyteorder("=") == dtype.newbyteorder("="):
            break
    else:
        raise ValueError(f"dtype {array.dtype} has no IDX code")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1..255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()
