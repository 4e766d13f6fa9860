import numpy as np
import pytest
import torch
from PIL import Image

from gankit.errors import ConfigError, ShapeError
from gankit.viz.grid import grid_to_pil, make_grid, save_image_grid

P = 1.0  # default pad value
IMG0 = [[-1.0, -0.5], [0.0, 0.5]]
IMG1 = [[0.1, 0.2], [0.3, 0.4]]


def _two_images():
    return torch.tensor([[IMG0], [IMG1]])  # (2, 1, 2, 2)


def test_make_grid_two_images_padding_1_by_hand():
    grid = make_grid(_two_images(), padding=1)  # nrow = ceil(sqrt(2)) = 2 -> one row
    expected = torch.tensor([[
        [P, P, P, P, P, P, P],
        [P, -1.0, -0.5, P, 0.1, 0.2, P],
        [P, 0.0, 0.5, P, 0.3, 0.4, P],
        [P, P, P, P, P, P, P],
    ]])
    torch.testing.assert_close(grid, expected)


def test_make_grid_one_per_row_and_custom_pad_value():
    grid = make_grid(_two_images(), nrow=1, padding=1, pad_value=-1.0)
    Q = -1.0
    expected = torch.tensor([[
        [Q, Q, Q, Q],
        [Q, -1.0, -0.5, Q],
        [Q, 0.0, 0.5, Q],
        [Q, Q, Q, Q],
        [Q, 0.1, 0.2, Q],
        [Q, 0.3, 0.4, Q],
        [Q, Q, Q, Q],
    ]])
    torch.testing.assert_close(grid, expected)


def test_make_grid_partial_last_row_and_rgb_shape():
    imgs = torch.zeros(5, 3, 4, 6)
    grid = make_grid(imgs, padding=2)  # nrow = ceil(sqrt(5)) = 3 -> 2 rows
    assert grid.shape == (3, 2 * (4 + 2) + 2, 3 * (6 + 2) + 2)
    # the empty sixth cell is pad value
    assert torch.all(grid[:, 8:12, 18:24] == 1.0)
    assert torch.all(grid[:, 8:12, 2:8] == 0.0)


def test_make_grid_padding_zero_is_plain_tiling():
    imgs = torch.arange(4 * 2 * 2, dtype=torch.float32).reshape(4, 1, 2, 2)
    grid = make_grid(imgs, nrow=2, padding=0)
    expected = torch.cat([torch.cat([imgs[0], imgs[1]], 2), torch.cat([imgs[2], imgs[3]], 2)], 1)
    torch.testing.assert_close(grid, expected)


@pytest.mark.parametrize("shape", [(2, 2, 2), (1, 2, 4, 4), (1, 4, 4, 4), (2, 1, 2, 2, 2)])
def test_bad_shapes_raise_shape_error(shape):
    with pytest.raises(ShapeError):
        make_grid(torch.zeros(shape))


def test_bad_arguments():
    with pytest.raises(ConfigError):
        make_grid(_two_images(), nrow=0)
    with pytest.raises(ConfigError):
        make_grid(_two_images(), padding=-1)
    with pytest.raises(ShapeError):
        grid_to_pil(torch.zeros(2, 3, 3))
    with pytest.raises(ShapeError):
        grid_to_pil(torch.zeros(1, 1, 3, 3))


def test_grid_to_pil_exact_pixel_values():
    # u8 = clamp(round_half_even((x + 1) * 127.5), 0, 255); NaN -> 0
    x = torch.tensor([[[-1.0, 0.0, 1.0, -1.5, 2.0, float("nan"), 0.5, -0.5]]])
    img = grid_to_pil(x)
    assert img.mode == "L"
    assert img.size == (8, 1)
    # 0.5 -> 191.25 -> 191 ; -0.5 -> 63.75 -> 64
    assert list(np.asarray(img)[0]) == [0, 128, 255, 0, 255, 0, 191, 64]


def test_grid_to_pil_rgb_keeps_channel_order():
    red = torch.full((3, 2, 2), -1.0)
    red[0] = 1.0
    img = grid_to_pil(red)
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == (255, 0, 0)


def test_save_image_grid_size_and_pixel_round_trip(tmp_path):
    gen = torch.Generator().manual_seed(0)
    n, h, w, nrow, pad = 5, 8, 8, 3, 2
    levels = torch.randint(0, 256, (n, 1, h, w), generator=gen)
    images = levels.double() / 127.5 - 1.0  # exact pre-images of the 8-bit levels
    path = save_image_grid(images.float(), tmp_path / "g.png", nrow=nrow, padding=pad)
    assert path == tmp_path / "g.png"
    img = Image.open(path)
    rows, cols = 2, 3
    assert img.size == (cols * (w + pad) + pad, rows * (h + pad) + pad)  # (32, 22)
    assert img.mode == "L"
    expected = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 255, dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        expected[top : top + h, left : left + w] = levels[k, 0].numpy()
    np.testing.assert_array_equal(np.asarray(img), expected)

    up = save_image_grid(images, tmp_path / "g4.png", nrow=nrow, padding=pad, upscale=4)
    big = Image.open(up)
    assert big.size == (4 * 32, 4 * 22)
    np.testing.assert_array_equal(np.asarray(big), np.repeat(np.repeat(expected, 4, 0), 4, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png", "g4.png"]


def test_save_image_grid_rgb(tmp_path):
    imgs = torch.full((1, 3, 2, 2), -1.0)
    imgs[0, 1] = 1.0  # green
    path = save_image_grid(imgs, tmp_path / "rgb.png", padding=0, upscale=2)
    img = Image.open(path)
    assert img.mode == "RGB" and img.size == (4, 4)
    assert np.all(np.asarray(img) == np.array([0, 255, 0], dtype=np.uint8))
    with pytest.raises(ConfigError):
        save_image_grid(imgs, tmp_path / "x.png", upscale=0)
    assert not (tmp_path / "x.png").exists()
