"""What every benchmark script does with its results: one JSON line per finished run in
``<out>/runs.jsonl`` (so a partial sweep keeps its runs), one line per invocation in
``<out>/commands.jsonl`` (command + machine), and a markdown table in ``<out>/summary.md``."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Iterable

from overhead import machine


def log_invocation(out: str, **extra) -> str:
    """Record this command line and the machine; returns the path of ``runs.jsonl``."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "commands.jsonl"), "a") as fh:
        fh.write(json.dumps({"command": "python " + " ".join(sys.argv), "machine": machine(), **extra}) + "\n")
    return os.path.join(out, "runs.jsonl")


def append_record(path: str, rec: dict) -> None:
    print(json.dumps(rec), flush=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(rec) + "\n")


def read_records(path: str) -> list[dict]:
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_summary(out: str, table: str) -> None:
    print(table)
    with open(os.path.join(out, "summary.md"), "w") as fh:
        fh.write(table + "\n")


def mean_se(values: Iterable[float], fmt: str = ".3g") -> str:
    """``mean ± standard error`` (sample std / √n); just the mean for one value."""
    v = list(values)
    n = len(v)
    mean = sum(v) / n
    if n < 2:
        return f"{mean:{fmt}}"
    se = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1) / n)
    return f"{mean:{fmt}} ± {se:.2g}"
