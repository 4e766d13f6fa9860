"""unpaired-images (two folders or two registered datasets) and mnist2digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.config import DataConfig
from gankit.data import Dataset, build_dataset
from gankit.data.transforms import box_crop, frame_images
from gankit.data.unpaired import domain_of
from gankit.errors import ConfigError, DataError
from gankit.runs.translation import target_view
from gankit.train.loader import EpochLoader


def _save(path: Path, value: int, size: int = 4, mode: str = "L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size, size) if mode == "L" else (size, size, 3)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    """A: classes cat (3 images) and dog (2), grayscale; B: 4 unlabelled RGB images."""
    a, b = tmp_path / "A", tmp_path / "B"
    for i in range(3):
        _save(a / "cat" / f"{i}.png", 10 + i)
    for i in range(2):
        _save(a / "dog" / f"{i}.png", 100 + i)
    for i in range(4):
        _save(b / f"{i}.png", 255 - i, mode="RGB")
    return a, b


def test_two_folders_make_two_groups_of_their_own_sizes(tmp_path):
    a, b = _folders(tmp_path)
    ds = build_dataset(DataConfig(name="unpaired-images", path=str(a), path_b=str(b)))
    assert {g: list(f) for g, f in ds.groups.items()} == {"a": ["a", "y_a"], "b": ["b"]}
    assert (len(ds), ds.group_len("b"), ds.num_classes, ds.class_names) == (5, 4, 2, ("cat", "dog"))
    torch.testing.assert_close(ds.field("y_a"), torch.tensor([0, 0, 0, 1, 1]))
    want_a = torch.tensor([10, 11, 12, 100, 101], dtype=torch.float32) / 127.5 - 1  # (5,)
    torch.testing.assert_close(ds.field("a")[:, 0, 2, 1], want_a)
    assert ds.field("a").shape == (5, 1, 4, 4) and ds.field("b").shape == (4, 3, 4, 4)
    torch.testing.assert_close(ds.field("b")[:, 1, 0, 0], torch.tensor([255.0, 254, 253, 252]) / 127.5 - 1)
    assert ds.meta["domains"]["a"]["class_names"] == ["cat", "dog"] and ds.meta["domains"]["b"]["size"] == 4
    batch = EpochLoader(ds, batch_size=2, seed=0, device=torch.device("cpu")).next()
    assert list(batch) == ["a", "y_a", "index", "b", "index_b"]
    torch.testing.assert_close(batch["a"], ds.field("a")[batch.index])
    torch.testing.assert_close(batch["b"], ds.field("b")[batch["index_b"]])
    one = build_dataset(DataConfig(name="unpaired-images", path=str(a), path_b=str(b), channels=1, limit=2))
    assert one.field("b").shape == (2, 1, 4, 4) and len(one) == 2


def test_registered_domains(tmp_path):
    cfg = DataConfig(name="unpaired-images", domains=("digits", "digits"), split="test", resolution=16, channels=3)
    ds = build_dataset(cfg)
    digits = build_dataset(DataConfig(name="digits", split="test", resolution=16))
    assert ds.field("a").shape == (297, 3, 16, 16)
    for c in range(3):
        torch.testing.assert_close(ds.field("b")[:, c], digits.x[:, 0])
    torch.testing.assert_close(ds.field("y_b"), digits.y)
    assert ds.meta["domains"]["b"]["name"] == "digits"


@pytest.mark.parametrize(
    "kw, error, message",
    [
        ({"domains": ("digits",)}, ConfigError, "data.domains must name two"),
        ({"domains": ("digits", "nope")}, ConfigError, "unknown dataset 'nope'"),
        ({"domains": ("digits", "digits"), "path_b": "x"}, ConfigError, "not both"),
        ({"path": "x"}, DataError, "needs two image folders"),
    ],
)
def test_unpaired_config_errors(kw, error, message):
    with pytest.raises(error, match=message):
        build_dataset(DataConfig(name="unpaired-images", **kw))


def test_a_domain_needs_one_group_with_x():
    two = Dataset("two", groups={"a": {"a": torch.zeros(2, 1)}, "b": {"b": torch.zeros(3, 1)}})
    with pytest.raises(ConfigError, match="dataset 'two' cannot be an unpaired domain"):
        domain_of(two)
    with pytest.raises(ConfigError, match=r"data.channels needs images, but dataset 'v' has examples of shape \(2,\)"):
        domain_of(Dataset("v", torch.zeros(3, 2)), channels=3)


def test_mnist2digits(real_data):
    from sklearn.datasets import load_digits

    ds = build_dataset(DataConfig(name="mnist2digits", path=str(real_data), download=False, limit=20, split="test"))
    mnist = build_dataset(DataConfig(name="mnist", path=str(real_data), download=False, limit=20, split="test"))
    torch.testing.assert_close(ds.field("a"), mnist.x)
    torch.testing.assert_close(ds.field("y_a"), mnist.y)
    bunch = load_digits()
    images = torch.from_numpy(bunch.images[-297:][:20]).to(torch.float32)[:, None] / 8.0 - 1.0  # (20, 1, 8, 8)
    want = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False).clamp(-1, 1)
    torch.testing.assert_close(ds.field("b"), want)
    torch.testing.assert_close(ds.field("y_b"), torch.from_numpy(bunch.target[-297:][:20]).long())
    assert ds.field("b").dtype == torch.float32 and float(ds.field("b").min()) >= -1.0


def test_mnist2digits_digit_box_frames_digits_as_mnist(real_data):
    from sklearn.datasets import load_digits

    ds = build_dataset(DataConfig(name="mnist2digits", path=str(real_data), download=False, limit=5, split="test",
                                  digit_box=20))
    images = torch.from_numpy(load_digits().images[-297:][:5]).to(torch.float32)[:, None] / 8.0 - 1.0
    inner = F.interpolate(images, size=(20, 20), mode="bilinear", align_corners=False).clamp(-1, 1)
    want = torch.full((5, 1, 28, 28), -1.0)
    want[:, :, 4:24, 4:24] = inner  # MNIST's framing: a 20x20 box centred in 28x28
    torch.testing.assert_close(ds.field("b"), want)
    torch.testing.assert_close(box_crop(ds.field("b"), 20), inner)  # box_crop undoes the frame
    # translations into domain b are read by the digits classifier through that box, at 8x8
    assert ds.meta["domains"]["b"]["box"] == 20 and ds.meta["domains"]["b"]["native"] == 8
    assert target_view(ds) == {"view_box": 20, "view_native": 8}


def test_frame_images_and_box_crop_by_hand():
    x = torch.arange(6.0).reshape(1, 1, 2, 3)
    framed = frame_images(x, 5)  # rows: 1 above, 2 below; columns: 1 left, 1 right
    assert framed.shape == (1, 1, 5, 5)
    torch.testing.assert_close(framed[0, 0, 1:3, 1:4], x[0, 0])
    assert float(framed.sum()) == float(x.sum()) - (25 - 6)
    torch.testing.assert_close(box_crop(torch.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0],
                               torch.tensor([[5.0, 6.0], [9.0, 10.0]]))


@pytest.mark.parametrize("box", [7, 29, -1])
def test_mnist2digits_refuses_a_box_outside_the_frame(box):
    with pytest.raises(ConfigError, match=f"data.digit_box={box}: the box must lie in 8..28, or 0"):
        build_dataset(DataConfig(name="mnist2digits", digit_box=box, download=False, path="/nonexistent"))
