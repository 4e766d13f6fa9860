"""The dataset every loader returns: groups of named fields, held in memory; and the registry.

A ``Dataset`` is one or more *groups*, each a dict of named *fields* that share their first
dimension (the examples of that group). One group is the usual case (``"main"``: ``x`` and,
when labelled, ``y``); paired image translation keeps input ``a`` and target ``b`` in one
group, unpaired translation puts domain ``a`` and domain ``b`` in two groups of possibly
different sizes, which the loader shuffles independently.

A field is a tensor ``(N, *shape)``, or a ``LazyField`` that renders examples on demand,
deterministically per index (e.g. video frames drawn from a seed). Out of scope: data that
does not fit in memory; a lazy field is rendered from small in-memory state, not streamed
from disk.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from gankit.config import DataConfig
from gankit.errors import DataError
from gankit.registry import Registry

PRIMARY_GROUP = "main"  # the group the old ``Dataset(name, x, y)`` constructor makes
INDEX_FIELD = "index"  # the loader adds ``index`` (primary group) and ``index_<group>`` (others)


class LazyField(abc.ABC):
    """A field whose examples are rendered on demand instead of stored.

    Subclasses give ``__len__`` (examples), ``shape`` (per example, without the batch
    dimension), ``dtype`` and ``take(idx)``: a CPU tensor ``(len(idx), *shape)`` of ``dtype``
    that is a pure function of the indices (the same index always renders the same example),
    so the loader's derived order and exact resume hold for lazy data too.
    """

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, ...]: ...

    @property
    @abc.abstractmethod
    def dtype(self) -> torch.dtype: ...

    @abc.abstractmethod
    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """Examples ``idx`` (int64 ``(B,)``) as a tensor ``(B, *shape)``."""

    def materialise(self) -> torch.Tensor:
        """Every example as one tensor ``(N, *shape)``."""
        return self.take(torch.arange(len(self)))


Field = torch.Tensor | LazyField


def field_len(field: Field) -> int:
    """Number of examples of a tensor or lazy field."""
    return len(field) if isinstance(field, LazyField) else int(field.shape[0])


def example_shape(field: Field) -> tuple[int, ...]:
    """Per-example shape of a field (a tensor's shape without its first dimension)."""
    return tuple(field.shape) if isinstance(field, LazyField) else tuple(field.shape[1:])


def take(field: Field, idx: torch.Tensor) -> torch.Tensor:
    """Examples ``idx`` of a field: ``index_select`` on a tensor (on its device), ``take`` on a
    lazy field (indices moved to the CPU; the result is on the CPU)."""
    if isinstance(field, LazyField):
        return field.take(idx.cpu())
    return field.index_select(0, idx)


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"`` (the inverse of ``getattr(torch, name)``)."""
    return str(dtype).removeprefix("torch.")


@dataclass(frozen=True)
class FieldSpec:
    """What a recipe may know about one field without the data: its per-example shape, its
    dtype name (``"float32"``, ``"int64"``, ...) and the group holding it."""

    shape: tuple[int, ...]
    dtype: str
    group: str

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    def to_json(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype, "group": self.group}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FieldSpec:
        """Inverse of ``to_json``; ``DataError`` for anything else."""
        try:
            spec = cls(tuple(int(s) for s in obj["shape"]), str(obj["dtype"]), str(obj["group"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"field spec {obj!r} is not {{shape, dtype, group}} ({exc})") from None
        if not isinstance(getattr(torch, spec.dtype, None), torch.dtype):
            raise DataError(f"field spec {obj!r}: unknown dtype {spec.dtype!r}")
        return spec


class Dataset:
    """Examples held in memory as named fields in one or more groups.

    Images are float32 ``(N, C, H, W)`` scaled to [-1, 1]; vectors (2-D toys, tables) are
    float32 ``(N, D)``; class labels are int64 ``(N,)``. Synthetic mixtures expose their true
    mode centres ``(K, D)`` and per-mode std. ``meta`` holds JSON-able extras (a vocabulary,
    a table schema, ...).

    ``Dataset(name, x, y, num_classes=...)`` makes the one group ``"main"`` with fields ``x``
    (and ``y``); ``Dataset(name, groups={...})`` gives the groups directly. The *primary
    field* is ``x`` if present, else the first field of the first group; its group is the
    *primary group*, whose size is ``len(dataset)``.
    """

    def __init__(
        self,
        name: str,
        x: Field | None = None,
        y: torch.Tensor | None = None,
        num_classes: int = 0,
        class_names: tuple[str, ...] = (),
        mode_centres: torch.Tensor | None = None,
        mode_std: float | None = None,
        *,
        groups: Mapping[str, Mapping[str, Field]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if groups is None:
            if x is None:
                raise DataError(f"dataset {name!r}: give x (and y) or groups")
            groups = {PRIMARY_GROUP: {"x": x} if y is None else {"x": x, "y": y}}
        elif x is not None or y is not None:
            raise DataError(f"dataset {name!r}: give either x/y or groups, not both")
        self.name = name
        self.groups: dict[str, dict[str, Field]] = {g: dict(fields) for g, fields in groups.items()}
        self.num_classes = num_classes
        self.class_names = tuple(class_names)
        self.mode_centres = mode_centres
        self.mode_std = mode_std
        self.meta: dict[str, Any] = dict(meta or {})
        self._validate()

    def _validate(self) -> None:
        where = f"dataset {self.name!r}"
        if not self.groups:
            raise DataError(f"{where} has no groups")
        owner: dict[str, str] = {}
        for g, fields in self.groups.items():
            if not isinstance(g, str) or not g:
                raise DataError(f"{where}: group names must be non-empty strings, got {g!r}")
            if not fields:
                raise DataError(f"{where}: group {g!r} has no fields")
            first, n = None, 0
            for f, value in fields.items():
                if f == INDEX_FIELD or f.startswith(INDEX_FIELD + "_"):
                    raise DataError(f"{where}: field name {f!r} is reserved for the loader's example positions")
                if f in owner:
                    raise DataError(f"{where}: field {f!r} is in both group {owner[f]!r} and group {g!r}")
                owner[f] = g
                if not isinstance(value, LazyField) and not (isinstance(value, torch.Tensor) and value.ndim >= 1):
                    raise DataError(f"{where}: field {f!r} must be a tensor (N, ...) or a LazyField, got {value!r}")
                if first is None:
                    first, n = f, field_len(value)
                elif field_len(value) != n:
                    raise DataError(
                        f"{where}: group {g!r}: field {f!r} has {field_len(value)} examples but {first!r} has {n}"
                    )
        try:
            json.dumps(self.meta)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where}: meta must be JSON-able ({exc})") from None

    # ------------------------------------------------------------------ lookup

    def group_of(self, name: str) -> str | None:
        """The group holding field ``name`` (None when no group has it)."""
        return next((g for g, fields in self.groups.items() if name in fields), None)

    def field(self, name: str) -> Field | None:
        """The field called ``name``, wherever it is; None when absent."""
        g = self.group_of(name)
        return None if g is None else self.groups[g][name]

    @property
    def primary_field(self) -> str:
        """``x`` if present, else the first field of the first group."""
        if self.group_of("x") is not None:
            return "x"
        return next(iter(next(iter(self.groups.values()))))

    @property
    def primary_group(self) -> str:
        return self.group_of(self.primary_field)  # type: ignore[return-value]

    @property
    def x(self) -> Field | None:
        return self.field("x")

    @property
    def y(self) -> Field | None:
        return self.field("y")

    def group_len(self, group: str) -> int:
        """Examples in ``group`` (all its fields share this first dimension)."""
        return field_len(next(iter(self.groups[group].values())))

    def __len__(self) -> int:
        return self.group_len(self.primary_group)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Per-example shape of the primary field."""
        return example_shape(self.groups[self.primary_group][self.primary_field])

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3

    def field_specs(self) -> dict[str, FieldSpec]:
        """Every field's per-example shape, dtype name and group, in group then field order."""
        return {
            f: FieldSpec(example_shape(value), dtype_name(value.dtype), g)
            for g, fields in self.groups.items()
            for f, value in fields.items()
        }

    def __repr__(self) -> str:
        specs = self.field_specs()
        groups = {g: {f: (s.shape, s.dtype) for f, s in specs.items() if s.group == g} for g in self.groups}
        return f"Dataset({self.name!r}, groups={groups}, num_classes={self.num_classes})"


DatasetBuilder = Callable[[DataConfig], Dataset]
DATASETS: Registry[DatasetBuilder] = Registry("dataset")


def build_dataset(cfg: DataConfig) -> Dataset:
    """Build the dataset named by ``cfg.name`` (raises ``ConfigError`` if unknown)."""
    return DATASETS.get(cfg.name)(cfg)
