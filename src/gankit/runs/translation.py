"""Trained image-to-image runs applied to images: ``gankit translate`` and the paired samples the
metrics read (``psnr``, ``ssim``, ``l1``; ``class_acc`` against the source labels, the
"FCN-score" of Isola et al. 2017 transposed to a shipped domain classifier).

Inputs come from an image folder (PNG/JPEG/..., read as they are: a wrong size or channel count
is refused, never resized) or from a registered dataset (its input field ``a``, else ``x``).
Everything is checked and translated before the first file is written: bad input leaves no
partial output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.config import DataConfig, build_dataclass, to_dict
from gankit.data.base import DATASETS, Dataset, build_dataset
from gankit.data.image_folder import list_images, open_image
from gankit.errors import ConfigError, DataError
from gankit.metrics.sources import DEFAULT_SPLIT, SampleSet
from gankit.runs.loaded import LoadedRun
from gankit.viz.grid import save_image_grid
from gankit.viz.rows import translation_rows

TRANSLATE_BATCH = 256  # images per generator call (memory bound, not a result knob)
ROWS_FILE = "rows.png"  # input | output | target rows of a dataset's first examples
ROWS_N = 8


@dataclass(frozen=True)
class TranslationInputs:
    """Source images ``a`` ``(N, C, H, W)`` in [-1, 1], the names of the files to write, and,
    from a paired dataset, the targets ``b`` and labels ``y``."""

    a: torch.Tensor
    names: list[str]
    b: torch.Tensor | None = None
    y: torch.Tensor | None = None


def require_translator(run: LoadedRun, direction: str = "ab") -> None:
    """``ConfigError`` (one line) unless the run's recipe translates in ``direction``."""
    directions = run.recipe.translation_directions
    if not directions:
        raise ConfigError(f"{run.cfg.recipe.name} runs do not translate images: `gankit translate` needs a run of an "
                          f"image-to-image recipe (pix2pix, pan, cyclegan)")
    if direction not in directions:
        raise ConfigError(f"recipe {run.cfg.recipe.name} translates in direction {', '.join(directions)}, "
                          f"got {direction!r}")


def _folder_images(folder: str) -> TranslationInputs:
    files, _, _ = list_images(folder)
    arrays = []
    for path in files:
        img = open_image(path)
        img = img.convert("L" if img.mode in ("L", "1", "I", "I;16", "F") else "RGB")
        arr = np.asarray(img, dtype=np.uint8)
        arrays.append(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1))  # (C, H, W)
        if arrays[-1].shape != arrays[0].shape:
            raise DataError(f"image {path} is {arrays[-1].shape} (C, H, W) but {files[0]} is {arrays[0].shape}: "
                            f"every input must have the translator's size and channels")
    a = torch.from_numpy(np.stack(arrays)).float() / 127.5 - 1.0  # (N, C, H, W) in [-1, 1]
    return TranslationInputs(a, [f"{p.stem}.png" for p in files])


def is_paired(ds: Dataset) -> bool:
    """Whether ``ds`` holds pairs: fields ``a`` and ``b`` in one group (the same example index)."""
    group = ds.group_of("a")
    return group is not None and group == ds.group_of("b")


def domain_fields(ds: Dataset, direction: str) -> tuple[str, str | None, str | None]:
    """(source field, target field or None, label field or None) of translating ``ds`` in
    ``direction``: ``a`` -> ``b`` for pairs; for unpaired domains the source is ``a`` (``ab``) or
    ``b`` (``ba``), without targets, with that domain's labels ``y_a`` / ``y_b``."""
    if is_paired(ds):
        return "a", "b", "y" if ds.field("y") is not None else None
    source = "a" if direction == "ab" else "b"
    if ds.field(source) is None:
        source = "x"
    label = f"y_{source}" if ds.field(f"y_{source}") is not None else ("y" if ds.field("y") is not None else None)
    return source, None, label


def _dataset_images(run: LoadedRun, name: str, split: str, data_dir: str | None, n: int | None,
                    direction: str) -> TranslationInputs:
    table = {**to_dict(run.cfg.data), "name": name, "split": split, "limit": n or 0,
             **({"path": data_dir} if data_dir else {})}
    ds: Dataset = build_dataset(build_dataclass(DataConfig, table, "data"))
    source, target, label = domain_fields(ds, direction)
    a = ds.field(source)
    if not isinstance(a, torch.Tensor):
        a = a.materialise()
    width = len(str(len(a) - 1))
    names = [f"{i:0{width}d}.png" for i in range(len(a))]
    return TranslationInputs(a.float(), names, ds.field(target) if target else None,
                             ds.field(label) if label else None)


def translation_inputs(run: LoadedRun, source: str, split: str = DEFAULT_SPLIT, data_dir: str | None = None,
                       n: int | None = None, direction: str = "ab") -> TranslationInputs:
    """Inputs from ``source``: an image folder if it is a directory, else a registered dataset
    (``split`` of it, its first ``n`` examples when given, at the run's data settings; the
    domain that ``direction`` translates from)."""
    if os.path.isdir(source):
        inputs = _folder_images(source)
        if n:
            inputs = TranslationInputs(inputs.a[:n], inputs.names[:n])
        return inputs
    if source not in DATASETS.names():
        raise DataError(f"--input {source!r} is neither a folder nor a registered dataset (`gankit datasets`)")
    return _dataset_images(run, source, split, data_dir, n, direction)


@torch.no_grad()
def translate_images(run: LoadedRun, a: torch.Tensor, direction: str = "ab", use_ema: bool = True) -> torch.Tensor:
    """The run's translation of ``a`` ``(N, C, H, W)`` in eval mode, in batches; the recipe
    refuses a wrong shape (one line) before any batch runs."""
    require_translator(run, direction)
    nets = run.nets(use_ema)
    modes = {name: m.training for name, m in nets.items()}
    for m in nets.values():
        m.eval()
    try:
        out = [run.recipe.translate(nets, a[i : i + TRANSLATE_BATCH].to(run.device), direction).float().cpu()
               for i in range(0, len(a), TRANSLATE_BATCH)]
    finally:
        for name, m in nets.items():
            m.train(modes[name])
    return torch.cat(out)  # (N, C_b, H, W)


def translate_to_folder(run: LoadedRun, source: str, out: str, direction: str = "ab", split: str = DEFAULT_SPLIT,
                        data_dir: str | None = None, n: int | None = None, use_ema: bool = True) -> list[Path]:
    """Translate every input of ``source`` and write one PNG per input into ``out`` (same stem
    for folder inputs, the example index for a dataset), plus ``rows.png`` (input | output |
    target rows of the first examples) for a paired dataset. Nothing is written on bad input."""
    require_translator(run, direction)
    inputs = translation_inputs(run, source, split, data_dir, n, direction)
    outputs = translate_images(run, inputs.a, direction, use_ema)  # (N, C_b, H, W)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(f"--out {out} exists and is not a folder")
    os.makedirs(out, exist_ok=True)
    written = [save_image_grid(img[None], os.path.join(out, name), nrow=1, padding=0)
               for img, name in zip(outputs, inputs.names)]
    if inputs.b is not None and tuple(inputs.b.shape[1:]) == tuple(outputs.shape[1:]):
        k = min(ROWS_N, len(outputs))
        rows = translation_rows(inputs.a[:k], outputs[:k], inputs.b[:k].float())  # (3k, C, H, W)
        written.append(save_image_grid(rows, os.path.join(out, ROWS_FILE), nrow=k))
    return written


def translation_samples(run: LoadedRun, n: int, seed: int, split: str = DEFAULT_SPLIT, data_dir: str | None = None,
                        use_ema: bool = True, name: str | None = None) -> SampleSet:
    """``n`` translated test inputs (a seeded random subset of ``split`` of the run's dataset,
    domain ``a``) with their source labels as the intended labels, so ``class_acc`` is the
    FCN-score analogue (did the digit stay a 7?), and, for paired data, their targets
    (``extra["targets"]``; ``extra["inputs"]`` always)."""
    require_translator(run)
    ds = run.dataset(split, data_dir)
    source, target, label = domain_fields(ds, "ab")
    a = ds.field(source)
    if a is None:
        raise DataError(f"{run.cfg.data.name} has no field a to evaluate translations on")
    if n > len(a):
        raise ConfigError(f"the {split} split has {len(a)} inputs, fewer than n={n}")
    idx = torch.randperm(len(a), generator=torch.Generator().manual_seed(seed))[:n].sort().values  # (n,)
    inputs = a[idx].float()
    outputs = translate_images(run, inputs, "ab", use_ema)
    labels = ds.field(label)[idx].long() if label else None
    extra = {"inputs": inputs} | ({"targets": ds.field(target)[idx].float()} if target else {})
    base = target_domain_name(ds, run.cfg.data.name)
    return SampleSet(
        x=outputs, name=name or f"run <{run.cfg.name}>", kind="run",
        identity={"kind": "run", "translation": True, "split": split, "seed": int(seed), "n": int(n),
                  "step": int(run.step), "ema": bool(use_ema and run.ema)},
        labels=labels, labels_are_intended=labels is not None, dataset=base, num_classes=ds.num_classes,
        extra=extra, **target_view(ds),
    )  # fmt: skip


def target_view(ds: Dataset) -> dict[str, int]:
    """How the target domain's classifier reads domain ``b`` of an unpaired dataset (SampleSet's
    ``view_box``/``view_native``: ``mnist2digits``' digits are 8x8 images upscaled, into a box
    with ``data.digit_box``); empty for other data."""
    b = (ds.meta or {}).get("domains", {}).get("b", {})
    return {k: int(b[m]) for k, m in (("view_box", "box"), ("view_native", "native")) if b.get(m)}


def target_domain_name(ds: Dataset, default: str) -> str:
    """The registered dataset the translations should look like: a derived task's base
    (``mnist-edges`` -> ``mnist``), an unpaired dataset's domain ``b``, else ``default``."""
    meta = ds.meta or {}
    if "base" in meta:
        return meta["base"]
    return meta.get("domains", {}).get("b", {}).get("name", default)


def translation_reference(run: LoadedRun, split: str | None = None,
                          data_dir: str | None = None) -> DataConfig | SampleSet:
    """The real data a translation run's outputs are compared with (FID, KID, ...): the target
    domain. For a task derived from a dataset (``mnist-edges``: meta ``base``) that is ``split`` of
    the base dataset at the run's settings; for unpaired domains, domain ``b`` of ``split`` of the
    run's own dataset (as the run saw it: ``mnist2digits``' digits upscaled); other paired data
    needs ``--real``."""
    if "domains" in (run.data.get("meta") or {}):
        ds = run.dataset(split or DEFAULT_SPLIT, data_dir)
        label = "y_b" if ds.field("y_b") is not None else None
        view = target_view(ds)
        return SampleSet(
            x=ds.field("b").float(), name=f"{run.cfg.data.name} domain b ({split or DEFAULT_SPLIT})", kind="dataset",
            identity={"kind": "dataset", "name": run.cfg.data.name, "field": "b", "split": split or DEFAULT_SPLIT,
                      **view},
            labels=ds.field(label) if label else None, dataset=target_domain_name(ds, run.cfg.data.name),
            num_classes=ds.num_classes, **view,
        )  # fmt: skip
    base = (run.data.get("meta") or {}).get("base")
    if not base:
        raise ConfigError(f"{run.cfg.data.name} names no target dataset: pass the real targets with --real FOLDER")
    table = {**to_dict(run.cfg.data), "name": base, "split": split or DEFAULT_SPLIT, "limit": 0,
             **({"path": data_dir} if data_dir else {})}
    return build_dataclass(DataConfig, table, "data")


def translation_rows_of_run(run: LoadedRun, n: int, seed: int, split: str = DEFAULT_SPLIT,
                            data_dir: str | None = None, use_ema: bool = True) -> torch.Tensor:
    """``gankit sample`` on a translation run: input | output | target rows ``(3n, C, H, W)`` of
    ``n`` test pairs drawn with ``seed`` (as ``translation_samples``)."""
    samples = translation_samples(run, n, seed, split, data_dir, use_ema)
    return translation_rows(samples.extra["inputs"], samples.x, samples.extra["targets"])

