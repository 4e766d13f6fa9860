"""Line charts as inline SVG: several series on shared axes, no plotting library.

The plot box spans the data exactly: axis limits are the extremes of every finite value of
every series, and a point ``(x, y)`` lands at ``left + (x - x_lo) / (x_hi - x_lo) · width``
across and ``top + (y_hi - y) / (y_hi - y_lo) · height`` down. Non-finite values break a
line (no point is drawn for them); ticks sit at round values inside the limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from gankit.report.markup import esc

# matplotlib's tab10, so runs keep the colours their PNG plots would give them
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
WIDTH, HEIGHT = 460, 280
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 62, 14, 28, 56
TICKS = 5


@dataclass(frozen=True)
class Series:
    """One line: ``values[i]`` at ``steps[i]``."""

    label: str
    steps: np.ndarray
    values: np.ndarray
    color: str


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def limits(series: Sequence[Series]) -> tuple[float, float, float, float]:
    """``(x_lo, x_hi, y_lo, y_hi)`` over every finite point; a flat range is widened by 1
    (by 0.5 each side) so nothing divides by zero."""
    xs = [s.steps[np.isfinite(s.values)] for s in series]
    ys = [s.values[np.isfinite(s.values)] for s in series]
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    if x.size == 0:
        return 0.0, 1.0, 0.0, 1.0
    x_lo, x_hi, y_lo, y_hi = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    return x_lo, x_hi, y_lo, y_hi


def nice_ticks(lo: float, hi: float, count: int = TICKS) -> list[float]:
    """Round tick values inside ``[lo, hi]``, about ``count`` of them: the spacing is the
    smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least ``(hi - lo) / (count - 1)``."""
    raw = (hi - lo) / (count - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def polyline_paths(s: Series, lim: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> str:
    """SVG path data ``M x y L x y ...`` of ``s`` in the plot ``box = (left, top, width,
    height)``; each run of finite values is its own ``M ... L ...`` piece."""
    x_lo, x_hi, y_lo, y_hi = lim
    left, top, width, height = box
    pieces: list[str] = []
    pen_down = False
    for x, y in zip(s.steps.tolist(), s.values.tolist()):
        if not (math.isfinite(x) and math.isfinite(y)):
            pen_down = False
            continue
        px = left + (x - x_lo) / (x_hi - x_lo) * width
        py = top + (y_hi - y) / (y_hi - y_lo) * height
        pieces.append(f"{'L' if pen_down else 'M'}{px:.2f} {py:.2f}")
        pen_down = True
    return " ".join(pieces)


def line_chart(title: str, series: Sequence[Series], x_label: str = "step") -> str:
    """An ``<svg>`` element: axes with about ``TICKS`` round ticks each (``nice_ticks``), one path per series, a legend
    under the plot. A series with a single finite point is drawn as a dot."""
    lim = limits(series)
    x_lo, x_hi, y_lo, y_hi = lim
    box = (MARGIN_LEFT, MARGIN_TOP, WIDTH - MARGIN_LEFT - MARGIN_RIGHT, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)
    left, top, width, height = box
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(title)}">',
           f'<text x="{WIDTH / 2:.0f}" y="18" text-anchor="middle" font-size="14">{esc(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#999"/>']
    for x in nice_ticks(x_lo, x_hi):
        px = left + (x - x_lo) / (x_hi - x_lo) * width
        out.append(f'<line x1="{px:.2f}" y1="{top}" x2="{px:.2f}" y2="{top + height}" stroke="#eee"/>'
                   f'<text x="{px:.2f}" y="{top + height + 14}" text-anchor="middle" font-size="10">{_fmt(x)}</text>')
    for y in nice_ticks(y_lo, y_hi):
        py = top + (y_hi - y) / (y_hi - y_lo) * height
        out.append(f'<line x1="{left}" y1="{py:.2f}" x2="{left + width}" y2="{py:.2f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{py + 3:.2f}" text-anchor="end" font-size="10">{_fmt(y)}</text>')
    out.append(f'<text x="{left + width / 2:.0f}" y="{top + height + 28}" text-anchor="middle" '
               f'font-size="11">{esc(x_label)}</text>')
    for s in series:
        d = polyline_paths(s, lim, box)
        if d.count("M") == 1 and "L" not in d:  # one point: a dot
            x, y = d[1:].split()
            out.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{s.color}"/>')
        elif d:
            out.append(f'<path d="{d}" fill="none" stroke="{s.color}" stroke-width="1.5"/>')
    x = left
    for s in series:  # legend: one row under the axis label, wrapped by width
        label = esc(s.label)
        w = 16 + 6.5 * len(s.label)
        if x + w > WIDTH and x > left:
            break
        out.append(f'<rect x="{x:.0f}" y="{HEIGHT - 14}" width="10" height="10" fill="{s.color}"/>'
                   f'<text x="{x + 13:.0f}" y="{HEIGHT - 5}" font-size="11">{label}</text>')
        x += w + 8
    out.append("</svg>")
    return "".join(out)
