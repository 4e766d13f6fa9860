"""paired-images: side-by-side A|B files and two folders with matching names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.data.transforms import convert_channels
from gankit.errors import ConfigError, DataError


def _gray(value: int, w: int, h: int) -> np.ndarray:
    """uint8 (h, w) whose pixel (r, c) is (value + 3 r + c) mod 256."""
    r, c = np.mgrid[0:h, 0:w]
    return ((value + 3 * r + c) % 256).astype(np.uint8)


def _save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _unit(array: np.ndarray) -> torch.Tensor:
    """uint8 -> float32 in [-1, 1], computed independently: v / 127.5 - 1."""
    return torch.from_numpy(array.astype(np.float64) / 127.5 - 1.0).to(torch.float32)


def _cfg(**kw) -> DataConfig:
    return DataConfig(name="paired-images", **kw)


def test_side_by_side_halves(tmp_path):
    left = [_gray(10 * i, 6, 4) for i in range(3)]
    right = [_gray(200 - 10 * i, 6, 4) for i in range(3)]
    for i in range(3):
        _save(tmp_path / f"{i}.png", np.concatenate([left[i], right[i]], axis=1))  # (4, 12): A | B
    _save(tmp_path / ".hidden.png", np.zeros((4, 12), np.uint8))  # ignored
    ds = build_dataset(_cfg(path=str(tmp_path)))
    assert list(ds.groups) == ["main"] and list(ds.groups["main"]) == ["a", "b"]
    a, b = ds.field("a"), ds.field("b")
    assert a.dtype == torch.float32 and a.shape == b.shape == (3, 1, 4, 6)
    torch.testing.assert_close(a, _unit(np.stack(left))[:, None])
    torch.testing.assert_close(b, _unit(np.stack(right))[:, None])
    assert ds.sample_shape == (1, 4, 6) and ds.meta == {"layout": "side-by-side"}
    assert len(build_dataset(_cfg(path=str(tmp_path), limit=2))) == 2


def test_two_folders_match_names_and_may_differ_in_mode_and_size(tmp_path):
    names = ["x.png", "y.png"]
    for i, n in enumerate(names):
        _save(tmp_path / "A" / n, _gray(i, 3, 3))  # grayscale 3x3
        rgb = np.stack([_gray(i, 6, 6), _gray(50, 6, 6), _gray(100 + i, 6, 6)], axis=-1)  # (6, 6, 3)
        _save(tmp_path / "B" / n, rgb)
    ds = build_dataset(_cfg(path=str(tmp_path / "A"), path_b=str(tmp_path / "B")))
    assert ds.field("a").shape == (2, 1, 3, 3) and ds.field("b").shape == (2, 3, 6, 6)
    torch.testing.assert_close(ds.field("b")[1, 2], _unit(_gray(101, 6, 6)))
    torch.testing.assert_close(ds.field("a")[1, 0], _unit(_gray(1, 3, 3)))


def test_channels_converts_every_image(tmp_path):
    gray = _gray(7, 4, 4)
    _save(tmp_path / "0.png", np.concatenate([gray, gray], axis=1))
    colour = np.stack([gray] * 3, axis=-1)  # R = G = B: luma equals the gray value
    _save(tmp_path / "1.png", np.concatenate([colour, colour], axis=1))
    with pytest.raises(DataError, match=r"image .*1\.png is colour but .*0\.png is grayscale; set data.channels"):
        build_dataset(_cfg(path=str(tmp_path)))
    rgb = build_dataset(_cfg(path=str(tmp_path), channels=3)).field("a")
    one = build_dataset(_cfg(path=str(tmp_path), channels=1)).field("b")
    assert rgb.shape == (2, 3, 4, 4) and one.shape == (2, 1, 4, 4)
    for image in (rgb[0, 0], rgb[0, 2], rgb[1, 1], one[0, 0], one[1, 0]):
        torch.testing.assert_close(image, _unit(gray))
    with pytest.raises(ConfigError, match="data.channels must be 0"):
        build_dataset(_cfg(path=str(tmp_path), channels=2))


def test_resolution_resizes_each_half(tmp_path):
    _save(tmp_path / "0.png", _gray(0, 10, 4))
    _save(tmp_path / "1.png", _gray(0, 16, 8))  # another size: fine once resized
    ds = build_dataset(_cfg(path=str(tmp_path), resolution=6))
    assert ds.field("a").shape == ds.field("b").shape == (2, 1, 6, 6)


@pytest.mark.parametrize(
    "layout, message",
    [
        ("odd", r"odd\.png is 7x4: a side-by-side A\|B file needs an even width"),
        ("sizes", r"image .*1\.png is 8x4 but .*0\.png is 6x4; set data.resolution"),
        ("corrupt", r"cannot read image .*1\.png"),
        ("empty", r"paired-images: image folder .* contains no images"),
    ],
)
def test_side_by_side_errors_name_the_file(tmp_path, layout, message):
    if layout != "empty":
        _save(tmp_path / "0.png", _gray(0, 6, 4))
    if layout == "odd":
        _save(tmp_path / "odd.png", _gray(0, 7, 4))
    elif layout == "sizes":
        _save(tmp_path / "1.png", _gray(0, 8, 4))
    elif layout == "corrupt":
        (tmp_path / "1.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=message):
        build_dataset(_cfg(path=str(tmp_path)))


def test_two_folder_errors_name_the_file(tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    _save(a / "1.png", _gray(0, 4, 4))
    _save(a / "2.png", _gray(0, 4, 4))
    _save(b / "1.png", _gray(0, 4, 4))
    with pytest.raises(DataError, match=r"A/2\.png has no partner .*B/2\.png"):
        build_dataset(_cfg(path=str(a), path_b=str(b)))
    _save(b / "2.png", _gray(0, 4, 4))
    _save(b / "3.png", _gray(0, 4, 4))
    with pytest.raises(DataError, match=r"B/3\.png has no partner .*A/3\.png"):
        build_dataset(_cfg(path=str(a), path_b=str(b)))
    (b / "3.png").unlink()
    _save(b / "2.png", _gray(0, 5, 4))
    with pytest.raises(DataError, match=r"image .*B/2\.png is 5x4 but .*B/1\.png is 4x4"):
        build_dataset(_cfg(path=str(a), path_b=str(b)))
    with pytest.raises(DataError, match="needs a folder: set data.path"):
        build_dataset(_cfg())


def test_convert_channels_by_hand():
    x = torch.tensor([1.0, -1.0, 0.5]).reshape(1, 3, 1, 1)  # R, G, B
    torch.testing.assert_close(convert_channels(x, 1), torch.tensor(0.299 - 0.587 + 0.057).reshape(1, 1, 1, 1))
    g = torch.tensor([0.25]).reshape(1, 1, 1, 1)
    torch.testing.assert_close(convert_channels(g, 3), torch.full((1, 3, 1, 1), 0.25))
    assert convert_channels(x, 0) is x and convert_channels(x, 3) is x
