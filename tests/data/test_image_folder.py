from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.errors import DataError


def _unit(arr: np.ndarray) -> np.ndarray:
    return arr.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def _load(path: Path, **kw: object):  # type: ignore[no-untyped-def]
    return build_dataset(DataConfig(name="image-folder", path=str(path), **kw))  # type: ignore[arg-type]


def _gray(seed: int, size: tuple[int, int] = (5, 4)) -> np.ndarray:
    arr = np.random.default_rng(seed).integers(0, 256, size=size, dtype=np.uint8)
    arr[0, 0], arr[0, 1] = 0, 255
    return arr


def test_flat_grayscale_exact_values(tmp_path: Path) -> None:
    arrays = [_gray(i) for i in range(3)]
    for i, arr in enumerate(arrays):
        Image.fromarray(arr, mode="L").save(tmp_path / f"img{i}.png")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden.png").write_bytes(b"ignored")
    ds = _load(tmp_path)
    assert ds.x.shape == (3, 1, 5, 4) and ds.x.dtype == torch.float32
    assert ds.y is None and ds.num_classes == 0 and ds.class_names == ()
    np.testing.assert_array_equal(ds.x.numpy(), _unit(np.stack(arrays)[:, None]))
    assert ds.x[0, 0, 0, 0] == -1.0 and ds.x[0, 0, 0, 1] == 1.0


def test_class_subfolders_rgb(tmp_path: Path) -> None:
    red = np.zeros((3, 3, 3), dtype=np.uint8)
    red[..., 0] = 255
    blue = np.zeros((3, 3, 3), dtype=np.uint8)
    blue[..., 2] = 255
    mixed = np.arange(27, dtype=np.uint8).reshape(3, 3, 3) * 9
    for cls, arr, name in [("dog", blue, "b.png"), ("cat", red, "a.png"), ("cat", mixed, "z.bmp")]:
        (tmp_path / cls).mkdir(exist_ok=True)
        Image.fromarray(arr, mode="RGB").save(tmp_path / cls / name)
    ds = _load(tmp_path)
    assert ds.class_names == ("cat", "dog") and ds.num_classes == 2
    assert ds.y is not None and ds.y.dtype == torch.int64
    np.testing.assert_array_equal(ds.y.numpy(), [0, 0, 1])
    assert ds.x.shape == (3, 3, 3, 3)
    expected = _unit(np.stack([red, mixed, blue]).transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(ds.x.numpy(), expected)


def test_mixed_modes_become_rgb(tmp_path: Path) -> None:
    gray = _gray(0, (4, 4))
    rgb = np.random.default_rng(1).integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "a.png")
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "b.PNG")
    ds = _load(tmp_path)
    assert ds.x.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(ds.x[0].numpy(), _unit(np.stack([gray] * 3)))
    np.testing.assert_array_equal(ds.x[1].numpy(), _unit(rgb.transpose(2, 0, 1)))


def test_rgba_drops_alpha(tmp_path: Path) -> None:
    rgba = np.random.default_rng(2).integers(0, 256, size=(2, 3, 4), dtype=np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    ds = _load(tmp_path)
    np.testing.assert_array_equal(ds.x[0].numpy(), _unit(rgba[..., :3].transpose(2, 0, 1)))


def test_bilevel_is_grayscale(tmp_path: Path) -> None:
    bits = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    Image.fromarray(bits).save(tmp_path / "a.png")
    assert Image.open(tmp_path / "a.png").mode == "1"
    Image.fromarray(_gray(3, (2, 3)), mode="L").save(tmp_path / "b.png")
    ds = _load(tmp_path)
    assert ds.x.shape == (2, 1, 2, 3)
    np.testing.assert_array_equal(ds.x[0, 0].numpy(), np.where(bits, 1.0, -1.0).astype(np.float32))


def test_sizes_must_match_without_resolution(tmp_path: Path) -> None:
    Image.fromarray(_gray(0, (4, 4)), mode="L").save(tmp_path / "a.png")
    Image.fromarray(_gray(1, (6, 5)), mode="L").save(tmp_path / "b.png")
    with pytest.raises(DataError, match="b.png is 5x6.*resolution"):
        _load(tmp_path)
    ds = _load(tmp_path, resolution=8)
    assert ds.x.shape == (2, 1, 8, 8)
    for i, name in enumerate(["a.png", "b.png"]):
        ref = np.asarray(Image.open(tmp_path / name).resize((8, 8), Image.Resampling.BICUBIC))
        np.testing.assert_array_equal(ds.x[i, 0].numpy(), _unit(ref))


def test_limit_takes_sorted_prefix(tmp_path: Path) -> None:
    arrays = [_gray(i, (2, 2)) for i in range(4)]
    for i, arr in enumerate(arrays):
        Image.fromarray(arr, mode="L").save(tmp_path / f"{i:02d}.png")
    ds = _load(tmp_path, limit=2)
    np.testing.assert_array_equal(ds.x.numpy(), _unit(np.stack(arrays[:2])[:, None]))


def test_unreadable_image_names_file(tmp_path: Path) -> None:
    Image.fromarray(_gray(0), mode="L").save(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(b"definitely not a jpeg")
    with pytest.raises(DataError, match="bad.jpg"):
        _load(tmp_path)


def test_truncated_image_names_file(tmp_path: Path) -> None:
    Image.fromarray(_gray(0, (64, 64)), mode="L").save(tmp_path / "cut.png")
    data = (tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.png"):
        _load(tmp_path)


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no images"):
        _load(tmp_path)
    (tmp_path / "cls").mkdir()
    with pytest.raises(DataError, match="cls contains no images"):
        _load(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        _load(tmp_path / "missing")
    with pytest.raises(DataError, match="data.path"):
        build_dataset(DataConfig(name="image-folder"))


def test_images_next_to_class_folders(tmp_path: Path) -> None:
    (tmp_path / "cls").mkdir()
    Image.fromarray(_gray(0), mode="L").save(tmp_path / "cls" / "a.png")
    Image.fromarray(_gray(1), mode="L").save(tmp_path / "stray.png")
    with pytest.raises(DataError, match="stray.png"):
        _load(tmp_path)
