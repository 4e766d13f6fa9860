"""A folder of images (png, jpg, jpeg, bmp, webp) read with Pillow.

Layout of ``cfg.path``:

* only image files -> one unlabelled set;
* subdirectories -> one class per subdirectory (sorted names give labels 0..K-1; images are
  found recursively inside each). Images next to class subdirectories are an error, and
  hidden entries (names starting with ".") are ignored.

Images are grayscale (1 channel) if every image is mode ``L`` or ``1``, else RGB (alpha is
dropped). With ``cfg.resolution > 0`` each image is resized to a square of that side
(bicubic, via PIL; aspect ratio is not kept); otherwise all images must share one size.
Pixel values 0..255 map linearly to [-1, 1]. Files are read in sorted path order;
``cfg.limit`` keeps the first N; there is no split (``cfg.split`` is ignored).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.transforms import check_data_config, labels_to_tensor, scale_to_unit
from gankit.errors import DataError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
GRAYSCALE_MODES: frozenset[str] = frozenset({"L", "1"})


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _is_image(path: Path) -> bool:
    return path.is_file() and _visible(path) and path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(root: str | Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """``(files, labels, class_names)`` of an image folder (see the module docstring).

    Without class subdirectories ``labels`` is empty and ``class_names`` is ``()``.
    Raises ``DataError`` if the folder is missing, holds no images, mixes images with class
    subdirectories, or has an empty class.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist or is not a directory")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and _visible(p))
    top = sorted(p for p in root.iterdir() if _is_image(p))
    if not subdirs:
        if not top:
            exts = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise DataError(f"image folder {root} contains no images ({exts})")
        return top, [], ()
    if top:
        raise DataError(
            f"image folder {root} mixes images ({top[0].name}, ...) with class subdirectories; "
            "put every image inside a class subdirectory"
        )
    files: list[Path] = []
    labels: list[int] = []
    for label, sub in enumerate(subdirs):
        images = sorted(
            p for p in sub.rglob("*")
            if _is_image(p) and all(_visible(q) for q in p.relative_to(sub).parents)
        )  # fmt: skip
        if not images:
            raise DataError(f"class folder {sub} contains no images")
        files += images
        labels += [label] * len(images)
    return files, labels, tuple(p.name for p in subdirs)


def open_image(path: Path) -> Image.Image:
    """Open and fully decode one image; ``DataError`` naming the file if it cannot be read."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy() if img.mode != "1" else img.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from None


def images_to_array(images: list[Image.Image], files: list[Path], resolution: int) -> np.ndarray:
    """Stack PIL images into uint8 ``(N, C, H, W)``: gray if all are ``L``/``1``, else RGB."""
    gray = all(img.mode in GRAYSCALE_MODES for img in images)
    mode = "L" if gray else "RGB"
    arrays = []
    for img, path in zip(images, files):
        img = img.convert(mode) if img.mode != mode else img
        if resolution > 0 and img.size != (resolution, resolution):
            img = img.resize((resolution, resolution), Image.Resampling.BICUBIC)
        arr = np.asarray(img, dtype=np.uint8)
        arr = arr[None] if gray else arr.transpose(2, 0, 1)
        if arrays and arr.shape != arrays[0].shape:
            raise DataError(
                f"image {path} is {arr.shape[2]}x{arr.shape[1]} but {files[0]} is "
                f"{arrays[0].shape[2]}x{arrays[0].shape[1]}; set data.resolution to resize"
            )
        arrays.append(arr)
    return np.stack(arrays)


@DATASETS.register("image-folder", "images under data.path (class subfolders give labels)")
def build_image_folder(cfg: DataConfig) -> Dataset:
    """Images under ``cfg.path`` as float32 ``(N, C, H, W)`` in [-1, 1]."""
    check_data_config(cfg)
    if not cfg.path:
        raise DataError("image-folder needs a folder: set data.path (or --data-dir)")
    files, labels, class_names = list_images(cfg.path)
    if cfg.limit > 0:
        files, labels = files[: cfg.limit], labels[: cfg.limit]
    images = [open_image(p) for p in files]
    x = scale_to_unit(images_to_array(images, files, cfg.resolution), 255.0)
    return Dataset(
        name="image-folder",
        x=x,
        y=labels_to_tensor(np.asarray(labels)) if class_names else None,
        num_classes=len(class_names),
        class_names=class_names,
    )
