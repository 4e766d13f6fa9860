"""Paired translation tasks derived from MNIST and Fashion-MNIST (no extra data needed).

Each dataset ``<base>-<task>`` (base ``mnist`` or ``fashion``) is one group ``"main"`` with
input ``a``, target ``b`` = the base images (float32 ``(N, 1, S, S)`` in [-1, 1], resized
to ``S = data.resolution`` first when set) and the base labels ``y``. ``data.split``,
``data.limit``, ``data.path`` and ``data.download`` are the base dataset's. Tasks:

* ``edges``: ``a`` = Sobel edge map of ``b`` (``gankit.data.domains.edges``), the
  edges-to-image setting of Isola et al. 2017 ("pix2pix"; they use HED edges);
* ``inverted``: ``a = -b`` (the negative image);
* ``superres4``: ``a`` = ``b`` averaged over 4x4 blocks, ``(N, 1, S/4, S/4)`` (7x7 for MNIST):
  x4 super-resolution (Ledig et al. 2017, "SRGAN", use bicubic x4 down-sampling);
* ``inpaint``: ``a`` = ``b`` with a square hole of side ``S // 2`` filled with 0 (mid grey),
  at a position drawn per example from ``data.seed``; the field ``mask`` ``(N, 1, S, S)`` is 1
  inside the hole, 0 elsewhere (Pathak et al. 2016, "Context Encoders");
* ``colour``: ``a`` = ``b`` (grayscale), the target becomes ``b`` tinted with one colour per
  example, ``(N, 3, S, S)``: ``b_rgb = 2 t c - 1`` with ``t = (b + 1) / 2`` and ``c = u / max(u)``,
  ``u ~ U(0, 1)^3`` drawn per example from ``data.seed`` (black background, a bright colour).

``data.channels`` 3 (or 1) converts ``a`` and ``b`` of every task but ``colour``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
import torch.nn.functional as F

from gankit.config import DataConfig
from gankit.data.base import DATASETS, PRIMARY_GROUP, Dataset, build_dataset
from gankit.data.domains import edges
from gankit.data.transforms import check_data_config, convert_channels
from gankit.errors import ConfigError

BASES: dict[str, str] = {"mnist": "mnist", "fashion": "fashion-mnist"}  # short name -> registered dataset
SUPERRES_FACTOR = 4
HOLE_FILL = 0.0  # mid grey in [-1, 1]: a hole differs from the black background

# a task maps (images b (N, 1, S, S), data config) to the fields it adds: at least a and b
Task = Callable[[torch.Tensor, DataConfig], dict[str, torch.Tensor]]


def edges_task(b: torch.Tensor, cfg: DataConfig) -> dict[str, torch.Tensor]:
    return {"a": edges(b), "b": b}


def inverted_task(b: torch.Tensor, cfg: DataConfig) -> dict[str, torch.Tensor]:
    return {"a": -b, "b": b}


def superres_task(b: torch.Tensor, cfg: DataConfig) -> dict[str, torch.Tensor]:
    side = b.shape[-1]
    if side % SUPERRES_FACTOR:
        raise ConfigError(f"super-resolution x{SUPERRES_FACTOR} needs a side divisible by it, got {side}")
    return {"a": F.avg_pool2d(b, SUPERRES_FACTOR), "b": b}  # (N, 1, S/4, S/4), (N, 1, S, S)


def hole_masks(n: int, side: int, seed: int) -> torch.Tensor:
    """Masks ``(n, 1, side, side)``: 1 inside a square of side ``side // 2`` whose top-left
    corner ``(row, col)`` is uniform over the positions that keep it inside the image, drawn
    as ``randint(side - side // 2 + 1, (n, 2))`` from a generator seeded with ``seed``."""
    hole = side // 2
    corners = torch.randint(side - hole + 1, (n, 2), generator=torch.Generator().manual_seed(seed))  # (n, 2)
    pos = torch.arange(side)  # (S,)
    rows = (pos >= corners[:, :1]) & (pos < corners[:, :1] + hole)  # (n, S)
    cols = (pos >= corners[:, 1:]) & (pos < corners[:, 1:] + hole)  # (n, S)
    return (rows[:, :, None] & cols[:, None, :]).to(torch.float32)[:, None]  # (n, 1, S, S)


def inpaint_task(b: torch.Tensor, cfg: DataConfig) -> dict[str, torch.Tensor]:
    mask = hole_masks(b.shape[0], b.shape[-1], cfg.seed)  # (N, 1, S, S)
    return {"a": b * (1 - mask) + HOLE_FILL * mask, "b": b, "mask": mask}


def tint_colours(n: int, seed: int) -> torch.Tensor:
    """Colours ``(n, 3)`` in [0, 1] with max channel 1: ``u / max(u)``, ``u ~ U(0, 1)^3``."""
    u = torch.rand(n, 3, generator=torch.Generator().manual_seed(seed)).clamp_min(1e-6)  # (n, 3)
    return u / u.amax(dim=1, keepdim=True)


def colour_task(b: torch.Tensor, cfg: DataConfig) -> dict[str, torch.Tensor]:
    colours = tint_colours(b.shape[0], cfg.seed)  # (N, 3)
    tinted = (b + 1.0) * colours[:, :, None, None] - 1.0  # (N, 3, S, S): 2 t c - 1
    return {"a": b, "b": tinted}


TASKS: dict[str, tuple[Task, str]] = {
    "edges": (edges_task, "Sobel edges -> {base} (pix2pix edges2image)"),
    "inverted": (inverted_task, "inverted -> {base}"),
    "superres4": (superres_task, "{base} averaged over 4x4 blocks (7x7) -> {base} (28x28), x4 super-resolution"),
    "inpaint": (inpaint_task, "{base} with a square hole (field mask) -> {base}, inpainting"),
    "colour": (colour_task, "grayscale {base} -> {base} tinted one colour per example (RGB)"),
}


def build_derived(base: str, task: str, cfg: DataConfig) -> Dataset:
    """``<base>-<task>`` (see the module docstring)."""
    check_data_config(cfg)
    if task == "colour" and cfg.channels:
        raise ConfigError(f"{base}-colour has grayscale inputs and RGB targets by definition: leave data.channels=0")
    source = build_dataset(dataclasses.replace(cfg, name=BASES[base], channels=0))
    fields = TASKS[task][0](source.x, cfg)
    if cfg.channels:
        for key in ("a", "b"):
            fields[key] = convert_channels(fields[key], cfg.channels)
    fields["y"] = source.y
    return Dataset(
        f"{base}-{task}", groups={PRIMARY_GROUP: fields}, num_classes=source.num_classes,
        class_names=source.class_names, meta={"base": BASES[base], "task": task},
    )  # fmt: skip


def _register(base: str, task: str) -> None:
    def builder(cfg: DataConfig) -> Dataset:
        return build_derived(base, task, cfg)

    builder.__name__ = builder.__qualname__ = f"build_{base}_{task}"
    DATASETS.add(f"{base}-{task}", builder, "paired: " + TASKS[task][1].format(base=base))


for _base in BASES:
    for _task in TASKS:
        _register(_base, _task)
