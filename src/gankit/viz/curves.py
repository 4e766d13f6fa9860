"""Training curves drawn afterwards from ``stats.jsonl``.

Layout: one panel per *parent* key. Keys one level below the prefix share a panel
(``Loss/D`` and ``Loss/G`` are drawn together in panel "Loss" with a legend), and the terms
of a key get a panel of their own (``Loss/D/gp``, ``Loss/D/real`` -> panel "Loss/D"), since
they live on very different scales. x = step. With ``smooth > 0`` the raw series is drawn
faintly behind its smoothed version (debiased exponential moving average, as TensorBoard).
If a step occurs more than once (run resumed from an earlier checkpoint) the last record wins.

A stats file with no matching numeric key raises :class:`~gankit.errors.DataError` listing
the keys that are there (no image is written).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.errors import ConfigError, DataError
from gankit.viz.figure import save_figure
from gankit.viz.stats_file import read_stats, stat_keys, stat_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_curves", "curves_figure", "smooth_series", "group_keys"]

_EXCLUDED = ("step", "time")
_PANEL_W, _PANEL_H = 6.0, 3.6  # inches per panel
_MAX_COLS = 2
_RAW_ALPHA = 0.25


def smooth_series(values: np.ndarray, weight: float) -> np.ndarray:
    """Debiased EMA: ``m_t = w*m_{t-1} + (1-w)*v_t``, output ``m_t / (1 - w**k)`` with k the
    number of finite values seen so far. Non-finite inputs give NaN and are skipped."""
    if not (0.0 <= weight < 1.0):
        raise ConfigError(f"smooth must be in [0, 1), got {weight!r}")
    v = np.asarray(values, dtype=np.float64)
    out = np.full_like(v, np.nan)
    acc, k = 0.0, 0
    for i, x in enumerate(v):
        if not math.isfinite(x):
            continue
        acc = weight * acc + (1.0 - weight) * x
        k += 1
        out[i] = acc / (1.0 - weight**k)
    return out


def group_keys(keys: list[str]) -> dict[str, list[str]]:
    """Panel title -> keys, where the title is everything before a key's last '/'."""
    panels: dict[str, list[str]] = {}
    for key in keys:
        parent = key.rsplit("/", 1)[0] if "/" in key else "stats"
        panels.setdefault(parent, []).append(key)
    return panels


def curves_figure(
    records: list[dict[str, Any]], prefix: str = "Loss/", smooth: float = 0.6
) -> "Figure":
    """Build (not save) the curves figure for ``records``; see the module docstring."""
    from matplotlib.figure import Figure

    if not (0.0 <= smooth < 1.0):
        raise ConfigError(f"smooth must be in [0, 1), got {smooth!r}")
    keys = [k for k in stat_keys(records, prefix) if k not in _EXCLUDED]
    if not keys:
        available = [k for k in stat_keys(records) if k not in _EXCLUDED]
        raise DataError(
            f"no numeric stats starting with {prefix!r} in {len(records)} record(s); "
            f"available: {', '.join(available) if available else 'none'}"
        )
    panels = group_keys(keys)
    ncols = min(_MAX_COLS, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(_PANEL_W * ncols, _PANEL_H * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (title, members) in zip(axes.flat, panels.items()):
        for key in members:
            steps, values = stat_series(records, key, dedupe=True)
            values = np.where(np.isfinite(values), values, np.nan)
            label = key[len(title) + 1 :] if key.startswith(title + "/") else key
            if smooth > 0.0:
                (line,) = ax.plot(steps, smooth_series(values, smooth), label=label, lw=1.5)
                ax.plot(steps, values, color=line.get_color(), alpha=_RAW_ALPHA, lw=0.8)
            else:
                ax.plot(steps, values, label=label, lw=1.2)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    if smooth > 0.0:
        fig.suptitle(f"smoothed (EMA {smooth:g}); raw faint", fontsize="small")
    return fig


def plot_curves(
    stats_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    prefix: str = "Loss/",
    smooth: float = 0.6,
) -> Path:
    """Read ``stats_path`` (a stats.jsonl) and write the curves of every numeric key
    starting with ``prefix`` to ``out_path`` as PNG (atomically). Returns ``Path(out_path)``.
    ``smooth`` in [0, 1) is the EMA weight (0 = raw only)."""
    records = read_stats(stats_path)
    try:
        fig = curves_figure(records, prefix=prefix, smooth=smooth)
    except DataError as exc:
        raise DataError(f"{stats_path}: {exc}") from None
    return save_figure(fig, out_path)
