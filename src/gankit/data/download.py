"""Verified, atomic downloads (http(s):// and file:// URLs) with mirror fallback.

The file is streamed into a temporary file next to its destination and moved into place
with ``os.replace`` only once its sha256 matches, so the destination either holds a
verified file or nothing. For ``.gz`` destinations the sha256 is computed over the
gunzipped bytes (checksums of re-compressed copies would otherwise differ).
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

from gankit.errors import DataError
from gankit.hashing import sha256_file

CHUNK = 1 << 20
USER_AGENT = "gankit-downloader/0.1"


def sha256_decompressed(path: str | os.PathLike[str], gunzip: bool | None = None) -> str:
    """Hex sha256 of a file's content, gunzipped first when ``gunzip`` (default: the name
    ends in ``.gz``). Streams in chunks; gzip errors propagate as ``OSError``/``EOFError``."""
    return sha256_file(path, gunzip=str(path).endswith(".gz") if gunzip is None else gunzip)


def _fetch(url: str, fh, timeout: float) -> None:  # type: ignore[no-untyped-def]
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        shutil.copyfileobj(response, fh, CHUNK)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def download(
    url: str | Sequence[str],
    dest_path: str | os.PathLike[str],
    sha256_of_decompressed: str | None,
    *,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` (or the first working URL of a sequence of mirrors) to ``dest_path``.

    The content is verified against ``sha256_of_decompressed`` (hex; over the gunzipped
    bytes when ``dest_path`` ends in ``.gz``; ``None`` skips the check) before it is moved
    into place. Parent directories are created. If every URL fails (network error, HTTP
    error, bad gzip, checksum mismatch) raises ``DataError`` listing each failure, and
    neither ``dest_path`` nor a temporary file is left behind. Returns ``dest_path``.
    """
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise DataError(f"no URL to download {dest_path} from")
    dest = Path(dest_path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create directory {dest.parent}: {exc.strerror or exc}") from None
    expected = sha256_of_decompressed.lower() if sha256_of_decompressed else None
    failures: list[str] = []
    for candidate in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                _fetch(candidate, fh, timeout)
            if expected is not None:
                got = sha256_decompressed(tmp_name, gunzip=dest.name.endswith(".gz"))
                if got != expected:
                    raise ValueError(f"sha256 mismatch (got {got}, expected {expected})")
            os.replace(tmp_name, dest)
            return dest
        except (OSError, EOFError, ValueError, zlib.error, http.client.HTTPException) as exc:
            failures.append(f"{candidate}: {_describe(exc)}")
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
    raise DataError(f"could not download {dest.name} to {dest.parent}: " + "; ".join(failures))
