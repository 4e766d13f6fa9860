"""Sample sets for evaluation: a registered dataset, an image folder, an ``.npz`` file, an array
or a generator.

Every source becomes a :class:`SampleSet`: float32 images ``(N, C, H, W)`` in [-1, 1] or
vectors ``(N, D)``, optional int64 labels ``(N,)`` and latent codes ``(N,)``, and a JSON-able
``identity`` saying what made the samples (the real-data feature cache hashes it).

* **generator** (a :class:`SampleGenerator`, e.g. a trained run wrapped by
  ``gankit.runs.samples.RunSource``): ``n`` samples drawn with ``seed``. This module knows
  nothing of runs; ``gankit.runs.samples`` turns a run directory into a generator.
* **registered dataset** (``gankit datasets``): built with ``split`` (default ``"test"``,
  the usual FID reference; datasets without splits ignore it), ``data_dir`` and
  ``resolution``; true labels when the dataset has them.
* **image folder** (any other directory but a run's): the ``image-folder`` dataset (class
  subfolders give labels); its identity hashes every image's relative path, size and mtime, so a
  changed folder is a different source.
* **.npz file**: the array ``samples`` (or the only array in the file), plus ``labels``
  and ``codes`` (integers ``(N,)``) when present. Float images ``(N, C, H, W)`` (C = 1
  or 3) must lie in [-1, 1] (1e-3 of slack is clamped); float ``(N, H, W)`` is grayscale; uint8 ``(N, H, W)``,
  ``(N, H, W, C)`` or ``(N, C, H, W)`` (NCHW when dim 1 is 1 or 3) map 0..255 to [-1, 1];
  any other 2-D array is vectors ``(N, D)`` (float64 stays float64, everything else becomes
  float32). The identity hashes the file's bytes.
  Loaded with ``allow_pickle=False``: nothing in the file can run code.

**How many samples.** ``n=None`` takes every sample of a dataset, folder or file; an ``n``
smaller than what is there takes a random subset (``numpy.random.default_rng(seed)``,
without replacement, kept in the original order); an ``n`` larger than what is there is a
``DataError`` (nothing is repeated or padded). A generator needs an explicit ``n``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol, Union, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from gankit.config import DataConfig
from gankit.data import DATASETS, build_dataset
from gankit.data.image_folder import list_images
from gankit.data.transforms import domain_view
from gankit.errors import ConfigError, DataError
from gankit.hashing import sha256_file

DEFAULT_SPLIT = "test"
RANGE_SLACK = 1e-3  # float images this far outside [-1, 1] are clamped, further is an error
UINT8_MAX = 255.0
IMAGE_CHANNELS = (1, 3)
NPZ_SAMPLES_KEY = "samples"
NPZ_LABELS_KEY = "labels"
NPZ_CODES_KEY = "codes"
# what marks a training run's directory: refused as an image folder (its sample grids are no data)
RUN_DIR_MARKERS = ("config.json", "checkpoint.safetensors")


@dataclass(frozen=True)
class SampleSet:
    """Samples to evaluate, with what made them.

    ``labels`` are true labels for data, intended labels (``labels_are_intended``) for a
    conditional generator. ``codes`` are unsupervised assignments, e.g. the categorical
    latent code of each InfoGAN sample (``matched_acc``). ``dataset`` is the registered
    dataset behind the samples, if any (it picks the domain classifier);
    ``mode_centres``/``mode_std`` are the true mixture modes of 2-D toys (for ``mode_coverage``).
    """

    x: Tensor  # (N, C, H, W) float32 in [-1, 1], or (N, D) float32 (float64 kept from .npz/arrays)
    name: str  # human-readable: "run /a/b", "mnist (test)", "folder /c", "npz /d.npz"
    kind: str  # "run" | "dataset" | "folder" | "npz" | "array"
    identity: dict[str, Any]  # JSON-able description of what made the samples
    labels: Optional[Tensor] = None  # (N,) int64
    labels_are_intended: bool = False
    codes: Optional[Tensor] = None  # (N,) int64
    dataset: Optional[str] = None
    num_classes: int = 0
    mode_centres: Optional[Tensor] = None  # (K, D)
    mode_std: Optional[float] = None
    extra: dict[str, Any] = field(default_factory=dict)
    view_box: int = 0  # the domain fills the centred view_box square (mnist2digits' framed digits)
    view_native: int = 0  # ... upscaled bilinearly from view_native x view_native images (the digits' 8)

    def classifier_view(self, x: Optional[Tensor] = None) -> Tensor:
        """``x`` (default: all samples) as the domain's classifier reads it: the centred
        ``view_box`` square of a domain framed into part of the image, brought back to its
        ``view_native`` side by the least-squares inverse of the upscaling (exact on the domain's
        own images, where a resize back would blur); unchanged for other samples."""
        x = self.x if x is None else x
        return domain_view(x, self.view_box, self.view_native) if self.is_image else x

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def head(self, n: int) -> "SampleSet":
        """The first ``n`` samples (``n`` <= len), same identity plus ``head``."""
        if n >= len(self):
            return self
        labels = self.labels[:n] if self.labels is not None else None
        codes = self.codes[:n] if self.codes is not None else None
        return dataclasses.replace(
            self, x=self.x[:n], labels=labels, codes=codes, identity={**self.identity, "head": n}
        )


@runtime_checkable
class SampleGenerator(Protocol):
    """A source that draws samples on demand (a trained run: ``gankit.runs.samples.RunSource``).

    ``evaluate`` draws once, the largest number any requested metric needs; ``reference``
    is the real data used when none is given (anything ``load_samples`` takes, or a
    ``DataConfig`` built as configured); ``resolution`` is the size a dataset named as real
    data is built at (0: its native size).
    """

    name: str
    resolution: int

    def draw(self, n: int, seed: int) -> SampleSet: ...  # n samples, latents from seed

    def reference(self, split: Optional[str], data_dir: Optional[str]) -> Any: ...


SourceLike = Union[str, "os.PathLike[str]", SampleSet, SampleGenerator, Tensor, np.ndarray, Any]


# ----------------------------------------------------------------------------- helpers


def _check_n(n: Optional[int], what: str) -> Optional[int]:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n for {what} must be a positive integer, got {n!r}")
    return int(n)


def subset_indices(available: int, n: Optional[int], seed: int, what: str) -> Optional[np.ndarray]:
    """Rows to keep: ``None`` for all of them, else ``n`` sorted random rows (``DataError`` if
    ``n`` > ``available``)."""
    n = _check_n(n, what)
    if available < 1:
        raise DataError(f"{what} holds no samples")
    if n is None or n == available:
        return None
    if n > available:
        raise DataError(
            f"{what} has {available} samples, fewer than the n={n} requested; "
            f"ask for n <= {available} (samples are never repeated)"
        )
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(available, n, replace=False))


def _take(
    x: Tensor, labels: Optional[Tensor], n: Optional[int], seed: int, what: str, codes: Optional[Tensor] = None
) -> tuple[Tensor, Optional[Tensor], Optional[Tensor], dict[str, Any]]:
    """``x``, ``labels`` and ``codes`` cut to the rows of ``subset_indices``, and what was taken."""
    idx = subset_indices(x.shape[0], n, seed, what)
    if idx is None:
        return x, labels, codes, {"n": int(x.shape[0]), "subset_seed": None}
    rows = torch.from_numpy(idx)
    labels, codes = (t[rows] if t is not None else None for t in (labels, codes))
    return x[rows], labels, codes, {"n": int(idx.size), "subset_seed": seed}


def folder_fingerprint(root: str | os.PathLike[str]) -> str:
    """sha256 over (relative path, size, mtime_ns) of every image of an image folder."""
    root = Path(root).expanduser()
    files, _, _ = list_images(root)
    h = hashlib.sha256()
    for path in files:
        st = path.stat()
        h.update(f"{path.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _refuse_run_dir(path: Path) -> None:
    if all((path / name).is_file() for name in RUN_DIR_MARKERS):
        raise DataError(
            f"{path} is a training run, not an image folder: evaluate it with gankit.runs.samples "
            "(`gankit eval RUN_DIR`), which draws samples from its generator"
        )


# ----------------------------------------------------------------------------- datasets


def samples_from_dataset(
    name: str,
    *,
    split: Optional[str] = None,
    data_dir: Optional[str] = None,
    n: Optional[int] = None,
    seed: int = 0,
    resolution: int = 0,
    config: Any = None,
) -> SampleSet:
    """A registered dataset (``split`` default ``"test"``), or the given ``DataConfig``."""
    if config is None:
        if name not in DATASETS:
            raise ConfigError(f"unknown dataset {name!r} (known: {', '.join(DATASETS.names())})")
        config = DataConfig(name=name, split=split or DEFAULT_SPLIT, path=data_dir or "", resolution=resolution)
    if config.name == "image-folder":
        return samples_from_folder(config.path, n=n, seed=seed, resolution=config.resolution)
    ds = build_dataset(config)
    what = f"{config.name} ({config.split})"
    data = ds.x if ds.x is not None else ds.field("tokens")  # token datasets: ids (N, T)
    x, y, _, taken = _take(data, ds.y, n, seed, f"dataset {what}")
    identity = {
        "kind": "dataset",
        "name": config.name,
        "split": config.split,
        "resolution": config.resolution,
        "n_samples": config.n_samples,
        "data_seed": config.seed,
        "limit": config.limit,
        **taken,
    }
    return SampleSet(
        x=x.float(),
        name=what,
        kind="dataset",
        identity=identity,
        labels=y,
        dataset=config.name,
        num_classes=ds.num_classes,
        mode_centres=ds.mode_centres,
        mode_std=ds.mode_std,
    )


def samples_from_folder(
    path: str | os.PathLike[str], *, n: Optional[int] = None, seed: int = 0, resolution: int = 0
) -> SampleSet:
    """An image folder (see ``gankit.data.image_folder``); labels from class subfolders."""
    root = os.path.abspath(os.path.expanduser(os.fspath(path)))
    _refuse_run_dir(Path(root))
    fingerprint = folder_fingerprint(root)
    ds = build_dataset(DataConfig(name="image-folder", path=root, resolution=resolution))
    x, y, _, taken = _take(ds.x, ds.y, n, seed, f"image folder {root}")
    identity = {"kind": "folder", "path": root, "files_sha256": fingerprint, "resolution": resolution, **taken}
    return SampleSet(
        x=x.float(), name=f"folder {root}", kind="folder", identity=identity, labels=y, num_classes=ds.num_classes
    )


# ----------------------------------------------------------------------------- arrays / npz


def _uint8_images(arr: np.ndarray, where: str) -> np.ndarray:
    """uint8 (N, H, W) / (N, H, W, C) / (N, C, H, W) -> uint8 (N, C, H, W)."""
    if arr.ndim == 3:
        return arr[:, None]
    if arr.shape[1] in IMAGE_CHANNELS:
        return arr
    if arr.shape[3] in IMAGE_CHANNELS:
        return arr.transpose(0, 3, 1, 2)
    raise DataError(
        f"{where}: uint8 images must be (N, H, W), (N, H, W, C) or (N, C, H, W) with C = 1 or 3, "
        f"got shape {arr.shape}"
    )


def array_to_samples(arr: Any, where: str = "array") -> Tensor:
    """Convert an array to gankit's sample convention (see the module docstring)."""
    if isinstance(arr, Tensor):
        arr = arr.detach().cpu().numpy()
    arr = np.asarray(arr)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{where}: expected a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr) or arr.dtype == bool:
        raise DataError(f"{where}: expected real numbers, got dtype {arr.dtype}")
    if arr.ndim < 2 or arr.ndim > 4:
        raise DataError(
            f"{where}: expected images (N, C, H, W) / (N, H, W) / (N, H, W, C) or vectors (N, D), "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] < 1 or any(s < 1 for s in arr.shape[1:]):
        raise DataError(f"{where}: the array is empty (shape {arr.shape})")
    if arr.dtype == np.uint8 and arr.ndim >= 3:
        images = _uint8_images(arr, where)
        return torch.from_numpy(images.astype(np.float32) / np.float32(UINT8_MAX / 2) - np.float32(1.0))
    if arr.ndim == 2:  # vectors (N, D): float64 stays float64 (tables), the rest -> float32
        v = arr.astype(np.float64 if arr.dtype == np.float64 else np.float32)
        if not np.all(np.isfinite(v)):
            raise DataError(f"{where}: contains NaN or infinite values")
        return torch.from_numpy(np.ascontiguousarray(v))
    x = arr.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise DataError(f"{where}: contains NaN or infinite values")
    if arr.ndim == 3:
        x = x[:, None]  # grayscale (N, H, W) -> (N, 1, H, W)
    elif x.shape[1] not in IMAGE_CHANNELS:
        raise DataError(
            f"{where}: float images must be (N, C, H, W) with C = 1 or 3, got shape {arr.shape} "
            "(channels-last floats are not accepted; transpose them or save uint8)"
        )
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.0 - RANGE_SLACK or hi > 1.0 + RANGE_SLACK:
        raise DataError(
            f"{where}: float images must lie in [-1, 1], got values in [{lo:.4g}, {hi:.4g}] "
            "(save uint8 for 0..255 images)"
        )
    return torch.from_numpy(np.ascontiguousarray(np.clip(x, -1.0, 1.0)))


def samples_from_npz(path: str | os.PathLike[str], *, n: Optional[int] = None, seed: int = 0) -> SampleSet:
    """An ``.npz`` file: ``samples`` (or its only array) and optional ``labels`` and ``codes``."""
    p = Path(os.path.expanduser(os.fspath(path)))
    if not p.is_file():
        raise DataError(f"npz file not found: {p}")
    digest = sha256_file(p)
    try:
        with np.load(p, allow_pickle=False) as npz:
            keys = list(npz.keys())
            if NPZ_SAMPLES_KEY in keys:
                key = NPZ_SAMPLES_KEY
            elif len(keys) == 1:
                key = keys[0]
            else:
                raise DataError(
                    f"{p}: expected an array named '{NPZ_SAMPLES_KEY}' or a single array, "
                    f"found {', '.join(keys) or 'none'}"
                )
            arr = npz[key]
            labels, codes = (npz[k] if k in keys and key != k else None for k in (NPZ_LABELS_KEY, NPZ_CODES_KEY))
    except DataError:
        raise
    except (ValueError, OSError, EOFError, KeyError) as exc:  # not a zip, pickled objects, truncated
        raise DataError(f"{p} is not a readable .npz file ({exc})") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{p}: {path} does not hold an array")
    x = array_to_samples(arr, f"{p} [{key}]")
    y = _integer_rows(labels, x.shape[0], f"{p}: '{NPZ_LABELS_KEY}'")
    c = _integer_rows(codes, x.shape[0], f"{p}: '{NPZ_CODES_KEY}'")
    x, y, c, taken = _take(x, y, n, seed, f"npz file {p}", codes=c)
    identity = {"kind": "npz", "path": str(p.resolve()), "sha256": digest, "key": key, **taken}
    return SampleSet(
        x=x,
        name=f"npz {p}",
        kind="npz",
        identity=identity,
        labels=y,
        codes=c,
        num_classes=int(y.max()) + 1 if y is not None and len(y) else 0,
    )


def _integer_rows(values: Any, n: int, what: str) -> Optional[Tensor]:
    """``n`` non-negative integers ``(n,)`` as int64, or ``None``; ``DataError`` otherwise."""
    if values is None:
        return None
    a = np.asarray(values)
    if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer) or (n and a.min() < 0):
        raise DataError(f"{what} must be {n} non-negative integers, got {a.dtype} {a.shape}")
    return torch.from_numpy(a.astype(np.int64))


def samples_from_array(
    x: Any, labels: Any = None, *, codes: Any = None, name: str = "array", n: Optional[int] = None, seed: int = 0
) -> SampleSet:
    """In-memory samples (same conventions as an ``.npz``'s array); identity = content hash."""
    t = array_to_samples(x, name)
    y = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.int64).reshape(-1)
    if y is not None and y.shape[0] != t.shape[0]:
        raise DataError(f"{name}: {y.shape[0]} labels for {t.shape[0]} samples")
    c = None if codes is None else _integer_rows(np.asarray(codes).reshape(-1), t.shape[0], f"{name}: codes")
    digest = hashlib.sha256(np.ascontiguousarray(t.numpy()).tobytes()).hexdigest()
    t, y, c, taken = _take(t, y, n, seed, name, codes=c)
    identity = {"kind": "array", "name": name, "sha256": digest, "shape": list(t.shape), **taken}
    return SampleSet(x=t, name=name, kind="array", identity=identity, labels=y, codes=c)


# ----------------------------------------------------------------------------- dispatch


def load_samples(
    source: SourceLike,
    *,
    n: Optional[int] = None,
    seed: int = 0,
    split: Optional[str] = None,
    data_dir: Optional[str] = None,
    resolution: int = 0,
) -> SampleSet:
    """Load ``source``: a ``SampleSet`` (subset to ``n``), a ``SampleGenerator`` (``n``
    samples drawn with ``seed``), an image folder, an ``.npz`` file, a registered dataset
    name, or an array."""
    if isinstance(source, SampleSet):
        if n is None or n == len(source):
            return source
        x, y, c, taken = _take(source.x, source.labels, n, seed, source.name, codes=source.codes)
        return dataclasses.replace(source, x=x, labels=y, codes=c, identity={**source.identity, **taken})
    if isinstance(source, SampleGenerator):
        if _check_n(n, source.name) is None:
            raise ConfigError(f"drawing samples from {source.name} needs n (the number of samples to generate)")
        return source.draw(n, seed)  # type: ignore[arg-type]
    if isinstance(source, (Tensor, np.ndarray)):
        return samples_from_array(source, n=n, seed=seed)
    if not isinstance(source, (str, os.PathLike)):
        raise ConfigError(f"cannot evaluate a {type(source).__name__}: pass a path, dataset name or array")
    text = os.fspath(source)
    path = Path(os.path.expanduser(text))
    if path.is_dir():
        return samples_from_folder(path, n=n, seed=seed, resolution=resolution)
    if path.is_file() or text.endswith(".npz"):
        if path.suffix != ".npz":
            raise DataError(f"{path}: only .npz files are read as samples (or pass an image folder)")
        return samples_from_npz(path, n=n, seed=seed)
    if text in DATASETS:
        return samples_from_dataset(text, split=split, data_dir=data_dir, n=n, seed=seed, resolution=resolution)
    raise DataError(
        f"{text!r} is not an image folder, an .npz file or a registered dataset "
        f"(datasets: {', '.join(DATASETS.names())})"
    )


def describe_identity(identity: dict[str, Any]) -> str:
    """A short, stable one-line form of an identity (for keys and tables)."""
    return json.dumps(identity, sort_keys=True, separators=(",", ":"))
