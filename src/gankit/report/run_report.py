"""``gankit report RUN``: one HTML page about one run (``RUN/report.html``).

Sections, each present when the run has what it shows: sample grids over training time (a
slider), the final samples, the training curves (SVG from ``stats.jsonl``), every number in
``metrics.json``, an interpolation strip, the 2-D density and scatter of a toy run, GIFs,
the other pictures in the run directory, and the resolved config.
"""

from __future__ import annotations

import os
from pathlib import Path

from gankit.report.curves import run_charts
from gankit.report.interpolation import ROWS, SEED, STEPS, interpolation_png
from gankit.report.markup import data_uri, document, esc, figure, section, table
from gankit.report.metric_rows import metric_rows
from gankit.report.page_parts import check_out, config_table, image_uri, slider, write_page
from gankit.report.run_files import RunFiles, read_run_files

REPORT_NAME = "report.html"


def _samples_section(run: RunFiles) -> str:
    """The grids over training on a slider beside the final samples (a translation run's rows named)."""
    parts = []
    rows = run.translation_rows
    if rows:
        parts.append(f"<p>Each grid shows rows of fixed inputs: {esc(rows)}.</p>")
    pictures = []
    if run.grids:
        parts.append(f"<p>{len(run.grids)} grids of the same fixed latents over training; drag the slider.</p>")
        pictures.append(f"<div>{slider('frames', run.grids)}</div>")
    if run.final is not None and not run.is_2d:  # a toy's final scatter is shown beside its density
        pictures.append(figure(image_uri(run.final), "samples from the EMA generator at the last step", "pixels"))
    parts.append(f'<div class="charts">{"".join(pictures)}</div>' if pictures else "")
    return section("Samples", "".join(parts), "samples") if any(parts) else ""


def _metrics_section(run: RunFiles) -> str:
    if not run.metrics:
        return section("Metrics", "<p>No <code>metrics.json</code> yet: run <code>gankit eval RUN</code>.</p>",
                       "metrics")
    rows = [(esc(label), esc(settings), esc(value)) for label, settings, value in metric_rows(run.metrics)]
    return section("Metrics", table(("metric", "settings", "value"), rows, numeric=(False, False, True)), "metrics")


def _toy_section(run: RunFiles) -> str:
    if run.density is None:
        return ""
    figs = [figure(image_uri(run.density), "density of generated samples over the true modes")]
    if run.final is not None:
        figs.append(figure(image_uri(run.final), "generated samples and the true modes"))
    return section("2-D density and modes", "".join(figs), "toy")


def _images_section(run: RunFiles, title: str, anchor: str, paths: list[Path]) -> str:
    """Pictures captioned with their path in the run directory."""
    if not paths:
        return ""
    figs = "".join(figure(image_uri(p), p.relative_to(run.run_dir).as_posix(), "pixels") for p in paths)
    return section(title, figs, anchor)


def build_run_report(run: RunFiles, interpolation: bytes | None) -> str:
    """The page's HTML for ``run`` with an interpolation strip (PNG bytes) or none."""
    cfg = run.config
    steps = run.records[-1]["step"] if run.records else 0
    lead = (f"Preset <b>{esc(cfg.get('name', '?'))}</b>: {esc(cfg.get('description', ''))}<br>"
            f"recipe <code>{esc(run.recipe_name)}</code>, {esc(steps)} of "
            f"{esc(cfg.get('train', {}).get('steps', '?'))} steps logged")
    charts = run_charts(run.records)
    sections = [
        _samples_section(run),
        section("Training curves", f'<div class="charts">{"".join(charts)}</div>', "curves") if charts else "",
        _metrics_section(run),
        section("Interpolation", f"<p>{ROWS} paths of {STEPS} steps between random latent pairs (seed {SEED}), "
                "one path per row.</p>" + figure(data_uri(interpolation, "image/png"), "latent interpolation",
                                                 "pixels"), "interpolation") if interpolation else "",
        _toy_section(run),
        _images_section(run, "Videos", "videos", run.gifs),
        _images_section(run, "Other pictures", "pictures", run.other_images),
        section("Config", config_table(cfg), "config"),
    ]
    return document(f"Run {run.name}", lead, [s for s in sections if s])


def write_run_report(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                     interpolation: bool = True) -> Path:
    """Write ``build_run_report`` of ``run_dir`` to ``out`` (default ``RUN/report.html``),
    atomically; return its path. Typed errors (``ConfigError``, ``DataError``,
    ``CheckpointError``) before anything is written."""
    target = check_out(out) if out is not None else None
    run = read_run_files(run_dir)
    target = target or run.run_dir / REPORT_NAME
    strip = interpolation_png(run.run_dir) if interpolation else None
    return write_page(target, build_run_report(run, strip))
