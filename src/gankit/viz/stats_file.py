"""Reading ``stats.jsonl`` written by the trainer's reporter.

One JSON object per line, e.g. ``{"step": 10, "time": 3.2, "Loss/D": 1.31, "Loss/G": 0.72}``.
``step`` is always present; any other key may be missing from a line. A malformed *final*
line is what a process killed mid-write leaves behind and is ignored; a malformed line
anywhere else raises :class:`~gankit.errors.DataError` naming the file and line number.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from gankit.errors import DataError

__all__ = ["read_stats", "stat_series", "stat_keys"]

_RESERVED = ("step",)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def read_stats(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return the records of a stats file in file order.

    Blank lines are skipped. The last non-blank line is dropped if it is not valid JSON
    (truncated write). Every other line must be a JSON object with a numeric ``step``,
    else ``DataError("<path>:<line>: ...")`` (line numbers start at 1).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{p}: stats file not found") from None
    except IsADirectoryError:
        raise DataError(f"{p}: is a directory, expected a stats.jsonl file") from None

    lines = raw.split(b"\n")
    non_blank = [i for i, line in enumerate(lines) if line.strip()]
    last = non_blank[-1] if non_blank else -1

    records: list[dict[str, Any]] = []
    for i in non_blank:
        lineno = i + 1
        try:
            obj = json.loads(lines[i].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if i == last:
                break  # truncated final record: the writer was killed mid-line
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid UTF-8"
            raise DataError(f"{p}:{lineno}: malformed line in stats file ({reason})") from None
        if not isinstance(obj, dict):
            raise DataError(
                f"{p}:{lineno}: expected a JSON object per line, got {type(obj).__name__}"
            )
        if "step" not in obj:
            raise DataError(f"{p}:{lineno}: record has no 'step' key")
        if not _is_number(obj["step"]):
            raise DataError(f"{p}:{lineno}: 'step' must be a number, got {obj['step']!r}")
        records.append(obj)
    return records


def stat_keys(records: list[dict[str, Any]], prefix: str = "") -> list[str]:
    """Keys starting with ``prefix`` that hold numbers (or null), in order of first
    appearance; ``step`` is never included."""
    seen: dict[str, None] = {}
    for rec in records:
        for key, value in rec.items():
            if key in _RESERVED or key in seen or not key.startswith(prefix):
                continue
            if _is_number(value) or value is None:
                seen[key] = None
    # a key that is numeric in one record but e.g. a string in another is not a series
    return [k for k in seen if all(_is_number(r.get(k)) or r.get(k) is None for r in records)]


def stat_series(
    records: list[dict[str, Any]], key: str, *, dedupe: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` as float64 arrays over the records that contain ``key``.

    ``null`` becomes NaN. With ``dedupe=True`` the result is sorted by step and, where a
    step occurs more than once (a run resumed from an earlier checkpoint), the last
    record in the file wins. A key absent everywhere gives two empty arrays; a
    non-numeric value raises ``DataError``.
    """
    steps: list[float] = []
    values: list[float] = []
    for rec in records:
        if key not in rec:
            continue
        value = rec[key]
        if value is None:
            value = math.nan
        elif not _is_number(value):
            raise DataError(
                f"stat {key!r} at step {rec.get('step')!r} is not a number: {value!r}"
            )
        steps.append(float(rec["step"]))
        values.append(float(value))
    s = np.asarray(steps, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if dedupe and s.size:
        last_of: dict[float, int] = {}
        for idx, step in enumerate(s.tolist()):
            last_of[step] = idx
        keep = np.array(sorted(last_of.values(), key=lambda j: s[j]), dtype=np.int64)
        s, v = s[keep], v[keep]
    return s, v
