"""Visualisation: image grids, 2-D toy plots, sample-statistic histograms, training curves.

Everything is written atomically (:mod:`gankit.atomic`) and rendered headless with
matplotlib's Agg canvas through the object-oriented ``Figure`` API (no pyplot, no global
state); matplotlib is imported only when a plot is made. Curves are drawn afterwards from
``stats.jsonl`` (:mod:`gankit.viz.stats_file`).
"""

from gankit.atomic import atomic_write, save_atomically
from gankit.viz.curves import curves_figure, plot_curves, smooth_series
from gankit.viz.figure import save_figure
from gankit.viz.grid import grid_to_pil, make_grid, save_image_grid
from gankit.viz.histograms import (
    plot_sample_histograms,
    sample_histograms_figure,
    sample_statistics,
)
from gankit.viz.stats_file import read_stats, stat_keys, stat_series
from gankit.viz.toy2d import (
    density_2d_figure,
    plot_density_2d,
    plot_samples_2d,
    samples_2d_figure,
    toy_extent,
)

__all__ = [
    "atomic_write",
    "save_atomically",
    "save_figure",
    "make_grid",
    "grid_to_pil",
    "save_image_grid",
    "read_stats",
    "stat_series",
    "stat_keys",
    "plot_curves",
    "curves_figure",
    "smooth_series",
    "plot_samples_2d",
    "plot_density_2d",
    "samples_2d_figure",
    "density_2d_figure",
    "toy_extent",
    "sample_statistics",
    "plot_sample_histograms",
    "sample_histograms_figure",
]
