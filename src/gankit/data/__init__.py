"""Datasets: 2-D toys, digits, MNIST-format IDX files and image folders.

Importing this package registers every builder in ``DATASETS``; ``build_dataset(cfg)``
returns an in-memory ``Dataset`` (see ``gankit.data.base``).
"""

from gankit.data import (  # noqa: F401  (registrations)
    categorical_toy,
    chorales,
    derived,
    digits,
    image_folder,
    mnist,
    mnist_m,
    moving_digits,
    oracle,
    paired_folder,
    sequences,
    stacked_mnist,
    statsmodels_tables,
    tables,
    tokens,
    toys,
    unpaired,
    words,
)
from gankit.data.base import DATASETS, Dataset, DatasetBuilder, FieldSpec, LazyField, build_dataset
from gankit.data.digits import load_digits_arrays
from gankit.data.download import download, sha256_decompressed
from gankit.data.idx import encode_idx, parse_idx, read_idx
from gankit.data.image_folder import IMAGE_EXTENSIONS, list_images
from gankit.data.mnist import (
    FASHION_MNIST_CLASSES,
    cache_dir,
    find_file,
    load_mnist_arrays,
    locate_or_download,
    search_dirs,
)
from gankit.data.tables import table_dataset
from gankit.data.toys import grid_centres, ring_centres, sample_mixture, sample_spiral
from gankit.data.transforms import resize_images, scale_to_unit

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "IMAGE_EXTENSIONS",
    "Dataset",
    "DatasetBuilder",
    "FieldSpec",
    "LazyField",
    "build_dataset",
    "cache_dir",
    "download",
    "encode_idx",
    "find_file",
    "grid_centres",
    "list_images",
    "load_digits_arrays",
    "load_mnist_arrays",
    "locate_or_download",
    "parse_idx",
    "read_idx",
    "resize_images",
    "ring_centres",
    "sample_mixture",
    "sample_spiral",
    "scale_to_unit",
    "search_dirs",
    "sha256_decompressed",
    "table_dataset",
]
