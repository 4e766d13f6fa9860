import json

import numpy as np
import pytest
from PIL import Image

from gankit.errors import ConfigError, DataError
from gankit.viz.curves import curves_figure, plot_curves, smooth_series

RECORDS = [
    {"step": 0, "time": 0.0, "Loss/D": 1.4, "Loss/G": 0.9, "Loss/D/gp": 0.02},
    {"step": 10, "time": 1.0, "Loss/D": 1.2, "Loss/G": 0.8},
    {"step": 20, "time": 2.0, "Loss/D": 1.0, "Loss/G": 1.1, "Loss/D/gp": 0.01},
    {"step": 30, "time": 3.0, "Loss/D": 1.3, "Loss/G": 0.6, "Metric/fid": 40.0},
]


def _write_stats(path, records, tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def _assert_real_png(path, min_colours=10):
    img = Image.open(path)
    img.load()
    assert img.format == "PNG"
    assert img.width > 100 and img.height > 100
    colours = np.unique(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0)
    assert len(colours) >= min_colours  # not a blank single-colour image


def test_smooth_series_by_hand():
    np.testing.assert_allclose(smooth_series(np.array([1.0, 3.0]), 0.0), [1.0, 3.0])
    # w=0.5: m1 = 0.5 -> /0.5 = 1 ; m2 = 0.25 + 1.5 = 1.75 -> /0.75 = 7/3
    np.testing.assert_allclose(smooth_series(np.array([1.0, 3.0]), 0.5), [1.0, 7.0 / 3.0])
    out = smooth_series(np.array([2.0, np.nan, 4.0]), 0.5)
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [2.0, (0.25 * 2 + 0.5 * 4) / 0.75])
    with pytest.raises(ConfigError):
        smooth_series(np.array([1.0]), 1.0)


def test_curves_figure_panels_and_data():
    fig = curves_figure(RECORDS, prefix="Loss/", smooth=0.0)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["Loss", "Loss/D"]
    main, gp = axes
    assert [t.get_text() for t in main.get_legend().get_texts()] == ["D", "G"]
    np.testing.assert_allclose(main.lines[0].get_xydata(),
                               [[0, 1.4], [10, 1.2], [20, 1.0], [30, 1.3]])
    np.testing.assert_allclose(main.lines[1].get_xydata(),
                               [[0, 0.9], [10, 0.8], [20, 1.1], [30, 0.6]])
    np.testing.assert_allclose(gp.lines[0].get_xydata(), [[0, 0.02], [20, 0.01]])


def test_curves_figure_smoothed_line_first_raw_behind():
    fig = curves_figure(RECORDS, prefix="Metric/", smooth=0.5)
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_title() == "Metric"
    smoothed, raw = ax.lines
    np.testing.assert_allclose(raw.get_xydata(), [[30, 40.0]])
    np.testing.assert_allclose(smoothed.get_xydata(), [[30, 40.0]])


def test_plot_curves_writes_png_and_tolerates_truncated_line(tmp_path):
    stats = _write_stats(tmp_path / "stats.jsonl", RECORDS, tail='{"step": 40, "Loss/D": 1')
    out = plot_curves(stats, tmp_path / "plots" / "loss.png")
    assert out == tmp_path / "plots" / "loss.png"
    _assert_real_png(out)
    assert [p.name for p in out.parent.iterdir()] == ["loss.png"]


def test_plot_curves_resumed_run_uses_last_record_per_step():
    recs = RECORDS[:3] + [{"step": 10, "Loss/D": 5.0}, {"step": 20, "Loss/D": 6.0}]
    fig = curves_figure(recs, prefix="Loss/", smooth=0.0)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xydata(),
                               [[0, 1.4], [10, 5.0], [20, 6.0]])


def test_plot_curves_no_matching_keys_is_data_error(tmp_path):
    stats = _write_stats(tmp_path / "stats.jsonl", RECORDS)
    with pytest.raises(DataError) as info:
        plot_curves(stats, tmp_path / "x.png", prefix="Grad/")
    msg = str(info.value)
    assert "Grad/" in msg and "Loss/D" in msg and "stats.jsonl" in msg
    assert not (tmp_path / "x.png").exists()
