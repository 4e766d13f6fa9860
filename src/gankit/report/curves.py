"""Training curves of ``stats.jsonl`` records as SVG panels (``gankit.report.svg``).

Panels follow the run's PNG curves (``gankit.viz.curves.group_keys``): keys one level below
a prefix share a panel (``Loss/D`` and ``Loss/G`` in panel ``Loss``), a key's terms get their
own (``Loss/D/gp`` in panel ``Loss/D``). ``time`` is left out; a step logged twice (a resumed
run) keeps its last record.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gankit.report.svg import Series, color, line_chart
from gankit.viz.curves import group_keys
from gankit.viz.stats_file import stat_keys, stat_series

EXCLUDED = ("time",)


def curve_keys(records: list[dict[str, Any]]) -> list[str]:
    return [k for k in stat_keys(records) if k not in EXCLUDED]


def series_of(records: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` of ``key``, sorted by step, last record of a step winning."""
    return stat_series(records, key, dedupe=True)


def run_charts(records: list[dict[str, Any]]) -> list[str]:
    """One SVG per panel of one run; a line per key of the panel."""
    charts = []
    for title, keys in group_keys(curve_keys(records)).items():
        series = []
        for i, key in enumerate(keys):
            steps, values = series_of(records, key)
            label = key[len(title) + 1:] if key.startswith(title + "/") else key
            series.append(Series(label, steps, values, color(i)))
        charts.append(line_chart(title, series))
    return charts


def shared_charts(names: Sequence[str], runs_records: Sequence[list[dict[str, Any]]]) -> list[str]:
    """One SVG per stat key logged by any run, one line per run in the run's colour, all on
    the same axes."""
    keys: dict[str, None] = {}
    for records in runs_records:
        keys.update(dict.fromkeys(curve_keys(records)))
    charts = []
    for key in keys:
        series = [Series(name, *series_of(records, key), color(i))
                  for i, (name, records) in enumerate(zip(names, runs_records)) if key in curve_keys(records)]
        charts.append(line_chart(key, series))
    return charts
