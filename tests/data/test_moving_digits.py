import gzip
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.data.moving_digits import (
    STEP_FRACTION,
    MovingDigits,
    render_clip,
    trajectories,
)
from gankit.errors import ConfigError


def simulate(rng: np.random.Generator, frames: int, free: int, digits: int) -> np.ndarray:
    """Step-by-step bouncing (reflect the position and flip the velocity at 0 and free)."""
    pos = rng.uniform(0.0, free, size=(digits, 2))
    angle = rng.uniform(0.0, 2.0 * math.pi, size=digits)
    vel = STEP_FRACTION * free * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    out = []
    for _ in range(frames):
        out.append(np.rint(pos).astype(np.int64))
        pos = pos + vel
        low, high = pos < 0, pos > free
        pos = np.where(low, -pos, np.where(high, 2 * free - pos, pos))
        vel = np.where(low | high, -vel, vel)
    return np.stack(out)


@pytest.mark.parametrize("free", [36, 4])
def test_closed_form_bounce_matches_step_by_step(free: int) -> None:
    got = trajectories(np.random.default_rng(7), 60, free, 3)
    assert got.shape == (60, 3, 2) and got.min() >= 0 and got.max() <= free
    np.testing.assert_array_equal(got, simulate(np.random.default_rng(7), 60, free, 3))
    assert (np.diff(got, axis=0) != 0).any()


def test_render_pastes_digits_with_max_where_they_overlap() -> None:
    digits = np.stack([np.full((28, 28), 200, np.uint8), np.full((28, 28), 100, np.uint8)])
    corners = np.array([[[10, 20], [0, 0]], [[2, 3], [2, 3]]])  # (T=2, K=2, 2)
    frames = render_clip(digits, corners, 64)
    expected = np.zeros((2, 64, 64), np.uint8)
    expected[0, 0:28, 0:28] = 100
    expected[0, 10:38, 20:48] = 200  # overlap: max(200, 100), though digit 1 is pasted last
    expected[1, 2:30, 3:31] = 200
    np.testing.assert_array_equal(frames, expected)


def test_clip_is_a_function_of_seed_and_index_only() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    field = MovingDigits(images, n=30, seed=5, frames=6, size=40, digits_per_clip=2)
    assert len(field) == 30 and field.shape == (6, 1, 40, 40) and field.dtype == torch.float32
    batch = field.take(torch.tensor([12, 3, 29]))
    assert batch.shape == (3, 6, 1, 40, 40) and batch.dtype == torch.float32
    assert_close(field.take(torch.tensor([3]))[0], batch[1], rtol=0, atol=0)
    assert_close(field.materialise()[[12, 3, 29]], batch, rtol=0, atol=0)
    again = MovingDigits(images, n=30, seed=5, frames=6, size=40, digits_per_clip=2)
    assert_close(again.take(torch.tensor([29, 12])), batch[[2, 0]], rtol=0, atol=0)
    other = MovingDigits(images, n=30, seed=6, frames=6, size=40, digits_per_clip=2)
    assert not torch.equal(other.take(torch.tensor([12])), batch[:1])
    # pixels v -> v / 127.5 - 1, and every frame shows exactly the clip's digits
    raw = field.render(3)
    assert_close(batch[1, :, 0], torch.from_numpy(raw.astype(np.float32)) / 127.5 - 1)


def test_single_white_digit_keeps_its_mass_in_every_frame() -> None:
    field = MovingDigits(np.full((1, 28, 28), 255, np.uint8), n=4, seed=0, frames=20, size=64, digits_per_clip=1)
    clips = field.materialise()  # (4, 20, 1, 64, 64)
    assert_close((clips == 1.0).sum(dim=(2, 3, 4)), torch.full((4, 20), 28 * 28))
    assert set(clips.unique().tolist()) == {-1.0, 1.0}
    # one digit image, so only the trajectories can tell seeds apart
    other = MovingDigits(np.full((1, 28, 28), 255, np.uint8), n=4, seed=1, frames=20, size=64, digits_per_clip=1)
    assert not torch.equal(other.take(torch.tensor([0])), clips[:1])


def test_bad_options() -> None:
    images = np.zeros((3, 28, 28), np.uint8)
    with pytest.raises(ConfigError, match="data.resolution"):
        MovingDigits(images, n=2, seed=0, size=20)
    with pytest.raises(ConfigError, match="data.clip_digits"):
        MovingDigits(images, n=2, seed=0, digits_per_clip=0)
    with pytest.raises(IndexError, match="clip index 2"):
        MovingDigits(images, n=2, seed=0).take(torch.tensor([2]))


def read_mnist(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST train images (N, 28, 28) and labels read with gzip + NumPy, independently of gankit."""
    with gzip.open(root / "mnist" / "train-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(root / "mnist" / "train-labels-idx1-ubyte.gz") as fh:
        labels = np.frombuffer(fh.read(), dtype=np.uint8, offset=8).astype(np.int64)
    return images, labels


def test_registered_moving_mnist_shows_the_labelled_digit(real_data: Path) -> None:
    from gankit.config import DataConfig
    from gankit.data import build_dataset

    images, labels = read_mnist(real_data)
    # a 28x28 frame leaves no room to move: every frame is exactly the clip's one digit
    cfg = DataConfig(name="moving-mnist", path=str(real_data), download=False, n_samples=12, seq_len=3,
                     resolution=28, clip_digits=1, seed=9)
    ds = build_dataset(cfg)
    assert len(ds) == 12 and ds.sample_shape == (3, 1, 28, 28) and ds.num_classes == 10
    x = ds.x.materialise()  # (12, 3, 1, 28, 28)
    chosen = ds.x.digit_ids[:, 0].numpy()
    expected = torch.from_numpy(images[chosen].astype(np.float32) / 127.5 - 1)  # (12, 28, 28)
    assert_close(x[:, :, 0], expected[:, None].expand(12, 3, 28, 28))
    assert_close(ds.y, torch.from_numpy(labels[chosen]))
    assert ds.meta == {"frames": 3, "size": 28, "digits_per_clip": 1}
    default = build_dataset(DataConfig(name="moving-mnist", path=str(real_data), download=False, n_samples=2))
    assert default.sample_shape == (20, 1, 64, 64)


def test_loader_batches_hold_the_clips_of_their_indices() -> None:
    from gankit.data.base import Dataset
    from gankit.train.loader import EpochLoader

    images = np.random.default_rng(1).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    field = MovingDigits(images, n=10, seed=3, frames=4, size=32, digits_per_clip=2)
    loader = EpochLoader(Dataset("clips", x=field), batch_size=4, seed=0, device=torch.device("cpu"))
    fresh = MovingDigits(images, n=10, seed=3, frames=4, size=32, digits_per_clip=2)
    seen = set()
    for _ in range(4):  # two epochs of two batches, reshuffled
        batch = loader.next()
        assert batch["x"].shape == (4, 4, 1, 32, 32)
        assert_close(batch["x"], torch.stack([fresh.take(i.view(1))[0] for i in batch["index"]]), rtol=0, atol=0)
        seen.update(batch["index"].tolist())
    assert len(seen) > 4
