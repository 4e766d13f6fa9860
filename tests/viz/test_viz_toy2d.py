import numpy as np
import pytest
import torch
from PIL import Image

from gankit.errors import ShapeError
from gankit.viz.toy2d import density_2d_figure, plot_density_2d, plot_samples_2d, toy_extent

CENTRES = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.0, -2.0]])


def _ring_samples(n=800, std=0.1, seed=0):
    rng = np.random.default_rng(seed)
    return CENTRES[rng.integers(0, 4, n)] + std * rng.standard_normal((n, 2))


def _rgb(path):
    img = Image.open(path)
    assert img.format == "PNG" and img.width > 100 and img.height > 100
    arr = np.asarray(img.convert("RGB")).astype(int)
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) >= 10  # not blank
    return arr


def _red_pixels(arr):
    return int(np.sum((arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 2] < 60)))


def test_toy_extent_from_centres():
    # span 4; margin = max(4*0.1, 0.15*4) = 0.6
    assert toy_extent(CENTRES, std=0.1) == pytest.approx((-2.6, 2.6, -2.6, 2.6))
    # margin = max(4*0.5, 0.6) = 2
    assert toy_extent(CENTRES, std=0.5) == pytest.approx((-4.0, 4.0, -4.0, 4.0))
    # non-square bbox becomes a square around its middle
    assert toy_extent([[0.0, 0.0], [4.0, 2.0]]) == pytest.approx((-0.6, 4.6, -1.6, 3.6))
    assert toy_extent([[1.0, 1.0]]) == pytest.approx((0.0, 2.0, 0.0, 2.0))


def test_toy_extent_from_samples_ignores_non_finite():
    s = np.array([[0.0, 0.0], [1.0, 1.0], [np.nan, 5.0]])
    lo_x, hi_x, lo_y, hi_y = toy_extent(samples=s)
    assert lo_x < 0.0 and hi_x > 1.0 and lo_y < 0.0 and hi_y > 1.0 and hi_x < 2.0


def test_plot_samples_2d_marks_centres_in_red(tmp_path):
    samples = torch.tensor(_ring_samples(), dtype=torch.float32)
    with_c = plot_samples_2d(samples, tmp_path / "with.png", centres=CENTRES, std=0.1,
                             title="ring")
    without = plot_samples_2d(samples, tmp_path / "without.png")
    assert _red_pixels(_rgb(with_c)) > 20
    assert _red_pixels(_rgb(without)) == 0


def test_plot_samples_2d_survives_diverged_samples(tmp_path):
    s = _ring_samples()
    s[:3] = np.nan
    s[3:6] = 1e6
    _rgb(plot_samples_2d(s, tmp_path / "s.png", centres=CENTRES))


def test_density_image_is_the_histogram(tmp_path):
    s = _ring_samples(2000)
    fig = density_2d_figure(s, centres=CENTRES, bins=20, std=0.1)
    counts, _, _ = np.histogram2d(s[:, 0], s[:, 1], bins=20, range=[[-2.6, 2.6], [-2.6, 2.6]])
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.ma.filled(shown, 0.0), counts.T)
    assert fig.axes[0].images[0].get_extent() == pytest.approx([-2.6, 2.6, -2.6, 2.6])

    out = plot_density_2d(s, tmp_path / "d.png", centres=CENTRES, bins=50)
    assert _red_pixels(_rgb(out)) > 20
    _rgb(plot_density_2d(s, tmp_path / "lin.png", log=False, extent=(-3, 3, -3, 3)))


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(5), np.zeros((0, 2))])
def test_bad_sample_shapes(tmp_path, bad):
    with pytest.raises(ShapeError):
        plot_samples_2d(bad, tmp_path / "x.png")
    with pytest.raises(ShapeError):
        plot_density_2d(bad, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
