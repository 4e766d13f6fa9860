"""Pillow images to uint8 arrays of one channel count and one size per image set.

A set is grayscale or RGB: ``channels`` 1 or 3 converts every image (``"L"`` by ITU-R 601
luma, ``"RGB"`` by replication; alpha is dropped), 0 keeps what is stored and refuses a set
that mixes grayscale (modes ``L``, ``1``, ``LA``) with colour images, naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gankit.data.image_folder import IMAGE_EXTENSIONS
from gankit.errors import DataError

GRAY_MODES: frozenset[str] = frozenset({"L", "1", "LA"})


def image_files(root: str | Path, what: str) -> list[Path]:
    """The image files directly inside ``root`` (sorted; hidden files and subfolders ignored)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{what}: image folder {root} does not exist or is not a directory")
    files = sorted(
        p for p in root.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )  # fmt: skip
    if not files:
        raise DataError(f"{what}: image folder {root} contains no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    return files


class ImageSet:
    """Collects the images of one set as uint8 ``(C, H, W)`` arrays, checking that they share
    one channel count (see the module docstring) and one size; errors name the file."""

    def __init__(self, what: str, channels: int = 0, resolution: int = 0) -> None:
        self.what, self.channels, self.resolution = what, channels, resolution
        self.arrays: list[np.ndarray] = []
        self._first: tuple[Path, int, tuple[int, int]] | None = None  # (file, channels, stored W x H)

    def _mode(self, img: Image.Image, path: Path) -> str:
        stored = 1 if img.mode in GRAY_MODES else 3
        if self._first is not None and not self.channels and stored != self._first[1]:
            kinds = {1: "grayscale", 3: "colour"}
            raise DataError(
                f"{self.what}: image {path} is {kinds[stored]} but {self._first[0]} is {kinds[self._first[1]]}; "
                f"set data.channels=1 or 3 to convert them all"
            )
        return "L" if (self.channels or stored) == 1 else "RGB"

    def add(self, img: Image.Image, path: Path) -> None:
        """Append ``img`` (read from ``path``), converted and resized as the set requires."""
        mode = self._mode(img, path)
        if self._first is None:
            self._first = (path, 1 if mode == "L" else 3, img.size)
        elif not self.resolution and img.size != self._first[2]:
            (w, h), (w0, h0) = img.size, self._first[2]
            raise DataError(
                f"{self.what}: image {path} is {w}x{h} but {self._first[0]} is {w0}x{h0}; "
                f"set data.resolution to resize"
            )
        img = img.convert(mode) if img.mode != mode else img
        r = self.resolution
        if r > 0 and img.size != (r, r):
            img = img.resize((r, r), Image.Resampling.BICUBIC)
        arr = np.asarray(img, dtype=np.uint8)
        self.arrays.append(arr[None] if mode == "L" else arr.transpose(2, 0, 1))  # (C, H, W)

    def stack(self) -> np.ndarray:
        """All images as uint8 ``(N, C, H, W)``."""
        return np.stack(self.arrays)
