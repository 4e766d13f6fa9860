"""The inline SVG charts: points land where the axis mapping puts them."""

from __future__ import annotations

import numpy as np

from gankit.report.svg import Series, limits, line_chart, nice_ticks, polyline_paths


def series(steps, values, label="s"):
    return Series(label, np.asarray(steps, dtype=float), np.asarray(values, dtype=float), "#000")


def test_points_map_linearly_into_the_box():
    s = series([0, 5, 10], [1, 2, 3])
    # box left 10, top 20, 100 wide, 50 high; y grows downwards
    assert polyline_paths(s, (0, 10, 1, 3), (10, 20, 100, 50)) == "M10.00 70.00 L60.00 45.00 L110.00 20.00"


def test_non_finite_values_break_the_line():
    s = series([0, 1, 2, 3], [0, np.nan, 1, np.inf])
    assert polyline_paths(s, (0, 3, 0, 1), (0, 0, 30, 10)) == "M0.00 10.00 M20.00 0.00"


def test_limits_span_every_series_and_widen_a_flat_range():
    a, b = series([0, 4], [1, np.nan]), series([2, 8], [-3, 5])
    assert limits([a, b]) == (0.0, 8.0, -3.0, 5.0)
    assert limits([series([3], [2])]) == (2.5, 3.5, 1.5, 2.5)


def test_chart_has_a_path_per_series_and_escapes_labels():
    svg = line_chart("Loss <D>", [series([0, 1], [0, 1], "a&b"), series([0, 1], [1, 0], "c")])
    assert svg.count("<path ") == 2 and "Loss &lt;D&gt;" in svg and "a&amp;b" in svg and "<D>" not in svg


def test_ticks_are_round_numbers_inside_the_range():
    # spacing: the smallest of 1, 2, 2.5, 5, 10 x 10^k at least (hi - lo) / 4
    assert nice_ticks(0, 10) == [0, 2.5, 5, 7.5, 10]  # 2.5 -> 2.5
    assert nice_ticks(10, 600) == [200, 400, 600]  # 147.5 -> 200
    assert nice_ticks(0.147, 3.063) == [1, 2, 3]  # 0.729 -> 1
    assert nice_ticks(-0.0123, 0.0456) == [0, 0.02, 0.04]  # 0.014475 -> 0.02, from ceil(-0.615) = 0
