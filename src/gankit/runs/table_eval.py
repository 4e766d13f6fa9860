"""``gankit eval`` on a table run: column distances, correlation difference and, with a target
column, ML efficacy of the run's synthetic rows against the run's own real table
(``gankit.metrics.tables``; the benchmark's protocol with a held-out split is
``benchmarks/tabular_ctgan.py``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from gankit.atomic import atomic_write
from gankit.data import build_dataset
from gankit.data.tables import CATEGORICAL, CONTINUOUS, decode_table, round_whole_numbers, whole_number_columns
from gankit.errors import ConfigError, GankitError
from gankit.metrics.tables import column_distances, correlation_difference, ml_efficacy
from gankit.recipes import RECIPES
from gankit.runs.files import read_config

TABLE_METRICS_FILE = "table_metrics.json"


def is_table_run(run_dir: str) -> bool:
    """Whether ``run_dir``'s recipe samples tables (False when it has no readable config)."""
    try:
        return bool(RECIPES.get(read_config(run_dir)["recipe"]["name"]).table_samples)
    except (GankitError, KeyError, TypeError):
        return False


def evaluate_table_run(run: Any, n: int | None = None, seed: int = 0, target: str | None = None) -> dict[str, Any]:
    """Metrics of ``n`` rows (default: as many as the real table) sampled from the loaded run
    ``run`` with ``seed``, against every row of the run's dataset (whole-number columns rounded, as the samples are)."""
    columns = run.data["meta"]["columns"]
    if target is not None and not any(c["name"] == target and c["type"] == CATEGORICAL for c in columns):
        names = ", ".join(c["name"] for c in columns if c["type"] == CATEGORICAL) or "none"
        raise ConfigError(f"--target {target!r} is not a categorical column of this run (categorical: {names})")
    if n is not None and n < 1:
        raise ConfigError(f"--n must be >= 1, got {n}")
    fields = build_dataset(dataclasses.replace(run.cfg.data, limit=0)).groups["main"]
    real = decode_table(fields["continuous"], fields["categorical"], columns)
    round_whole_numbers(real, whole_number_columns(real, columns))  # 37 stays 37, not 37.0000019
    n_real = int(fields["continuous"].shape[0])
    fake = run.recipe.sample_table(run.nets(), n or n_real, seed)
    dist = column_distances(real, fake, columns)
    kinds = {k: [dist[c["name"]] for c in columns if c["type"] == k] for k in (CONTINUOUS, CATEGORICAL)}
    out: dict[str, Any] = {"n_fake": n or n_real, "n_real": n_real, "seed": seed,
                           "mean_ks": float(np.mean(kinds[CONTINUOUS])),
                           "mean_tv": float(np.mean(kinds[CATEGORICAL])) if kinds[CATEGORICAL] else None,
                           "corr_diff": correlation_difference(real, fake, columns), "distances": dist}
    if target is not None:
        out["ml_efficacy"] = {"target": target, **ml_efficacy(fake, real, columns, target, seed)}
    return out


def write_table_metrics(path: str, metrics: dict[str, Any]) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(json.dumps(metrics, indent=2) + "\n")
