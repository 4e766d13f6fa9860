"""One reporter for every statistic: ``report(name, value)``.

Values are accumulated as detached tensors (no host sync inside the step) and averaged
into one ``stats.jsonl`` line per logging interval. TensorBoard is an optional sink.
``repair_stats_file`` trims the file to a checkpoint's step before a resumed run appends.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import IO, Callable, Iterator

import torch

from gankit.atomic import atomic_write
from gankit.errors import ConfigError
from gankit.faults import fault_point


def tensorboard_writer_class() -> type:
    """TensorBoard's SummaryWriter, or a ConfigError when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is an optional dependency
        raise ConfigError("train.tensorboard=true needs the tensorboard package (pip install tensorboard)") from None
    return SummaryWriter


def _record_step(line: bytes) -> float | None:
    """The ``step`` of one stats line, or None when the line is not a JSON object with a numeric step."""
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    step = record.get("step") if isinstance(record, dict) else None
    return float(step) if isinstance(step, (int, float)) and not isinstance(step, bool) else None


def repair_stats_file(path: str, step: int) -> int:
    """Make the stats file at ``path`` the log of a run at ``step``, before it appends more.

    Keeps, byte for byte and in order, the newline-terminated lines that are JSON objects
    with ``"step" <= step``, steps strictly increasing; drops the rest: a partial last line
    (a kill while the reporter wrote it), lines logged past the checkpoint a run resumes from
    (the resumed run logs those steps again), any other unreadable line, and, where a line's
    step is not above the line before it (a file an older gankit appended to after such a
    kill), the earlier lines from that step on (the later ones are the resumed run's). The
    file is rewritten atomically, and only when something is dropped; a missing file is left
    missing. Returns the number of lines dropped.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return 0
    *lines, tail = raw.split(b"\n")  # tail: b"" when the last line is whole
    kept: list[tuple[float, bytes]] = []
    for line in lines:
        s = _record_step(line)
        if s is None or s > step:
            continue
        while kept and kept[-1][0] >= s:
            kept.pop()
        kept.append((s, line))
    if len(kept) == len(lines) and not tail:
        return 0
    with atomic_write(path, "wb") as fh:
        fh.write(b"".join(line + b"\n" for _, line in kept))
    return len(lines) - len(kept) + (1 if tail else 0)


class Reporter:
    """Accumulates reported values; ``combine`` (if given) maps each flushed record before it is
    written (a several-process run averages it over ranks)."""

    def __init__(self, path: str | None = None, tensorboard_dir: str | None = None,
                 combine: Callable[[dict[str, float]], dict[str, float]] | None = None) -> None:
        self._combine = combine
        self._sums: dict[str, list[torch.Tensor | float]] = defaultdict(list)
        self.path = path
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
        if self._combine is not None:
            record = self._combine(record)
        self.latest.update(record)
        line = {"step": step, "time": round(time.perf_counter() - self._start, 3)}
        line.update({k: (v if math.isfinite(v) else None) for k, v in sorted(record.items())})
        if self._fh is not None:
            text = json.dumps(line) + "\n"
            half = len(text) // 2
            with self._naming_the_file():
                self._fh.write(text[:half])
                fault_point("stats.flush", self._fh)  # a test can kill the process here, mid-line
                self._fh.write(text[half:])
                self._fh.flush()
        if self._tb is not None:
            for k, v in record.items():
                self._tb.add_scalar(k, v, step)
        return record

    @contextmanager
    def _naming_the_file(self) -> Iterator[None]:
        """A write error (a full disk) names the stats file."""
        try:
            yield
        except OSError as exc:
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), self.path) from exc

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            with self._naming_the_file():
                try:
                    fh.flush()
                    os.fsync(fh.fileno())
                finally:
                    fh.close()
        if self._tb is not None:
            self._tb.close()
            self._tb = None
