import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle
from PIL import Image
from scipy.stats import ks_2samp

from gankit.errors import ConfigError, ShapeError
from gankit.viz.histograms import (
    ks_statistic,
    plot_sample_histograms,
    sample_histograms_figure,
    sample_statistics,
)


def test_image_statistics_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (6, 3, 5, 4)).astype(np.float32)
    stats = sample_statistics(torch.from_numpy(x))
    xd = x.astype(np.float64)
    assert set(stats) == {"mean", "std", "min", "max", "tv", "mean_c0", "mean_c1", "mean_c2"}
    for i in range(6):
        v = xd[i].ravel()
        assert stats["mean"][i] == pytest.approx(v.mean(), abs=1e-12)
        assert stats["std"][i] == pytest.approx(np.sqrt(np.mean((v - v.mean()) ** 2)), abs=1e-12)
        assert stats["min"][i] == v.min() and stats["max"][i] == v.max()
        for c in range(3):
            assert stats[f"mean_c{c}"][i] == pytest.approx(xd[i, c].mean(), abs=1e-12)
        dh = [abs(xd[i, c, h + 1, w] - xd[i, c, h, w])
              for c in range(3) for h in range(4) for w in range(4)]
        dw = [abs(xd[i, c, h, w + 1] - xd[i, c, h, w])
              for c in range(3) for h in range(5) for w in range(3)]
        assert stats["tv"][i] == pytest.approx(0.5 * (np.mean(dh) + np.mean(dw)), abs=1e-12)


def test_tv_by_hand_and_grey_has_no_channel_means():
    stats = sample_statistics(np.array([[[[0.0, 1.0], [3.0, 7.0]]]]))
    # vertical |3-0|, |7-1| -> 4.5 ; horizontal |1-0|, |7-3| -> 2.5 ; tv = 3.5
    assert stats["tv"][0] == pytest.approx(3.5)
    assert stats["mean"][0] == pytest.approx(2.75)
    assert "mean_c0" not in stats


def test_2d_statistics_are_marginals_and_norm():
    x = np.array([[3.0, 4.0], [-1.0, 0.0], [0.5, -2.0]])
    stats = sample_statistics(x)
    np.testing.assert_array_equal(stats["x0"], [3.0, -1.0, 0.5])
    np.testing.assert_array_equal(stats["x1"], [4.0, 0.0, -2.0])
    np.testing.assert_allclose(stats["norm"], [5.0, 1.0, np.hypot(0.5, 2.0)])
    np.testing.assert_allclose(stats["mean"], [3.5, -0.5, -0.75])
    assert sample_statistics(np.array([1.0, 2.0]))["value"].tolist() == [1.0, 2.0]


def test_ks_statistic_matches_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 200)
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)
    assert ks_statistic(a, a) == 0.0
    assert ks_statistic(np.zeros(5), np.ones(5)) == 1.0


def test_figure_panels_and_shared_bins():
    rng = np.random.default_rng(2)
    real = rng.normal(0, 1, (400, 2))
    fake = rng.normal(3, 1, (400, 2))
    fig = sample_histograms_figure(real, fake)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split()[0] for ax in axes] == ["x0", "x1", "norm"]
    # fake shifted by 3 sd: KS statistic on x0 shown in the title is large
    assert float(axes[0].get_title().split("KS ")[1].rstrip(")")) > 0.8
    rects = [p for p in axes[0].patches if isinstance(p, Rectangle)]
    assert len(rects) == 2 * 40  # default bins, real then fake
    real_bars, fake_bars = rects[:40], rects[40:]
    assert [r.get_x() for r in real_bars] == [r.get_x() for r in fake_bars]  # shared bins
    for bars in (real_bars, fake_bars):  # densities integrate to 1 over the shown range
        assert sum(r.get_height() * r.get_width() for r in bars) == pytest.approx(1.0)


def test_plot_sample_histograms_png(tmp_path):
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(200, 1, 8, 8, generator=gen) * 2 - 1
    fake = torch.rand(150, 1, 8, 8, generator=gen) * 1.5 - 1
    out = plot_sample_histograms(real, fake, tmp_path / "h.png", statistics=("mean", "std"))
    img = Image.open(out)
    assert img.format == "PNG" and img.width > 100 and img.height > 100
    assert len(np.unique(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0)) >= 10


def test_errors(tmp_path):
    with pytest.raises(ConfigError, match="available"):
        plot_sample_histograms(np.zeros((4, 2)), np.zeros((4, 2)), tmp_path / "a.png",
                               statistics=("tv",))
    with pytest.raises(ShapeError):
        plot_sample_histograms(np.zeros((4, 2)), np.zeros((4, 3)), tmp_path / "b.png")
    with pytest.raises(ShapeError):
        sample_statistics(np.zeros((0, 2)))
    assert list(tmp_path.iterdir()) == []
