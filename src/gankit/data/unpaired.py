"""Unpaired image domains for translation without pairs (Zhu et al. 2017, "CycleGAN").

Two groups of possibly different sizes, shuffled independently by the loader: group ``a``
with field ``a`` (and labels ``y_a`` when domain A has them), group ``b`` with field ``b``
(and ``y_b``). ``num_classes`` and ``class_names`` are domain A's; ``meta["domains"]`` records
each domain's name, size and classes.

Kinds:

* ``unpaired-images``: the image folders ``data.path`` (A) and ``data.path_b`` (B), each read
  like ``image-folder`` (class subfolders give labels; ``data.channels`` and
  ``data.resolution`` as for ``paired-images``), or two registered datasets
  ``data.domains=A,B`` built with the rest of ``data`` (e.g. ``mnist,fashion-mnist``);
* ``mnist2digits``: MNIST and scikit-learn's 8x8 digits upscaled (bilinear) to MNIST's side,
  or (``data.digit_box=20``) into a centred 20x20 box as MNIST frames its own digits.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset, build_dataset
from gankit.data.image_arrays import ImageSet
from gankit.data.image_folder import list_images, open_image
from gankit.data.transforms import check_data_config, convert_channels, frame_images, labels_to_tensor, scale_to_unit
from gankit.errors import ConfigError, DataError

MNIST_SIDE = 28
DIGITS_SIDE = 8  # scikit-learn's digits


@dataclasses.dataclass(frozen=True)
class Domain:
    """One side of an unpaired dataset: examples ``(N, ...)``, labels ``(N,)`` or None."""

    name: str
    x: torch.Tensor
    y: torch.Tensor | None = None
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    box: int = 0  # the examples fill the centred box x box window (0: the whole image)
    native: int = 0  # the examples are images of this side upscaled bilinearly (0: not upscaled)


def unpaired_dataset(name: str, a: Domain, b: Domain, meta: dict[str, Any] | None = None) -> Dataset:
    """The two-group dataset of domains ``a`` and ``b`` (see the module docstring)."""
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for g, dom in (("a", a), ("b", b)):
        groups[g] = {g: dom.x} if dom.y is None else {g: dom.x, f"y_{g}": dom.y}
    info = {
        g: {"name": d.name, "size": int(d.x.shape[0]), "num_classes": d.num_classes, "class_names": list(d.class_names),
            **({"box": d.box} if d.box else {}), **({"native": d.native} if d.native else {})}
        for g, d in (("a", a), ("b", b))
    }
    return Dataset(
        name, groups=groups, num_classes=a.num_classes, class_names=a.class_names,
        meta={"domains": info, **(meta or {})},
    )  # fmt: skip


def domain_of(dataset: Dataset, channels: int = 0) -> Domain:
    """A one-group dataset's ``x`` (channels converted) and ``y`` as a domain."""
    x = dataset.x
    if not isinstance(x, torch.Tensor) or len(dataset.groups) != 1:
        raise ConfigError(f"dataset {dataset.name!r} cannot be an unpaired domain: it needs one group with a tensor x")
    if channels and x.ndim != 4:
        shape = tuple(x.shape[1:])
        raise ConfigError(f"data.channels needs images, but dataset {dataset.name!r} has examples of shape {shape}")
    y = dataset.y if isinstance(dataset.y, torch.Tensor) else None
    x = convert_channels(x, channels) if channels else x
    return Domain(dataset.name, x, y, dataset.num_classes, dataset.class_names)


def folder_domain(path: str, cfg: DataConfig, what: str) -> Domain:
    """The images under ``path`` (class subfolders give labels) as a domain."""
    files, labels, class_names = list_images(path)
    if cfg.limit > 0:
        files, labels = files[: cfg.limit], labels[: cfg.limit]
    images = ImageSet(what, cfg.channels, cfg.resolution)
    for p in files:
        images.add(open_image(p), p)
    x = scale_to_unit(images.stack(), 255.0)  # (N, C, H, W)
    y = labels_to_tensor(np.asarray(labels)) if class_names else None
    return Domain(path, x, y, len(class_names), class_names)


@DATASETS.register("unpaired-images", "two unpaired domains: folders data.path + data.path_b, or data.domains=A,B")
def build_unpaired_images(cfg: DataConfig) -> Dataset:
    """Domains A and B as groups ``a`` and ``b`` (see the module docstring)."""
    check_data_config(cfg)
    if cfg.domains:
        if len(cfg.domains) != 2 or "unpaired-images" in cfg.domains:
            raise ConfigError(f"data.domains must name two other registered datasets (A, B), got {list(cfg.domains)}")
        if cfg.path_b:
            raise ConfigError("unpaired-images takes data.domains or the folders data.path + data.path_b, not both")
        for name in cfg.domains:
            DATASETS.get(name)  # an unknown name fails before either dataset is built
        a, b = (
            domain_of(build_dataset(dataclasses.replace(cfg, name=name, domains=(), channels=0)), cfg.channels)
            for name in cfg.domains
        )
        return unpaired_dataset("unpaired-images", a, b)
    if not cfg.path or not cfg.path_b:
        raise DataError("unpaired-images needs two image folders (data.path: A, data.path_b: B) or data.domains=A,B")
    a = folder_domain(cfg.path, cfg, "unpaired-images domain A")
    b = folder_domain(cfg.path_b, cfg, "unpaired-images domain B")
    return unpaired_dataset("unpaired-images", a, b)


@DATASETS.register("mnist2digits", "unpaired MNIST (a) and sklearn 8x8 digits upscaled to 28x28 (b), labels y_a, y_b")
def build_mnist2digits(cfg: DataConfig) -> Dataset:
    """MNIST ``(N_a, 1, S, S)`` and scikit-learn's digits ``(N_b, 1, S, S)``, both in [-1, 1],
    ``S = data.resolution`` or 28; the 8x8 digits are upscaled bilinearly to the whole frame, or
    with ``data.digit_box = B`` to ``B x B`` centred in it (MNIST's own framing: its digits were
    size-normalised into a 20x20 box centred in 28x28, LeCun et al. 1998). ``data.split`` and
    ``data.limit`` apply to both (digits: the first 1500 images are "train")."""
    check_data_config(cfg)
    side = cfg.resolution or MNIST_SIDE
    box = cfg.digit_box or side
    if not DIGITS_SIDE <= box <= side:
        raise ConfigError(f"data.digit_box={cfg.digit_box}: the box must lie in {DIGITS_SIDE}..{side}, or 0")
    parts = {name: dataclasses.replace(cfg, name=name, resolution=res, channels=0)
             for name, res in (("mnist", side), ("digits", box))}
    a = domain_of(build_dataset(parts["mnist"]), cfg.channels)
    b = dataclasses.replace(domain_of(build_dataset(parts["digits"]), cfg.channels), native=DIGITS_SIDE)
    if box < side:
        b = dataclasses.replace(b, x=frame_images(b.x, side), box=box)
    return unpaired_dataset("mnist2digits", a, b)
