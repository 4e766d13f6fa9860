"""An in-memory batch loader whose order is a pure function of (seed, epoch, position).

Because the order is derived, not stored, its whole state is two integers: resuming from
a checkpoint continues with exactly the batches an uninterrupted run would have drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.data.base import Dataset
from gankit.errors import ConfigError


@dataclass
class Batch:
    x: torch.Tensor  # (B, C, H, W) or (B, D)
    y: torch.Tensor | None = None  # (B,) int64 labels when the data has them
    index: torch.Tensor | None = None  # (B,) int64 positions of the examples in the dataset


class EpochLoader:
    """Reshuffles every epoch and drops the last incomplete batch."""

    _EPOCH_STRIDE = 1_000_003  # decorrelates the per-epoch shuffles of nearby seeds

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, device: torch.device) -> None:
        if batch_size < 1:
            raise ConfigError(f"train.batch_size must be >= 1, got {batch_size}")
        if len(dataset) < batch_size:
            raise ConfigError(
                f"dataset {dataset.name!r} has {len(dataset)} examples, fewer than "
                f"train.batch_size={batch_size}"
            )
        self.x = dataset.x.to(device)
        self.y = dataset.y.to(device) if dataset.y is not None else None
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0
        self.position = 0
        self.batches_per_epoch = len(dataset) // batch_size
        self._order = self._permutation(self.epoch)

    def _permutation(self, epoch: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed * self._EPOCH_STRIDE + epoch)
        return torch.randperm(self.x.shape[0], generator=gen).to(self.x.device)

    def next(self) -> Batch:
        if self.position >= self.batches_per_epoch:
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position * self.batch_size
        idx = self._order[start : start + self.batch_size]
        self.position += 1
        y = None if self.y is None else self.y.index_select(0, idx)
        return Batch(self.x.index_select(0, idx), y, idx)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed = int(state["seed"])
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self._order = self._permutation(self.epoch)
