"""One reporter for every statistic (DESIGN.md item 11): ``report(name, value)``.

Values are accumulated as detached tensors (no host sync inside the step) and averaged
into one ``stats.jsonl`` line per logging interval. TensorBoard is an optional sink.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import defaultdict
from typing import IO

import torch

from gankit.errors import ConfigError


def tensorboard_writer_class() -> type:
    """TensorBoard's SummaryWriter, or a ConfigError when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is an optional dependency
        raise ConfigError("train.tensorboard=true needs the tensorboard package (pip install tensorboard)") from None
    return SummaryWriter


class Reporter:
    def __init__(self, path: str | None = None, tensorboard_dir: str | None = None) -> None:
        self._sums: dict[str, list[torch.Tensor | float]] = defaultdict(list)
        self._fh: IO[str] | None = open(path, "a", encoding="utf-8") if path else None
        self._tb = None
        if tensorboard_dir:
            self._tb = tensorboard_writer_class()(tensorboard_dir)
        self.latest: dict[str, float] = {}
        self._start = time.perf_counter()

    def report(self, name: str, value: torch.Tensor | float) -> None:
        if isinstance(value, torch.Tensor):
            value = value.detach()
        self._sums[name].append(value)

    def flush(self, step: int) -> dict[str, float]:
        """Average what was reported since the last flush and append one JSON line."""
        record: dict[str, float] = {}
        for name, values in self._sums.items():
            tensors = [torch.as_tensor(v, dtype=torch.float32).cpu() for v in values]
            record[name] = float(torch.stack(tensors).float().mean())
        self._sums.clear()
        self.latest.update(record)
        line = {"step": step, "time": round(time.perf_counter() - self._start, 3)}
        line.update({k: (v if math.isfinite(v) else None) for k, v in sorted(record.items())})
        if self._fh is not None:
            self._fh.write(json.dumps(line) + "\n")
            self._fh.flush()
        if self._tb is not None:
            for k, v in record.items():
                self._tb.add_scalar(k, v, step)
        return record

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
