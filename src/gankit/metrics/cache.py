"""Cache of real-data features, keyed by a hash of everything that made them.

Key (JSON, hashed with sha256): the cache format, the source's identity (dataset name,
split, resolution, data seed; or an image folder's path + sha256 over its files' relative
paths, sizes and mtimes; or an ``.npz`` file's content sha256), the number of samples and
the subset seed, and the extractor's ``describe()`` (name, weights sha256, resize mode,
classifier name). Change any of them and the key changes.

File: ``$XDG_CACHE_HOME/gankit/stats/<slug>-<hash>.safetensors`` (default
``~/.cache/gankit/stats``), holding ``features`` (N, D) and, when the extractor has them,
``probs`` (N, K); the key and row count are JSON in the safetensors header (``gankit``
entry). Features are stored as float32 when that is lossless (network outputs are float32
to begin with), float64 otherwise. Written atomically (temp file + rename).

Reading never unpickles (safetensors only) and never trusts the file: a safetensors error,
a header whose key differs from the expected one, wrong shapes, or non-finite values make
the entry *corrupt*: a ``CacheWarning`` is issued, the features are recomputed and the file
is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from gankit.atomic import atomic_write

CACHE_FORMAT = "gankit-stats/1"
META_KEY = "gankit"
FEATURES = "features"
PROBS = "probs"
PROB_ATOL = 1e-6  # stored probability rows must sum to 1 within this


class CacheWarning(UserWarning):
    """A cache entry was unusable (corrupt, mismatched) and has been recomputed."""


class CorruptCacheEntry(Exception):
    """Internal: why a cache file cannot be trusted."""


def stats_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gankit/stats``, else ``~/.cache/gankit/stats``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gankit" / "stats"


def make_key(source: dict[str, Any], extractor: dict[str, Any]) -> dict[str, Any]:
    """The cache key: format, source identity (incl. n and subset seed), extractor."""
    return json.loads(json.dumps({"format": CACHE_FORMAT, "source": source, "extractor": extractor}, sort_keys=True))


def key_digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _slug(key: dict[str, Any]) -> str:
    src = key.get("source", {})
    parts = [
        str(src.get("name") or src.get("kind") or "data"),
        str(src.get("split") or ""),
        str(key.get("extractor", {}).get("classifier") or key.get("extractor", {}).get("name") or ""),
        f"n{src.get('n', '')}",
    ]
    text = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


def _compact(arr: np.ndarray) -> np.ndarray:
    """float32 when that round-trips exactly, else float64."""
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    as32 = arr.astype(np.float32)
    return as32 if np.array_equal(as32.astype(np.float64), arr) else arr


class FeatureCache:
    """Real-data feature cache (see the module docstring). ``enabled=False`` is a no-op cache."""

    def __init__(self, directory: Optional[str | os.PathLike[str]] = None, *, enabled: bool = True) -> None:
        self.directory = Path(directory) if directory is not None else stats_cache_dir()
        self.enabled = enabled

    def path_for(self, key: dict[str, Any]) -> Path:
        return self.directory / f"{_slug(key)}-{key_digest(key)[:32]}.safetensors"

    # -------------------------------------------------------------- read / write

    def _read(self, path: Path, key: dict[str, Any]) -> dict[str, np.ndarray]:
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="numpy") as fh:
                header = fh.metadata() or {}
                arrays = {k: fh.get_tensor(k) for k in fh.keys()}
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CorruptCacheEntry(f"not a valid safetensors file ({exc})") from None
        try:
            meta = json.loads(header[META_KEY])
        except (KeyError, TypeError, json.JSONDecodeError):
            raise CorruptCacheEntry("its header has no gankit metadata") from None
        if not isinstance(meta, dict) or meta.get("key") != key:
            raise CorruptCacheEntry("its metadata does not match the expected key")
        rows = meta.get("rows")
        feats = arrays.get(FEATURES)
        if feats is None or feats.ndim != 2 or feats.shape[0] != rows or feats.shape[1] < 1:
            raise CorruptCacheEntry(
                f"features have shape {None if feats is None else feats.shape}, expected ({rows}, D)"
            )
        out = {FEATURES: feats.astype(np.float64)}
        if PROBS in arrays:
            probs = arrays[PROBS].astype(np.float64)
            if probs.ndim != 2 or probs.shape[0] != rows or not np.allclose(probs.sum(axis=1), 1.0, atol=PROB_ATOL):
                raise CorruptCacheEntry("stored probabilities are malformed")
            out[PROBS] = probs
        if not all(np.all(np.isfinite(a)) for a in out.values()):
            raise CorruptCacheEntry("it contains NaN or infinite values")
        return out

    def load(self, key: dict[str, Any]) -> Optional[dict[str, np.ndarray]]:
        """The cached arrays, or None when absent or corrupt (with a ``CacheWarning``)."""
        if not self.enabled:
            return None
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            return self._read(path, key)
        except CorruptCacheEntry as exc:
            warnings.warn(f"feature cache {path} is unusable ({exc}); recomputing it", CacheWarning, stacklevel=2)
            return None

    def save(self, key: dict[str, Any], arrays: dict[str, np.ndarray]) -> Optional[Path]:
        """Write ``arrays`` (``features`` and optional ``probs``) atomically under ``key``."""
        if not self.enabled:
            return None
        from safetensors.numpy import save

        feats = arrays[FEATURES]
        tensors = {FEATURES: _compact(feats)}
        if arrays.get(PROBS) is not None:
            tensors[PROBS] = np.ascontiguousarray(arrays[PROBS], dtype=np.float64)
        meta = {"key": key, "rows": int(feats.shape[0])}
        blob = save(tensors, metadata={META_KEY: json.dumps(meta, sort_keys=True)})
        path = self.path_for(key)
        with atomic_write(path) as fh:
            fh.write(blob)
        return path

    def get_or_compute(
        self,
        key: dict[str, Any],
        compute: Callable[[], dict[str, np.ndarray]],
        required: tuple[str, ...] = (FEATURES,),
    ) -> tuple[dict[str, np.ndarray], bool]:
        """``(arrays, hit)``: cached arrays holding every ``required`` entry, else ``compute()``
        (then stored). An entry lacking a required array (e.g. ``probs``) is recomputed."""
        cached = self.load(key)
        if cached is not None and all(name in cached for name in required):
            return cached, True
        arrays = compute()
        self.save(key, arrays)
        return arrays, False
