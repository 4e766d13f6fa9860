"""Rows of a table run as CSV: what ``gankit sample RUN --out rows.csv [--condition col=value]`` writes."""

from __future__ import annotations

import csv
from typing import Any, Mapping, Sequence

from gankit.atomic import atomic_write
from gankit.errors import ConfigError


def parse_condition(text: str) -> tuple[str, str]:
    """``"sex=F"`` -> ``("sex", "F")``; ``ConfigError`` without ``=`` or a column name."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--condition must look like column=value, got {text!r}")
    return name.strip(), value.strip()


def write_table_csv(table: Mapping[str, Sequence[Any]], path: str) -> None:
    """``{column: values}`` as a CSV file with a header row, written atomically."""
    names = list(table)
    n = len(table[names[0]]) if names else 0
    with atomic_write(path, "w") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for i in range(n):
            writer.writerow([table[name][i] for name in names])


def sample_table_of_run(run: Any, n: int, seed: int, condition: str | None = None, use_ema: bool = True) -> dict:
    """``n`` rows of a loaded table run (``LoadedRun``) drawn with ``seed``, optionally conditioned."""
    parsed = parse_condition(condition) if condition is not None else None
    return run.recipe.sample_table(run.nets(use_ema), n, seed, parsed)
