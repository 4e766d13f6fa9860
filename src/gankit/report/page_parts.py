"""Pieces both pages use: embedded images, the sample-grid slider, the config as a table,
where the page goes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gankit.atomic import atomic_write
from gankit.errors import ConfigError
from gankit.report.markup import IMAGE_TYPES, data_uri, esc, img, table

MAX_FRAMES = 60  # sample grids on a slider at most: evenly spaced, first and last always kept


def image_uri(path: Path) -> str:
    return data_uri(path.read_bytes(), IMAGE_TYPES[path.suffix.lower()])


def frame_indices(n: int, limit: int = MAX_FRAMES) -> list[int]:
    """``limit`` indices evenly spread over ``range(n)`` (all of them when ``n <= limit``)."""
    if n <= limit:
        return list(range(n))
    return sorted({int(i) for i in np.round(np.linspace(0, n - 1, limit))})


def slider(frames_id: str, grids: Sequence[tuple[int, Path]]) -> str:
    """The grids as stacked images, all but one hidden, and a range input that picks the
    shown one (the script in ``markup.SCRIPT``); the last step is shown first."""
    chosen = [grids[i] for i in frame_indices(len(grids))]
    last = len(chosen) - 1
    images = "".join(img(image_uri(p), f"samples at step {step}", "pixels frame",
                         f' data-step="{step}"' + ("" if i == last else " hidden"))
                     for i, (step, p) in enumerate(chosen))
    return (f'<div class="slider" data-frames="{esc(frames_id)}">'
            f'<input type="range" min="0" max="{last}" value="{last}" step="1" aria-label="training step">'
            f'<span class="step">step {chosen[-1][0]}</span></div>'
            f'<div class="frames" id="{esc(frames_id)}">{images}</div>')


def flat_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested sections -> ``{"section.key": value}``; lists and scalars are values."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, name + "."))
        else:
            out[name] = value
    return out


def show_value(value: Any) -> str:
    """A config value as JSON (strings quoted), escaped."""
    return esc(json.dumps(value))


def config_table(config: dict[str, Any]) -> str:
    """The config as small tables side by side: the top-level values, then one per section."""
    top = {k: v for k, v in config.items() if not isinstance(v, dict)}
    groups = [("", top)] if top else []
    groups += [(k, v) for k, v in config.items() if isinstance(v, dict)]
    tables = [table((f"{name}.key" if name else "key", "value"),
                    ((f"<code>{esc(k)}</code>", show_value(v)) for k, v in flat_config(values).items()))
              for name, values in groups]
    return f'<div class="charts">{"".join(tables)}</div>'



def check_out(out: str | os.PathLike[str]) -> Path:
    """``out`` if it names an ``.html`` file in an existing directory, else ``ConfigError``
    (checked before any run is read)."""
    path = Path(out)
    if path.suffix.lower() != ".html":
        raise ConfigError(f"--out must end in .html, got {out}")
    if path.is_dir():
        raise ConfigError(f"--out is a directory: {out}")
    if not path.parent.is_dir():
        raise ConfigError(f"--out: directory {path.parent} does not exist")
    return path


def write_page(path: Path, text: str) -> Path:
    """Write the page atomically (a reader never sees half of it)."""
    with atomic_write(path, "w") as fh:
        fh.write(text)
    return path


