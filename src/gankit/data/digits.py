"""scikit-learn's bundled 8x8 handwritten digits (1797 images, no download needed).

Pixel values 0..16 map linearly to [-1, 1] (0 -> -1, 16 -> 1). Split (deterministic, in
sklearn's order): the first 1500 images are "train", the last 297 are "test".
"""

from __future__ import annotations

import numpy as np

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.transforms import (
    apply_limit,
    check_data_config,
    labels_to_tensor,
    resize_images,
    scale_to_unit,
)

DIGITS_TEST_SIZE = 297
DIGITS_MAX_VALUE = 16.0


def split_slice(split: str, total: int, test_size: int) -> slice:
    """Rows of ``split`` when the last ``test_size`` of ``total`` rows are the test set."""
    if split == "train":
        return slice(0, total - test_size)
    if split == "test":
        return slice(total - test_size, total)
    return slice(0, total)


def load_digits_arrays(split: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of ``split``: images ``(N, 8, 8)`` float64 in 0..16, labels int64."""
    from sklearn.datasets import load_digits  # local: sklearn is slow to import

    bunch = load_digits()
    rows = split_slice(split, len(bunch.target), DIGITS_TEST_SIZE)
    return bunch.images[rows], bunch.target[rows].astype(np.int64)


@DATASETS.register("digits", "scikit-learn 8x8 handwritten digits, 10 classes (bundled)")
def build_digits(cfg: DataConfig) -> Dataset:
    """Digits as ``(N, 1, 8, 8)`` in [-1, 1] (resized to ``cfg.resolution`` when > 0)."""
    check_data_config(cfg)
    images, labels = load_digits_arrays(cfg.split)
    images, labels = apply_limit(images, cfg.limit), apply_limit(labels, cfg.limit)
    x = resize_images(scale_to_unit(images[:, None], DIGITS_MAX_VALUE), cfg.resolution)
    return Dataset(
        name="digits",
        x=x,
        y=labels_to_tensor(labels),
        num_classes=10,
        class_names=tuple(str(i) for i in range(10)),
    )

