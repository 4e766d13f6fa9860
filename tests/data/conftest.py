"""Fixtures for the data tests: an isolated cache, IDX bytes, a local
HTTP server."""

from __future__ import annotations

import functools
import http.server
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def isolated_data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user cache, never see a developer's GANKIT_DATA."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("GANKIT_DATA", raising=False)
    return cache / "gankit" / "data"


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding written independently of gankit: ubyte (0x08) or big-endian int32 (0x0C)."""
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[array.dtype]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(">i4").tobytes() if code == 0x0C else array.tobytes()
    return header + body


@pytest.fixture
def make_idx() -> Callable[[np.ndarray], bytes]:
    """The function ``idx_bytes`` (IDX bytes of a uint8/int32 array)."""
    return idx_bytes


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base_url, directory)``: a thread serving ``directory`` on 127.0.0.1 (free port)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
