"""An in-memory batch loader whose order is a pure function of (seed, group, epoch, position).

Every group of a ``Dataset`` is shuffled with its own order and advanced one batch per
``next()``; a group that runs out starts its next epoch on its own. Because each order is
derived, not stored, the whole state is a few integers: resuming from a checkpoint continues
with exactly the batches an uninterrupted run would have drawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from gankit.data.base import INDEX_FIELD, Dataset, Field, LazyField, take
from gankit.errors import CheckpointError, ConfigError


class Batch:
    """One batch: named tensors, each ``(B, ...)``.

    ``Batch(x)``, ``Batch(x, y)`` and ``Batch(x, y, index)`` make the fields ``x``, ``y``
    (int64 labels) and ``index`` (int64 positions of the examples in the dataset) of one-group
    data; ``Batch(fields={...})`` any fields. The loader names the positions of group ``g``
    ``index_<g>`` (``index`` for the primary group).
    """

    __slots__ = ("fields",)

    def __init__(
        self,
        x: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        index: torch.Tensor | None = None,
        *,
        fields: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        named = {"x": x, "y": y, INDEX_FIELD: index}
        self.fields: dict[str, torch.Tensor] = {k: v for k, v in named.items() if v is not None}
        for k, v in (fields or {}).items():
            if k in self.fields:
                raise TypeError(f"Batch got field {k!r} twice (positionally and in fields)")
            self.fields[k] = v

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"batch has no field {name!r} (fields: {', '.join(self.fields) or 'none'})") from None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def replace(self, **fields: torch.Tensor | None) -> Batch:
        """A new batch with ``fields`` set (a value of None removes that field)."""
        merged = {**self.fields, **fields}
        return Batch(fields={k: v for k, v in merged.items() if v is not None})

    def to(self, device: torch.device | str) -> Batch:
        return Batch(fields={k: v.to(device) for k, v in self.fields.items()})

    @property
    def x(self) -> torch.Tensor:  # (B, C, H, W) or (B, D)
        return self["x"]

    @property
    def y(self) -> torch.Tensor | None:  # (B,) int64 labels when the data has them
        return self.fields.get("y")

    @property
    def index(self) -> torch.Tensor | None:  # (B,) int64 positions of the examples in the dataset
        return self.fields.get(INDEX_FIELD)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self.fields.items())
        return f"Batch({shapes})"


def group_seed_offset(group: str) -> int:
    """A group's shuffle-seed offset: the first 8 bytes of sha256(name) as an integer below
    2**62 (stable across processes, unlike Python's salted ``hash``)."""
    return int.from_bytes(hashlib.sha256(group.encode("utf-8")).digest()[:8], "big") >> 2


class EpochLoader:
    """Reshuffles every group every epoch and drops each group's last incomplete batch.

    The order of group ``g`` in epoch ``e`` is ``randperm(N_g)`` seeded with
    ``seed * 1_000_003 + e`` for the primary group (so one-group runs replay older ones bit
    for bit) and with that plus ``group_seed_offset(g)`` (mod 2**63) for the others. Lazy
    fields are rendered per batch, then moved to the device.

    ``shard=(r, W)`` (data-parallel training): ``batch_size`` is the global batch and ``next()``
    returns rows ``[r·B/W, (r+1)·B/W)`` of the global batch that one process would draw, so the
    ``W`` shares of a step are exactly the one-process batch and the state does not depend on ``W``.
    """

    _EPOCH_STRIDE = 1_000_003  # decorrelates the per-epoch shuffles of nearby seeds

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, device: torch.device,
                 shard: tuple[int, int] = (0, 1)) -> None:
        if batch_size < 1:
            raise ConfigError(f"train.batch_size must be >= 1, got {batch_size}")
        rank, size = shard
        if batch_size % size:
            raise ConfigError(f"train.batch_size={batch_size} must be divisible by the number of processes ({size})")
        self.share = batch_size // size
        self.share_start = rank * self.share
        for g in dataset.groups:
            n = dataset.group_len(g)
            if n < batch_size:
                which = "" if len(dataset.groups) == 1 else f" group {g!r}"
                raise ConfigError(
                    f"dataset {dataset.name!r}{which} has {n} examples, fewer than train.batch_size={batch_size}"
                )
        self.device = device
        self.primary = dataset.primary_group
        self.groups = list(dataset.groups)
        self.fields: dict[str, dict[str, Field]] = {
            g: {k: v if isinstance(v, LazyField) else v.to(device) for k, v in fields.items()}
            for g, fields in dataset.groups.items()
        }
        self.sizes = {g: dataset.group_len(g) for g in self.groups}
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = {g: 0 for g in self.groups}
        self.position = {g: 0 for g in self.groups}
        self._order = {g: self._permutation(g, 0) for g in self.groups}

    def batches_per_epoch(self, group: str | None = None) -> int:
        return self.sizes[group or self.primary] // self.batch_size

    def _permutation(self, group: str, epoch: int) -> torch.Tensor:
        seed = self.seed * self._EPOCH_STRIDE + epoch
        if group != self.primary:
            seed = (seed + group_seed_offset(group)) % 2**63
        gen = torch.Generator().manual_seed(seed)
        return torch.randperm(self.sizes[group], generator=gen).to(self.device)  # (N_g,)

    def next(self) -> Batch:
        out: dict[str, torch.Tensor] = {}
        for g in self.groups:
            if self.position[g] >= self.batches_per_epoch(g):
                self.epoch[g] += 1
                self.position[g] = 0
                self._order[g] = self._permutation(g, self.epoch[g])
            start = self.position[g] * self.batch_size
            idx = self._order[g][start : start + self.batch_size]  # (B,) the global batch
            idx = idx[self.share_start : self.share_start + self.share]  # (B/W,) this process's rows
            self.position[g] += 1
            for name, field in self.fields[g].items():
                out[name] = take(field, idx).to(self.device)  # (B, ...)
            out[INDEX_FIELD if g == self.primary else f"{INDEX_FIELD}_{g}"] = idx
        return Batch(fields=out)

    def state_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "groups": {g: {"epoch": self.epoch[g], "position": self.position[g]} for g in self.groups},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s output; also the one-group ``{"epoch", "position", "seed"}``
        of older checkpoints (it becomes the primary group's state)."""
        groups = state.get("groups", {self.primary: state})
        if set(groups) != set(self.groups):
            raise CheckpointError(
                f"loader state has groups {sorted(groups)} but dataset has {sorted(self.groups)}"
            )
        self.seed = int(state["seed"])
        for g in self.groups:
            self.epoch[g] = int(groups[g]["epoch"])
            self.position[g] = int(groups[g]["position"])
            self._order[g] = self._permutation(g, self.epoch[g])
