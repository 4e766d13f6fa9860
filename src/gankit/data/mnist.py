"""MNIST and Fashion-MNIST from the four standard IDX files (28x28 grayscale, 10 classes).

Where the files are looked for, in order (first hit wins, per file):

1. ``cfg.path`` (the CLI's ``--data-dir``), if given;
2. each directory in the environment variable ``GANKIT_DATA`` (``os.pathsep``-separated);
3. the user cache ``$XDG_CACHE_HOME/gankit/data`` (default ``~/.cache/gankit/data``).

In a directory ``D`` a file is ``D/<dataset>/<file>`` or ``D/<file>``, either ``.gz`` or
uncompressed. If a file is found nowhere and ``cfg.download`` is true, it is downloaded to
``<cfg.path or cache>/<dataset>/<file>.gz`` from the official mirrors, verified against the
sha256 of its decompressed bytes. Local files are not re-hashed on load; the strict IDX
parser and the shape/label checks below catch truncation and corruption.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.download import download as download_file
from gankit.data.idx import read_idx
from gankit.data.transforms import (
    apply_limit,
    check_data_config,
    labels_to_tensor,
    resize_images,
    scale_to_unit,
)
from gankit.errors import DataError

SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# sha256 of the *decompressed* files (checked against the published MNIST / Fashion-MNIST files).
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": MNIST_MIRRORS,
    "fashion-mnist": FASHION_MNIST_MIRRORS,
}

MNIST_CLASSES: tuple[str, ...] = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
IMAGE_SIZE = 28


def cache_dir() -> Path:
    """The user data cache: ``$XDG_CACHE_HOME/gankit/data``, else ``~/.cache/gankit/data``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gankit" / "data"


def search_dirs(path: str = "") -> list[Path]:
    """Directories searched for MNIST-format files, in order (see the module docstring)."""
    dirs = [Path(path).expanduser()] if path else []
    dirs += [Path(p).expanduser() for p in os.environ.get("GANKIT_DATA", "").split(os.pathsep) if p]
    dirs.append(cache_dir())
    return dirs


def find_file(dataset: str, filename: str, dirs: Sequence[Path]) -> Path | None:
    """First existing ``D/<dataset>/<filename>[.gz]`` or ``D/<filename>[.gz]`` over ``dirs``."""
    for d in dirs:
        for folder in (d / dataset, d):
            for name in (filename + ".gz", filename):
                if (folder / name).is_file():
                    return folder / name
    return None


def locate_or_download(
    dataset: str,
    filename: str,
    *,
    path: str = "",
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    hashes: Mapping[str, str] | None = None,
) -> Path:
    """The local path of ``filename`` of ``dataset``, downloading it if absent and allowed.

    ``mirrors`` (base URLs, tried in order) and ``hashes`` (decompressed sha256 per file name;
    a name without one is not verified) default to this module's ``MIRRORS[dataset]`` and
    ``SHA256[dataset]``, looked up at call time.
    """
    dirs = search_dirs(path)
    found = find_file(dataset, filename, dirs)
    if found is not None:
        return found
    if not download:
        looked = ", ".join(str(d) for d in dirs)
        raise DataError(
            f"{dataset}: {filename}[.gz] not found in {looked} (as D/{dataset}/FILE or D/FILE); "
            f"pass --data-dir DIR (data.path) or set GANKIT_DATA to a directory holding it, "
            f"or allow data.download=true"
        )
    mirrors = MIRRORS[dataset] if mirrors is None else mirrors
    hashes = SHA256[dataset] if hashes is None else hashes
    root = Path(path).expanduser() if path else cache_dir()
    dest = root / dataset / (filename + ".gz")
    urls = [m.rstrip("/") + "/" + filename + ".gz" for m in mirrors]
    return download_file(urls, dest, hashes.get(filename))


def load_mnist_arrays(
    dataset: str,
    split: str = "train",
    *,
    path: str = "",
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    hashes: Mapping[str, str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of ``split`` (train/test/all): uint8 ``(N, 28, 28)``, int64 ``(N,)``.

    Raises ``DataError`` when a file is missing (and not downloadable), corrupt, or the
    images and labels disagree in count, shape or range.
    """
    if dataset not in SHA256:
        raise ValueError(f"unknown MNIST-format dataset {dataset!r} (known: {', '.join(SHA256)})")
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be train, test or all, got {split!r}")
    splits = ("train", "test") if split == "all" else (split,)
    images, labels = [], []
    for s in splits:
        img_path, lab_path = (
            locate_or_download(
                dataset, name, path=path, download=download, mirrors=mirrors, hashes=hashes
            )
            for name in SPLIT_FILES[s]
        )
        img, lab = read_idx(img_path), read_idx(lab_path)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(
                f"{img_path}: expected uint8 images of shape (N, 28, 28), "
                f"got {img.dtype} {img.shape}"
            )
        if lab.dtype != np.uint8 or lab.ndim != 1 or lab.shape[0] != img.shape[0]:
            raise DataError(
                f"{lab_path}: expected {img.shape[0]} uint8 labels, got {lab.dtype} {lab.shape}"
            )
        if lab.size and int(lab.max()) >= 10:
            raise DataError(f"{lab_path}: label {int(lab.max())} out of range 0..9")
        images.append(img)
        labels.append(lab.astype(np.int64))
    if len(splits) == 1:
        return images[0], labels[0]
    return np.concatenate(images), np.concatenate(labels)


def _build(dataset: str, cfg: DataConfig, class_names: tuple[str, ...]) -> Dataset:
    check_data_config(cfg)
    images, labels = load_mnist_arrays(
        dataset, cfg.split, path=cfg.path, download=cfg.download
    )
    images, labels = apply_limit(images, cfg.limit), apply_limit(labels, cfg.limit)
    x = resize_images(scale_to_unit(images[:, None], 255.0), cfg.resolution)
    return Dataset(
        name=dataset,
        x=x,
        y=labels_to_tensor(labels),
        num_classes=10,
        class_names=class_names,
    )


@DATASETS.register("mnist", "MNIST handwritten digits, 28x28 grayscale, 10 classes (IDX files)")
def build_mnist(cfg: DataConfig) -> Dataset:
    """MNIST as ``(N, 1, 28, 28)`` in [-1, 1] (resized to ``cfg.resolution`` when > 0)."""
    return _build("mnist", cfg, MNIST_CLASSES)


@DATASETS.register(
    "fashion-mnist", "Fashion-MNIST clothing, 28x28 grayscale, 10 classes (IDX files)"
)
def build_fashion_mnist(cfg: DataConfig) -> Dataset:
    """Fashion-MNIST as ``(N, 1, 28, 28)`` in [-1, 1] (resized when ``cfg.resolution`` > 0)."""
    return _build("fashion-mnist", cfg, FASHION_MNIST_CLASSES)
