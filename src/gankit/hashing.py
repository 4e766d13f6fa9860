"""The one streaming SHA-256 of a file (checksums of downloads, weights, caches)."""

from __future__ import annotations

import gzip
import hashlib
import os

CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str], *, gunzip: bool = False) -> str:
    """Hex sha256 of a file's bytes, or of its gunzipped content when ``gunzip``.
    Streams in 1 MiB chunks; gzip errors propagate as ``OSError``/``EOFError``."""
    digest = hashlib.sha256()
    with (gzip.open if gunzip else open)(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
