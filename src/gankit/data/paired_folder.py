"""Paired images for image-to-image translation (Isola et al. 2017, "pix2pix").

Two layouts, both read with Pillow into one group ``"main"`` with fields ``a`` (input) and
``b`` (target), float32 ``(N, C, H, W)`` in [-1, 1]:

* ``data.path`` alone: every image file in it is a side-by-side pair, ``A | B`` concatenated
  horizontally (the pix2pix datasets' layout): the left half is ``a``, the right half ``b``;
* ``data.path`` and ``data.path_b``: ``a`` from the first folder, ``b`` from the file of the
  same name in the second.

Only files directly in the folders count (sorted by name; hidden files ignored).
``data.channels`` 1 or 3 converts every image; otherwise each side must be all grayscale or
all colour (A and B may differ: edges to photos). Each side must have one size unless
``data.resolution`` resizes every image to a square. ``data.limit`` keeps the first N pairs.
A missing or extra partner, mixed sizes or modes, an odd width for a side-by-side file, or an
unreadable file is a ``DataError`` naming the file. No labels, no split (``data.split`` is
ignored).
"""

from __future__ import annotations

from pathlib import Path

from gankit.config import DataConfig
from gankit.data.base import DATASETS, PRIMARY_GROUP, Dataset
from gankit.data.image_arrays import ImageSet, image_files
from gankit.data.image_folder import open_image
from gankit.data.transforms import check_data_config, scale_to_unit
from gankit.errors import DataError

NAME = "paired-images"


def matched_files(dir_a: str, dir_b: str) -> list[tuple[Path, Path]]:
    """``(file in dir_a, file of the same name in dir_b)`` for every image, sorted by name;
    ``DataError`` naming the first file without a partner."""
    files_a, files_b = image_files(dir_a, NAME), image_files(dir_b, NAME)
    names_b = {p.name: p for p in files_b}
    names_a = {p.name for p in files_a}
    for p in files_a:
        if p.name not in names_b:
            raise DataError(f"{NAME}: {p} has no partner {Path(dir_b).expanduser() / p.name}")
    for p in files_b:
        if p.name not in names_a:
            raise DataError(f"{NAME}: {p} has no partner {Path(dir_a).expanduser() / p.name}")
    return [(p, names_b[p.name]) for p in files_a]


def _read_side_by_side(files: list[Path], cfg: DataConfig) -> tuple[ImageSet, ImageSet]:
    set_a, set_b = ImageSet(NAME, cfg.channels, cfg.resolution), ImageSet(NAME, cfg.channels, cfg.resolution)
    first: tuple[Path, tuple[int, int]] | None = None
    for path in files:
        img = open_image(path)
        w, h = img.size
        if w % 2:
            raise DataError(f"{NAME}: {path} is {w}x{h}: a side-by-side A|B file needs an even width")
        if first is None:
            first = (path, img.size)
        elif not cfg.resolution and img.size != first[1]:
            w0, h0 = first[1]
            raise DataError(
                f"{NAME}: image {path} is {w}x{h} but {first[0]} is {w0}x{h0}; set data.resolution to resize"
            )
        set_a.add(img.crop((0, 0, w // 2, h)), path)
        set_b.add(img.crop((w // 2, 0, w, h)), path)
    return set_a, set_b


def _read_two_folders(pairs: list[tuple[Path, Path]], cfg: DataConfig) -> tuple[ImageSet, ImageSet]:
    set_a, set_b = ImageSet(NAME, cfg.channels, cfg.resolution), ImageSet(NAME, cfg.channels, cfg.resolution)
    for path_a, path_b in pairs:
        set_a.add(open_image(path_a), path_a)
        set_b.add(open_image(path_b), path_b)
    return set_a, set_b


@DATASETS.register(NAME, "pix2pix pairs: side-by-side A|B files in data.path, or data.path + data.path_b (same names)")
def build_paired_images(cfg: DataConfig) -> Dataset:
    """Pairs ``a`` -> ``b`` as float32 ``(N, C, H, W)`` in [-1, 1] (see the module docstring)."""
    check_data_config(cfg)
    if not cfg.path:
        raise DataError(f"{NAME} needs a folder: set data.path (and data.path_b for A and B in two folders)")
    if cfg.path_b:
        pairs = matched_files(cfg.path, cfg.path_b)
        pairs = pairs[: cfg.limit] if cfg.limit > 0 else pairs
        set_a, set_b = _read_two_folders(pairs, cfg)
    else:
        files = image_files(cfg.path, NAME)
        files = files[: cfg.limit] if cfg.limit > 0 else files
        set_a, set_b = _read_side_by_side(files, cfg)
    a = scale_to_unit(set_a.stack(), 255.0)  # (N, C_a, H_a, W_a)
    b = scale_to_unit(set_b.stack(), 255.0)  # (N, C_b, H_b, W_b)
    layout = "two-folders" if cfg.path_b else "side-by-side"
    return Dataset(NAME, groups={PRIMARY_GROUP: {"a": a, "b": b}}, meta={"layout": layout})
