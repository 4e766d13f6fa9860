"""Histograms of per-sample statistics, real vs generated.

:func:`sample_statistics` is pure (float64 NumPy). For a batch ``x`` with N samples:

* ``x`` (N,): ``value`` = the samples themselves.
* ``x`` (N, D) (vectors, e.g. 2-D toy points): ``x0`` ... ``x{D-1}`` = the marginal of each
  coordinate; ``norm`` = Euclidean norm; ``mean``/``std``/``min``/``max`` over the D features.
* ``x`` (N, C, ...) (images, sequences): ``mean``, ``std`` (population, ddof=0), ``min``,
  ``max`` over every value of a sample; for (N, C, H, W) also ``tv`` = mean absolute
  difference between vertically and horizontally neighbouring pixels,
  ``0.5*(mean|x[h+1]-x[h]| + mean|x[w+1]-x[w]|)`` (sharpness / noise), and, when C > 1,
  ``mean_c{i}`` = per-channel mean (colour balance).

Each panel of the plot carries the two-sample Kolmogorov–Smirnov statistic
``sup |F_real - F_fake|`` (0 = same empirical distribution, 1 = disjoint).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from gankit.errors import ConfigError, ShapeError
from gankit.viz.figure import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "sample_statistics",
    "default_statistics",
    "ks_statistic",
    "plot_sample_histograms",
    "sample_histograms_figure",
]

_MAX_DEFAULT_MARGINALS = 6
_MAX_COLS = 3
_PANEL_W, _PANEL_H = 4.2, 3.2
_PCT_LO, _PCT_HI = 0.5, 99.5
_PAD_FRAC = 0.05


def _as_array(x: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise ShapeError(f"{name} must have a batch dimension, got a scalar")
    if arr.shape[0] == 0:
        raise ShapeError(f"{name} has no samples (shape {arr.shape})")
    return arr


def sample_statistics(x: torch.Tensor | np.ndarray) -> dict[str, np.ndarray]:
    """Per-sample statistics of a batch, each an array of shape (N,); see module docstring."""
    a = _as_array(x, "x")
    n = a.shape[0]
    if a.ndim == 1:
        return {"value": a.copy()}
    flat = a.reshape(n, -1)  # (N, F)
    stats: dict[str, np.ndarray] = {}
    if a.ndim == 2:
        for i in range(a.shape[1]):
            stats[f"x{i}"] = a[:, i].copy()
        stats["norm"] = np.sqrt(np.sum(a * a, axis=1))
    stats["mean"] = flat.mean(axis=1)
    stats["std"] = flat.std(axis=1)
    stats["min"] = flat.min(axis=1)
    stats["max"] = flat.max(axis=1)
    if a.ndim == 4:
        dh = np.abs(np.diff(a, axis=2)).reshape(n, -1)  # (N, C*(H-1)*W)
        dw = np.abs(np.diff(a, axis=3)).reshape(n, -1)  # (N, C*H*(W-1))
        mean_dh = dh.mean(axis=1) if dh.shape[1] else np.zeros(n)
        mean_dw = dw.mean(axis=1) if dw.shape[1] else np.zeros(n)
        stats["tv"] = 0.5 * (mean_dh + mean_dw)
        if a.shape[1] > 1:
            for c in range(a.shape[1]):
                stats[f"mean_c{c}"] = a[:, c].reshape(n, -1).mean(axis=1)
    return stats


def default_statistics(x: torch.Tensor | np.ndarray) -> tuple[str, ...]:
    """The statistics plotted when none are asked for, chosen by the kind of data."""
    a = _as_array(x, "x")
    if a.ndim == 1:
        return ("value",)
    if a.ndim == 2:
        d = a.shape[1]
        marginals = tuple(f"x{i}" for i in range(min(d, _MAX_DEFAULT_MARGINALS)))
        return marginals + (("norm",) if d > 1 else ())
    if a.ndim == 4:
        return ("mean", "std", "tv")
    return ("mean", "std")


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic ``sup_t |F_a(t) - F_b(t)|`` over finite values."""
    a = np.sort(np.asarray(a, dtype=np.float64)[np.isfinite(a)])
    b = np.sort(np.asarray(b, dtype=np.float64)[np.isfinite(b)])
    if a.size == 0 or b.size == 0:
        return math.nan
    t = np.concatenate([a, b])
    fa = np.searchsorted(a, t, side="right") / a.size
    fb = np.searchsorted(b, t, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def _robust_range(values: np.ndarray) -> tuple[float, float]:
    """Shared bin range: the 0.5-99.5 percentiles of real and fake together, padded 5%, so a
    few wild samples don't squash every bin into one (they are counted in a note)."""
    lo, hi = (float(v) for v in np.percentile(values, [_PCT_LO, _PCT_HI]))
    pad = _PAD_FRAC * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def sample_histograms_figure(
    real: torch.Tensor | np.ndarray,
    fake: torch.Tensor | np.ndarray,
    statistics: Sequence[str] | None = None,
    bins: int = 40,
    labels: tuple[str, str] = ("real", "generated"),
    title: str | None = None,
) -> "Figure":
    """Build the figure of :func:`plot_sample_histograms`."""
    from matplotlib.figure import Figure

    r, f = _as_array(real, "real"), _as_array(fake, "fake")
    if r.shape[1:] != f.shape[1:]:
        raise ShapeError(
            f"real and fake samples must have the same shape, got {r.shape[1:]} and {f.shape[1:]}"
        )
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ConfigError(f"bins must be a positive integer, got {bins!r}")
    stats_r, stats_f = sample_statistics(r), sample_statistics(f)
    names = tuple(statistics) if statistics is not None else default_statistics(r)
    unknown = [s for s in names if s not in stats_r]
    if unknown or not names:
        raise ConfigError(
            f"unknown statistic(s) {unknown} for samples of shape {r.shape[1:]}; "
            f"available: {', '.join(stats_r)}"
        )
    ncols = min(_MAX_COLS, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(_PANEL_W * ncols, _PANEL_H * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, name in zip(axes.flat, names):
        vr, vf = stats_r[name], stats_f[name]
        vr, vf = vr[np.isfinite(vr)], vf[np.isfinite(vf)]
        both = np.concatenate([vr, vf])
        ax.set_title(f"{name}  (KS {ks_statistic(vr, vf):.3f})", fontsize="medium")
        if both.size == 0:
            ax.text(0.5, 0.5, "no finite values", ha="center", va="center",
                    transform=ax.transAxes)
            continue
        lo, hi = _robust_range(both)
        edges = np.linspace(lo, hi, bins + 1)
        outside = int(np.sum((both < lo) | (both > hi)))
        if outside:
            ax.text(0.01, 0.99, f"{outside} outside range", transform=ax.transAxes,
                    fontsize="small", va="top", ha="left")
        for values, label, colour in ((vr, labels[0], "tab:blue"), (vf, labels[1], "tab:orange")):
            if values.size:
                ax.hist(values, bins=edges, density=True, alpha=0.45, color=colour,
                        label=f"{label} ({values.size})")
                ax.hist(values, bins=edges, density=True, histtype="step", color=colour, lw=1.2)
        ax.set_ylabel("density")
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def plot_sample_histograms(
    real: torch.Tensor | np.ndarray,
    fake: torch.Tensor | np.ndarray,
    out_path: str | os.PathLike[str],
    statistics: Sequence[str] | None = None,
    bins: int = 40,
    labels: tuple[str, str] = ("real", "generated"),
    title: str | None = None,
) -> Path:
    """Overlaid density histograms of per-sample ``statistics`` (names from
    :func:`sample_statistics`; default :func:`default_statistics`) of ``real`` vs ``fake``,
    one panel per statistic with shared bins over the central 99% of both (outliers
    counted in a note). PNG, atomic; returns the path."""
    fig = sample_histograms_figure(real, fake, statistics, bins, labels, title)
    return save_figure(fig, out_path)
