"""Typed, frozen experiment configuration.

A config is a tree of frozen dataclasses. Presets are TOML files whose tables mirror the
tree (``[data]``, ``[model]``, ``[recipe]``, ``[optim]``, ``[train]``); command-line
overrides are ``section.key=value``. Unknown keys, wrong types and invalid choices raise
``ConfigError``. The ``[recipe]`` table is validated by the chosen recipe's own dataclass and
``[model]`` by the chosen network family's, so a new recipe or family brings its own options
without touching this file (this module imports neither: see ``Schema``).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Callable, Literal, get_args, get_origin, get_type_hints

from gankit.errors import ConfigError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


MAX_SEED = 2**32  # seeds are offset per stream (grid, ranks) and must stay inside torch's 64-bit range


def _check(obj: Any, section: str, key: str, ok: Callable[[Any], bool], want: str) -> None:
    """Raise ``ConfigError`` unless ``obj.key`` is finite and ``ok(value)``: one line naming the key."""
    value = getattr(obj, key)
    finite = not isinstance(value, float) or math.isfinite(value)
    if not (finite and ok(value)):
        raise ConfigError(f"{section}.{key} must be {want}, got {value!r}")


@dataclass(frozen=True)
class DataConfig:
    name: str = "digits"  # registered dataset (`gankit datasets` lists them)
    split: Literal["train", "test", "all"] = "train"  # which split of a dataset that has splits
    resolution: int = 0  # image side after resizing; 0 keeps the native size
    n_samples: int = 100_000  # points drawn once for the synthetic 2-D toys
    limit: int = 0  # use only the first N examples (0 = all); for quick runs
    path: str = ""  # data directory (MNIST-format files) or image folder; "" = search order
    download: bool = True  # download MNIST-format files from the official mirrors if absent
    seed: int = 0  # seed of the synthetic data (independent of the training seed)
    path_b: str = ""  # second image folder: paired-images targets B (names as in data.path); unpaired domain B
    channels: int = 0  # paired/unpaired images: force 1 (grayscale) or 3 (RGB) channels; 0 = as stored, mixed = error
    domains: tuple[str, ...] = ()  # unpaired-images: two registered datasets (A, B) instead of folders (mnist,digits)
    seq_len: int = 0  # sequences: max tokens per text line, time steps, video frames; 0 = the source's own
    seq_features: int = 0  # built-in continuous sequences (sines): features per step; 0 = 5
    tokenize: Literal["char", "word"] = "char"  # text file: one token per character or per whitespace-separated word
    columns: str = ""  # CSV table: "name:continuous,name:categorical,..." (kept, in order); "" = all, types inferred
    clip_digits: int = 2  # moving digits: digits bouncing in each clip
    digit_box: int = 0  # mnist2digits: side of the centred box the 8x8 digits fill (MNIST's: 20); 0 = whole frame


@dataclass(frozen=True)
class OptimConfig:
    name: Literal["adam", "rmsprop", "sgd"] = "adam"
    lr_g: float = 2e-4  # generator learning rate (TTUR: set lr_g != lr_d)
    lr_d: float = 2e-4  # discriminator learning rate
    beta1: float = 0.5  # Adam beta1 (DCGAN paper: 0.5)
    beta2: float = 0.999  # Adam beta2
    weight_decay: float = 0.0
    fused: bool = True  # fused single-kernel Adam/optimizer step where torch supports it
    lr_decay: Literal["constant", "linear"] = "constant"  # linear: lr falls linearly to 0 at train.steps
    decay_start: float = 0.5  # linear decay: fraction of train.steps after which the lr starts falling

    def __post_init__(self) -> None:
        for key in ("lr_g", "lr_d"):
            _check(self, "optim", key, lambda v: v > 0, "a finite number > 0")
        for key in ("beta1", "beta2"):  # torch's Adam refuses anything else
            _check(self, "optim", key, lambda v: 0 <= v < 1, "in [0, 1)")
        _check(self, "optim", "weight_decay", lambda v: v >= 0, "a finite number >= 0")
        _check(self, "optim", "decay_start", lambda v: 0 <= v < 1, "in [0, 1)")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000  # generator steps (one step = n_critic D updates + 1 G update)
    batch_size: int = 64
    seed: int = 0  # seeds torch, numpy, python and the data order
    device: str = "cpu"  # cpu | cuda | cuda:N | mps
    amp: bool = False  # autocast mixed precision where the device supports it
    ema_decay: float = 0.999  # EMA of generator weights used for sampling (0 disables)
    ema_start: int = 0  # step from which the EMA tracks the generator (copy before that)
    ema_bn_batches: int = 32  # G(z) batches re-estimating the EMA nets' BatchNorm statistics (0: copy the live net's)
    log_every: int = 10  # steps between stats.jsonl records
    sample_every: int = 500  # steps between sample grids (0 disables)
    checkpoint_every: int = 500  # steps between checkpoints (0: only at the end)
    n_grid: int = 64  # samples in each grid (fixed latent batch)
    out_dir: str = "runs"  # parent of the run directory
    run_name: str = ""  # run directory name; "" = preset name + timestamp
    progress: bool = True  # show a progress bar
    tensorboard: bool = False  # also write every logged stat to RUN_DIR/tensorboard (needs tensorboard)
    threads: Literal["auto"] | int = "auto"  # torch intra-op threads: auto = 1 for small models, else allowed cores
    sync_bn: bool = True  # on several processes: BatchNorm statistics over the global batch (false: each rank's share)
    on_nonfinite: Literal["stop", "skip", "rollback"] = "stop"  # on a NaN/Inf loss or gradient
    max_rollbacks: int = 3  # on_nonfinite=rollback: reloads of the last checkpoint (lr x0.5 each) before stopping

    def __post_init__(self) -> None:
        for key in ("steps", "batch_size", "log_every", "n_grid", "max_rollbacks"):
            _check(self, "train", key, lambda v: v >= 1, "an integer >= 1")
        for key in ("ema_start", "ema_bn_batches", "sample_every", "checkpoint_every"):
            _check(self, "train", key, lambda v: v >= 0, "an integer >= 0")
        _check(self, "train", "seed", lambda v: 0 <= v < MAX_SEED, "an integer in [0, 2**32)")
        _check(self, "train", "ema_decay", lambda v: 0 <= v < 1, "in [0, 1) (0 disables the EMA)")
        _check(self, "train", "threads", lambda v: v == "auto" or (type(v) is int and v >= 1), '"auto" or an int >= 1')


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = "experiment"  # preset name
    description: str = ""  # one line shown by `gankit presets`
    data: DataConfig = field(default_factory=DataConfig)
    model: Any = None  # the chosen network family's own frozen dataclass (has `arch` and `d_arch` fields)
    recipe: Any = None  # the chosen recipe's own frozen dataclass (has a `name` field)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# --------------------------------------------------------------------------- parsing


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert ``value`` (from TOML or a ``key=value`` string) to the annotated type ``tp``."""
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if isinstance(value, str) and value in choices:
            return value
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, choices))}")
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in get_args(tp):
                return None
        errors = []
        for arg in args:
            try:
                return coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: cannot parse {value!r}")
    if origin in (tuple, list):
        item_types = get_args(tp)
        if isinstance(value, str):
            value = [v.strip() for v in value.strip("[]()").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and item_types and item_types[-1] is not Ellipsis:
            if len(value) != len(item_types):
                raise ConfigError(f"{where}: expected {len(item_types)} values, got {len(value)}")
            return tuple(coerce(v, t, where) for v, t in zip(value, item_types))
        item = item_types[0] if item_types else str
        out = [coerce(v, item, where) for v in value]
        return tuple(out) if origin is tuple else out
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if tp is Any:
        return value
    raise ConfigError(f"{where}: unsupported type {_type_name(tp)}")  # pragma: no cover


def _shown(key: Any) -> str:
    """A key as an error message shows it: plain if it is a name, else quoted (one line, always)."""
    return key if isinstance(key, str) and key.isidentifier() else repr(key)


def build_dataclass(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate frozen dataclass ``cls`` from a flat dict; unknown keys are errors."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a table, got {values!r}")
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"unknown key {where}.{_shown(unknown[0])} (valid keys: {', '.join(sorted(names))})"
        )
    kwargs = {k: coerce(v, hints[k], f"{where}.{k}") for k, v in values.items()}
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate()
    return obj


def to_dict(obj: Any) -> Any:
    """A JSON-ready nested dict of a config tree."""
    if is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    return obj


_SECTIONS = {"data": DataConfig, "optim": OptimConfig, "train": TrainConfig}


@dataclass(frozen=True)
class Schema:
    """Where the open sections of the tree get their classes: ``recipe_config(name)`` is the
    config class of recipe ``name``; ``model_config(arch, d_arch)`` that of the network
    family ``arch`` with discriminator ``d_arch``. Each raises ``ConfigError`` for an unknown
    name. ``check(cfg)`` validates across sections once everything is typed (a recipe
    refusing a discriminator whose output it cannot read)."""

    recipe_config: Callable[[str], type]
    model_config: Callable[[str, str], type]
    check: Callable[[ExperimentConfig], None] = lambda cfg: None


def config_from_tree(tree: dict[str, Any], schema: Schema) -> ExperimentConfig:
    """Build an ``ExperimentConfig`` from a nested dict (a parsed preset or config.json);
    ``gankit.experiment.config_from_dict`` calls this with the registered recipes and families."""
    if not isinstance(tree, dict):
        raise ConfigError("a config must be a table")
    allowed = {"name", "description", "recipe", "model", *_SECTIONS}
    unknown = sorted(set(tree) - allowed)
    if unknown:
        raise ConfigError(f"unknown key {_shown(unknown[0])} (valid: {', '.join(sorted(allowed))})")
    kwargs: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in tree:
            kwargs[key] = coerce(tree[key], str, key)
    for key, cls in _SECTIONS.items():
        kwargs[key] = build_dataclass(cls, tree.get(key, {}), key)
    model_table = _table(tree.get("model", {}), "model")
    arch = coerce(model_table.get("arch", "dcgan"), str, "model.arch")
    d_arch = coerce(model_table.get("d_arch", "default"), str, "model.d_arch")
    kwargs["model"] = build_dataclass(
        schema.model_config(arch, d_arch), {**model_table, "arch": arch, "d_arch": d_arch}, "model"
    )
    recipe_table = _table(tree.get("recipe", {}), "recipe")
    recipe_name = coerce(recipe_table.get("name", "gan"), str, "recipe.name")
    recipe_table["name"] = recipe_name
    kwargs["recipe"] = build_dataclass(schema.recipe_config(recipe_name), recipe_table, "recipe")
    cfg = ExperimentConfig(**kwargs)
    schema.check(cfg)
    return cfg


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table, got {value!r}")
    return dict(value)


def parse_override(text: str) -> tuple[list[str], str]:
    """``"train.steps=100"`` -> (["train", "steps"], "100")."""
    key, sep, value = text.partition("=")
    path = key.strip().split(".")
    if not sep or len(path) < 2 or not all(path):
        raise ConfigError(f"override {text!r} must look like section.key=value (e.g. train.steps=100)")
    return path, value.strip()


def apply_overrides(tree: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``tree`` with ``section.key=value`` strings applied (typed later)."""
    if not isinstance(tree, dict):
        raise ConfigError("a config must be a table")
    out = copy.deepcopy(tree)  # any TOML value (a date too): typing refuses what fits no field
    for text in overrides:
        path, value = parse_override(text)
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {text!r}: {part} is not a section")
        node[path[-1]] = value
    return out


def load_toml(path: str) -> dict[str, Any]:
    """Parse a preset file; a missing, unreadable, non-UTF-8 or invalid file is one ``ConfigError``."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a UTF-8 text file (byte {exc.start}): is it a TOML preset?") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def replace(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-exported for frozen configs."""
    return dataclasses.replace(obj, **changes)
