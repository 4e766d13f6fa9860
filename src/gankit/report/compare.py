"""``gankit compare RUN1 RUN2 ... --out compare.html``: several runs side by side.

Sections: the runs (each with its colour in every chart), the config keys whose values
differ, every metric of any run's ``metrics.json`` (one column per run), the training curves
with all runs on shared axes, and each run's final samples.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from gankit.errors import ConfigError
from gankit.report.curves import shared_charts
from gankit.report.markup import document, esc, figure, section, table
from gankit.report.metric_rows import flatten_value, settings_text
from gankit.report.page_parts import check_out, flat_config, image_uri, show_value, write_page
from gankit.report.run_files import RunFiles, read_run_files
from gankit.report.svg import color

MISSING = object()  # a key one config has and another lacks
ABSENT = "—"  # shown for it


def config_differences(configs: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """``{"section.key": [value in config 0, value in config 1, ...]}`` for every key whose
    values are not all equal (``MISSING`` where a config lacks the key), in order of first
    appearance."""
    flat = [flat_config(c) for c in configs]
    keys: dict[str, None] = {}
    for f in flat:
        keys.update(dict.fromkeys(f))
    out = {}
    for key in keys:
        values = [f.get(key, MISSING) for f in flat]
        if any(v is MISSING or v != values[0] for v in values):
            out[key] = values
    return out


def run_labels(runs: Sequence[RunFiles]) -> list[str]:
    """Each run's directory name, or its path where two runs share a name."""
    names = [r.name for r in runs]
    return [r.name if names.count(r.name) == 1 else str(r.run_dir) for r in runs]


def metric_table(runs: Sequence[RunFiles], labels: Sequence[str]) -> str:
    """One row per (metric entry, number) of any run, one value column per run."""
    cells: dict[tuple[str, str], dict[int, str]] = {}
    for i, run in enumerate(runs):
        for key, entry in run.metrics.items():
            for label, shown in flatten_value(str(entry["metric"]), entry["value"]):
                cells.setdefault((label, settings_text(key)), {})[i] = shown
    rows = [(esc(label), esc(settings), *(esc(by_run.get(i, ABSENT)) for i in range(len(runs))))
            for (label, settings), by_run in cells.items()]
    return table(("metric", "settings", *labels), rows, numeric=(False, False, *([True] * len(runs))))


def _runs_table(runs: Sequence[RunFiles], labels: Sequence[str]) -> str:
    rows = []
    for i, (run, label) in enumerate(zip(runs, labels)):
        steps = run.records[-1]["step"] if run.records else 0
        rows.append((f'<span class="swatch" style="background:{color(i)}"></span>{esc(label)}',
                     esc(run.config.get("name", "?")), f"<code>{esc(run.recipe_name)}</code>", esc(steps)))
    return table(("run", "preset", "recipe", "steps logged"), rows, numeric=(False, False, False, True))


def build_comparison(runs: Sequence[RunFiles]) -> str:
    labels = run_labels(runs)
    diff = config_differences([r.config for r in runs])
    if diff:
        rows = [(f"<code>{esc(k)}</code>", *(esc(ABSENT) if v is MISSING else show_value(v) for v in values))
                for k, values in diff.items()]
        config_html = table(("key", *labels), rows)
    else:
        config_html = "<p>The configs are identical.</p>"
    metrics_html = (metric_table(runs, labels) if any(r.metrics for r in runs)
                    else "<p>No run has a <code>metrics.json</code> yet: run <code>gankit eval RUN</code>.</p>")
    charts = shared_charts(labels, [r.records for r in runs])
    finals = "".join(figure(image_uri(r.final), label, "pixels") if r.final is not None
                     else f"<figure><figcaption>{esc(label)}: no final samples</figcaption></figure>"
                     for r, label in zip(runs, labels))
    sections = [
        section("Runs", _runs_table(runs, labels), "runs"),
        section("Config differences", config_html, "config"),
        section("Metrics", metrics_html, "metrics"),
        section("Training curves", f'<div class="charts">{"".join(charts)}</div>', "curves") if charts else "",
        section("Final samples", finals, "samples"),
    ]
    return document(f"Comparison of {len(runs)} runs", esc(", ".join(labels)), [s for s in sections if s])


def write_comparison(run_dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Write ``build_comparison`` of ``run_dirs`` (at least two) to ``out`` atomically; return
    its path. Typed errors before anything is written."""
    target = check_out(out)
    if len(run_dirs) < 2:
        raise ConfigError(f"compare needs at least two run directories, got {len(run_dirs)}")
    runs = [read_run_files(d) for d in run_dirs]
    return write_page(target, build_comparison(runs))
