"""Plots for 2-D toy data (rings and grids of Gaussians with known mode centres).

The view is fixed by the true mode centres when they are given (so frames from different
training steps are comparable): a square around the centres with a margin of
``max(4*std, 0.15*span)`` (``std`` optional; 1.0 for a single centre without std). Without
centres it comes from the 0.5/99.5 percentiles of the samples, padded by 10%. Samples
outside the view and non-finite samples (a diverged generator) are counted in a note.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from gankit.errors import ConfigError, ShapeError
from gankit.viz.figure import save_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_samples_2d",
    "plot_density_2d",
    "samples_2d_figure",
    "density_2d_figure",
    "toy_extent",
]

Extent = tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)
ArrayLike2D = torch.Tensor | np.ndarray | Sequence[Sequence[float]]

_FIGSIZE = (6.0, 6.0)
_CENTRE_COLOUR = "red"
_SIGMA_RADIUS = 3.0  # circles at 3 sigma
_MARGIN_STDS = 4.0
_MARGIN_FRAC = 0.15
_PCT_LO, _PCT_HI = 0.5, 99.5
_PAD_FRAC = 0.10


def _points(x: ArrayLike2D, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ShapeError(f"{name} must have shape (N, 2), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ShapeError(f"{name} is empty")
    return arr  # (N, 2)


def _stds(std: float | Sequence[float] | np.ndarray | None, k: int) -> np.ndarray | None:
    if std is None:
        return None
    s = np.asarray(std, dtype=np.float64)
    if s.ndim == 0:
        s = np.full(k, float(s))
    if s.shape != (k,):
        raise ShapeError(f"std must be a scalar or have one value per centre ({k}), got {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ConfigError(f"std must be finite and non-negative, got {std!r}")
    return s


def toy_extent(
    centres: ArrayLike2D | None = None,
    std: float | Sequence[float] | None = None,
    samples: ArrayLike2D | None = None,
) -> Extent:
    """Square view ``(xmin, xmax, ymin, ymax)``: from ``centres`` if given, else from the
    finite ``samples``; see module docstring. Falls back to (-1, 1, -1, 1)."""
    if centres is not None:
        c = _points(centres, "centres")
        s = _stds(std, len(c))
        lo, hi = c.min(axis=0), c.max(axis=0)
        span = float(np.max(hi - lo))
        margin = max(_MARGIN_STDS * float(s.max()) if s is not None else 0.0, _MARGIN_FRAC * span)
        if margin == 0.0:
            margin = 1.0
    elif samples is not None:
        p = _points(samples, "samples")
        p = p[np.all(np.isfinite(p), axis=1)]
        if len(p) == 0:
            return (-1.0, 1.0, -1.0, 1.0)
        lo = np.percentile(p, _PCT_LO, axis=0)
        hi = np.percentile(p, _PCT_HI, axis=0)
        span = float(np.max(hi - lo))
        margin = _PAD_FRAC * span if span > 0 else 1.0
    else:
        return (-1.0, 1.0, -1.0, 1.0)
    mid = (lo + hi) / 2.0
    half = span / 2.0 + margin
    return (float(mid[0] - half), float(mid[0] + half), float(mid[1] - half), float(mid[1] + half))


def _check_extent(extent: Sequence[float]) -> Extent:
    e = tuple(float(v) for v in extent)
    if len(e) != 4 or not all(np.isfinite(e)) or e[0] >= e[1] or e[2] >= e[3]:
        raise ConfigError(f"extent must be (xmin, xmax, ymin, ymax) with min < max, got {extent!r}")
    return e  # type: ignore[return-value]


def _note_outside(ax: "Axes", pts: np.ndarray, extent: Extent) -> None:
    finite = np.all(np.isfinite(pts), axis=1)
    p = pts[finite]
    inside = (p[:, 0] >= extent[0]) & (p[:, 0] <= extent[1]) & (p[:, 1] >= extent[2]) & (
        p[:, 1] <= extent[3]
    )
    notes = []
    if (~inside).any():
        notes.append(f"{int((~inside).sum())} of {len(pts)} outside view")
    if (~finite).any():
        notes.append(f"{int((~finite).sum())} non-finite")
    if notes:
        ax.text(0.01, 0.01, "; ".join(notes), transform=ax.transAxes, fontsize="small",
                va="bottom", ha="left", bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})


def _draw_centres(ax: "Axes", centres: np.ndarray, stds: np.ndarray | None) -> None:
    from matplotlib.patches import Circle

    ax.scatter(centres[:, 0], centres[:, 1], marker="x", s=60, linewidths=2,
               color=_CENTRE_COLOUR, label="mode centres", zorder=3)
    if stds is not None:
        for (cx, cy), s in zip(centres, stds):
            ax.add_patch(Circle((cx, cy), _SIGMA_RADIUS * s, fill=False, ls="--", lw=1,
                                edgecolor=_CENTRE_COLOUR, alpha=0.6, zorder=3))


def samples_2d_figure(
    samples: ArrayLike2D,
    centres: ArrayLike2D | None = None,
    std: float | Sequence[float] | None = None,
    title: str | None = None,
    extent: Sequence[float] | None = None,
) -> "Figure":
    """Build the scatter figure of :func:`plot_samples_2d`."""
    from matplotlib.figure import Figure

    pts = _points(samples, "samples")
    c = _points(centres, "centres") if centres is not None else None
    stds = _stds(std, len(c)) if c is not None else None
    view = _check_extent(extent) if extent is not None else toy_extent(c, stds, pts)
    fig = Figure(figsize=_FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.4, color="tab:blue", linewidths=0,
               label=f"samples ({len(pts)})", rasterized=True)
    if c is not None:
        _draw_centres(ax, c, stds)
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    _note_outside(ax, pts, view)
    if title:
        ax.set_title(title)
    return fig


def plot_samples_2d(
    samples: ArrayLike2D,
    out_path: str | os.PathLike[str],
    centres: ArrayLike2D | None = None,
    std: float | Sequence[float] | None = None,
    title: str | None = None,
    extent: Sequence[float] | None = None,
) -> Path:
    """Scatter of ``samples`` (N, 2) over the true mode ``centres`` (K, 2) (red x), with
    dashed circles of radius 3*``std`` (scalar or one per centre) when given. Written as
    PNG atomically; returns the path."""
    return save_figure(samples_2d_figure(samples, centres, std, title, extent), out_path)


def density_2d_figure(
    samples: ArrayLike2D,
    centres: ArrayLike2D | None = None,
    bins: int = 100,
    extent: Sequence[float] | None = None,
    log: bool = True,
    title: str | None = None,
    std: float | Sequence[float] | None = None,
) -> "Figure":
    """Build the 2-D histogram figure of :func:`plot_density_2d`."""
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.figure import Figure

    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ConfigError(f"bins must be a positive integer, got {bins!r}")
    pts = _points(samples, "samples")
    c = _points(centres, "centres") if centres is not None else None
    stds = _stds(std, len(c)) if c is not None else None
    view = _check_extent(extent) if extent is not None else toy_extent(c, stds, pts)
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    counts, _, _ = np.histogram2d(finite[:, 0], finite[:, 1], bins=bins,
                                  range=[[view[0], view[1]], [view[2], view[3]]])  # (bx, by)
    peak = float(counts.max())
    use_log = log and peak > 1.0
    fig = Figure(figsize=(_FIGSIZE[0] + 1.0, _FIGSIZE[1]), layout="constrained")
    ax = fig.add_subplot()
    if use_log:
        image = np.ma.masked_less_equal(counts.T, 0.0)
        norm: Normalize = LogNorm(vmin=1.0, vmax=peak)
    else:
        image = counts.T
        norm = Normalize(vmin=0.0, vmax=max(peak, 1.0))
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="white")  # empty cells: white
    im = ax.imshow(image, origin="lower", extent=view, aspect="equal", cmap=cmap, norm=norm,
                   interpolation="nearest")
    fig.colorbar(im, ax=ax, label="count" + (" (log)" if use_log else ""), shrink=0.8)
    if c is not None:
        _draw_centres(ax, c, stds)
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    _note_outside(ax, pts, view)
    if title:
        ax.set_title(title)
    return fig


def plot_density_2d(
    samples: ArrayLike2D,
    out_path: str | os.PathLike[str],
    centres: ArrayLike2D | None = None,
    bins: int = 100,
    extent: Sequence[float] | None = None,
    log: bool = True,
    title: str | None = None,
    std: float | Sequence[float] | None = None,
) -> Path:
    """Density image of ``samples`` (N, 2): a ``bins`` x ``bins`` histogram over ``extent``
    (default from the centres, see :func:`toy_extent`), log colour scale when ``log``
    (empty cells white), centres marked. PNG, atomic; returns the path."""
    fig = density_2d_figure(samples, centres, bins, extent, log, title, std)
    return save_figure(fig, out_path)
