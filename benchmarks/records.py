"""What every benchmark script does with its results: one JSON line per finished run in
``<out>/runs.jsonl`` (so a partial sweep keeps its runs), one line per invocation in
``<out>/commands.jsonl`` (command + machine), and a markdown table in ``<out>/summary.md``;
and how every script refuses input it cannot use (``Refused``, ``run_main``)."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Callable, Iterable

from gankit.errors import GankitError
from overhead import machine


class Refused(Exception):
    """Input a benchmark cannot use (a missing kept run, a run of another model): nothing is recorded."""


def run_main(main: Callable[[], object]) -> None:
    """Run a script's ``main``: a refusal or a gankit error (an unknown ``--set`` key, missing data,
    a corrupt checkpoint) is one line on stderr and exit status 2, like ``gankit``'s CLI."""
    try:
        main()
    except (Refused, GankitError) as exc:
        print(f"{os.path.basename(sys.argv[0])}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


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
    """The records of ``runs.jsonl`` at ``path`` (``Refused`` if there is none or a line is not JSON)."""
    if not os.path.exists(path):
        raise Refused(f"{path}: no records (no run of this benchmark has finished there)")
    records = []
    with open(path) as fh:
        for i, line in enumerate(fh, 1):
            try:
                records += [json.loads(line)] if line.strip() else []
            except json.JSONDecodeError as exc:
                raise Refused(f"{path}:{i}: not a JSON record ({exc.msg})") from None
    return records


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
