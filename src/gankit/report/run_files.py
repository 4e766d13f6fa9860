"""What a report shows of a run directory, read and checked before any page is built.

A run directory has ``config.json`` (required), and usually ``stats.jsonl``,
``samples/step_NNNNNN.png`` (grids over training time), ``samples_final.png``, the plots
``density.png`` / ``histograms.png`` of its training, ``metrics.json`` from ``gankit eval``
and any PNG or GIF a user wrote into it (interpolations, class grids, videos).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from gankit.errors import ConfigError, DataError
from gankit.metrics.report import METRICS_FILE, METRICS_FORMAT
from gankit.recipes import RECIPES
from gankit.runs.files import read_config
from gankit.viz.stats_file import read_stats

GRID_NAME = re.compile(r"step_(\d+)\.png")
FINAL_GRID = "samples_final.png"
DENSITY = "density.png"
CURVES_PNG = "loss_curves.png"  # drawn again as SVG from stats.jsonl, so not shown twice


@dataclass
class RunFiles:
    """A run directory's contents as a report needs them; images as (caption, path)."""

    run_dir: Path
    config: dict[str, Any]
    records: list[dict[str, Any]]
    metrics: dict[str, dict[str, Any]]
    grids: list[tuple[int, Path]]  # sample grids over time, by step
    final: Path | None
    density: Path | None
    gifs: list[Path] = field(default_factory=list)
    other_images: list[Path] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def recipe_name(self) -> str:
        return str(self.config.get("recipe", {}).get("name", ""))

    @property
    def translation_rows(self) -> str | None:
        """What the rows of a translation run's grids are (None: not a translation run)."""
        name = self.recipe_name
        if name not in RECIPES.names():
            return None
        directions = RECIPES.get(name).translation_directions
        if not directions:
            return None
        return "input | translation | cycle back" if "ba" in directions else "input | output | target"

    @property
    def is_2d(self) -> bool:
        """A toy run: its training drew a 2-D density plot."""
        return self.density is not None


def read_metrics_file(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of a ``metrics.json`` ({} if absent); a corrupt one is a ``DataError``."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != METRICS_FORMAT or not isinstance(entries, dict):
        raise DataError(f"{path} is not a {METRICS_FORMAT} file")
    bad = [k for k, e in entries.items() if not isinstance(e, dict) or "metric" not in e or "value" not in e]
    if bad:
        raise DataError(f"{path}: entry {bad[0]!r} has no metric name or value")
    return entries


def check_image(path: Path) -> Path:
    """``path`` if it decodes as an image, else a ``DataError`` (a page never shows a broken image)."""
    try:
        with Image.open(path) as im:
            im.verify()
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        raise DataError(f"{path} is not a readable image ({exc})") from None
    return path


def _grids(samples: Path) -> list[tuple[int, Path]]:
    if not samples.is_dir():
        return []
    found = [(int(m.group(1)), samples / name) for name in os.listdir(samples) if (m := GRID_NAME.fullmatch(name))]
    return sorted(found)


def read_run_files(run_dir: str | os.PathLike[str]) -> RunFiles:
    """Read and check ``run_dir``: ``ConfigError`` if it is not a run directory (no such
    directory, no ``config.json``), ``DataError`` for a corrupt ``stats.jsonl``,
    ``metrics.json`` or image."""
    root = Path(run_dir)
    if not root.is_dir():
        raise ConfigError(f"run directory not found: {run_dir}")
    config = read_config(str(root))
    if not isinstance(config, dict):
        raise ConfigError(f"{root / 'config.json'} does not hold a config object")
    stats = root / "stats.jsonl"
    records = read_stats(stats) if stats.is_file() else []
    metrics = read_metrics_file(root / METRICS_FILE)
    grids = [(step, check_image(p)) for step, p in _grids(root / "samples")]
    final = check_image(root / FINAL_GRID) if (root / FINAL_GRID).is_file() else None
    density = check_image(root / DENSITY) if (root / DENSITY).is_file() else None
    shown = {FINAL_GRID, DENSITY, CURVES_PNG}
    gifs = sorted(check_image(p) for p in [*root.glob("*.gif"), *root.glob("samples/*.gif")])
    others = sorted(check_image(p) for p in root.glob("*.png") if p.name not in shown)
    return RunFiles(root, config, records, metrics, grids, final, density, gifs, others)
