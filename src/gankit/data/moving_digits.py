"""Moving MNIST clips rendered on demand (Srivastava, Mansimov & Salakhutdinov, "Unsupervised
Learning of Video Representations using LSTMs", ICML 2015).

Field ``x``: a ``LazyField`` of float32 clips ``(T, 1, H, W)`` in [-1, 1] (default 20 frames of
64x64), rendered when a batch asks for them rather than held in memory; only the digit images
and two int64 indices per clip are stored. Field ``y``: int64 ``(N,)``, the class of each clip's
first digit.

Each clip holds ``K`` digits (28x28) that move in straight lines inside the frame and bounce
off its edges; where digits overlap the brighter pixel wins (maximum). Digit ``k`` of clip ``i``
starts at a uniform position in ``[0, L]^2`` (``L = H - 28``, the free range of its top-left
corner), moves at ``0.1 L`` pixels per frame in a uniform direction, and is reflected at 0 and
``L``: with ``q = (p0 + v t) mod 2L`` its position is ``q`` if ``q <= L`` else ``2L - q``, rounded
to whole pixels. Start and direction come from a generator seeded with ``(seed, i)``; which
digit images a clip shows is drawn once for all clips from ``seed``. So clip ``i`` is a pure
function of ``(seed, i)`` for a given digit set: the same clip in every batch, order or worker.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset, LazyField
from gankit.data.mnist import MNIST_CLASSES, load_mnist_arrays
from gankit.data.transforms import apply_limit, check_data_config, labels_to_tensor
from gankit.errors import ConfigError, ShapeError

CLIP_FRAMES = 20
CLIP_SIZE = 64
CLIP_DIGITS = 2
DIGIT_SIZE = 28
STEP_FRACTION = 0.1  # speed in units of the free range L per frame


def trajectories(rng: np.random.Generator, frames: int, free: int, digits: int) -> np.ndarray:
    """Top-left corners ``(frames, digits, 2)`` int64 (row, column) in ``[0, free]`` of ``digits``
    bouncing digits (see the module docstring); all zero when ``free`` is 0."""
    start = rng.uniform(0.0, free, size=(digits, 2))  # (K, 2)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=digits)  # (K,)
    if free == 0:
        return np.zeros((frames, digits, 2), dtype=np.int64)
    velocity = STEP_FRACTION * free * np.stack([np.sin(angle), np.cos(angle)], axis=1)  # (K, 2)
    t = np.arange(frames, dtype=np.float64)[:, None, None]  # (T, 1, 1)
    q = np.mod(start[None] + velocity[None] * t, 2.0 * free)  # (T, K, 2)
    position = np.where(q <= free, q, 2.0 * free - q)  # (T, K, 2)
    return np.clip(np.rint(position), 0, free).astype(np.int64)


def render_clip(digit_images: np.ndarray, corners: np.ndarray, size: int) -> np.ndarray:
    """Frames ``(T, size, size)`` uint8: the maximum over digits ``k`` of ``digit_images[k]``
    (``(K, 28, 28)`` uint8) pasted with its top-left corner at ``corners[t, k]`` (``(T, K, 2)``)."""
    frames = corners.shape[0]
    canvas = np.zeros((frames, size, size), dtype=np.uint8)  # (T, H, W)
    offsets = np.arange(DIGIT_SIZE)
    t = np.arange(frames)[:, None, None]  # (T, 1, 1)
    for k in range(corners.shape[1]):
        rows = (corners[:, k, 0, None] + offsets)[:, :, None]  # (T, 28, 1)
        cols = (corners[:, k, 1, None] + offsets)[:, None, :]  # (T, 1, 28)
        canvas[t, rows, cols] = np.maximum(canvas[t, rows, cols], digit_images[k][None])
    return canvas


class MovingDigits(LazyField):
    """``n`` clips ``(frames, 1, size, size)`` of ``digits_per_clip`` bouncing digits taken from
    ``images`` (``(M, 28, 28)`` uint8), rendered on demand (see the module docstring)."""

    def __init__(self, images: np.ndarray, n: int, seed: int, frames: int = CLIP_FRAMES,
                 size: int = CLIP_SIZE, digits_per_clip: int = CLIP_DIGITS) -> None:
        if images.ndim != 3 or images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or images.shape[0] == 0:
            raise ShapeError(f"digit images must be (M, {DIGIT_SIZE}, {DIGIT_SIZE}) with M > 0, got {images.shape}")
        if size < DIGIT_SIZE:
            raise ConfigError(
                f"data.resolution must be 0 (= {CLIP_SIZE}) or >= {DIGIT_SIZE} for moving digits, got {size}"
            )
        for key, value in (("data.n_samples", n), ("data.seq_len", frames), ("data.clip_digits", digits_per_clip)):
            if value < 1:
                raise ConfigError(f"{key} must be >= 1 for moving digits, got {value}")
        self.images = np.ascontiguousarray(images, dtype=np.uint8)
        self.seed = seed
        self.frames, self.size, self.digits_per_clip = frames, size, digits_per_clip
        generator = torch.Generator().manual_seed(seed)
        self.digit_ids = torch.randint(0, images.shape[0], (n, digits_per_clip), generator=generator)  # (N, K)

    def __len__(self) -> int:
        return self.digit_ids.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.frames, 1, self.size, self.size)

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def clip_rng(self, index: int) -> np.random.Generator:
        """The generator of clip ``index``: PCG64 seeded with the pair ``(seed, index)``."""
        return np.random.default_rng([self.seed % 2**64, index])

    def render(self, index: int) -> np.ndarray:
        """Clip ``index`` as uint8 frames ``(T, H, W)``."""
        corners = trajectories(self.clip_rng(index), self.frames, self.size - DIGIT_SIZE, self.digits_per_clip)
        return render_clip(self.images[self.digit_ids[index].numpy()], corners, self.size)

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """Clips ``idx`` (int64 ``(B,)``) as float32 ``(B, T, 1, H, W)``, pixel ``v`` mapped to
        ``v / 127.5 - 1``."""
        n = len(self)
        index = idx.tolist()
        bad = [i for i in index if not 0 <= i < n]
        if bad:
            raise IndexError(f"clip index {bad[0]} out of range for {n} clips")
        empty = np.zeros((0, self.frames, self.size, self.size), dtype=np.uint8)
        clips = np.stack([self.render(i) for i in index]) if index else empty  # (B, T, H, W)
        x = torch.from_numpy(clips.astype(np.float32)).div_(127.5).sub_(1.0)  # (B, T, H, W)
        return x.unsqueeze(2)  # (B, T, 1, H, W)


@DATASETS.register("moving-mnist", "MNIST digits bouncing in 64x64 clips of 20 frames, rendered on demand")
def build_moving_mnist(cfg: DataConfig) -> Dataset:
    """``data.n_samples`` clips of ``data.seq_len`` frames (0 = 20) of side ``data.resolution``
    (0 = 64; digits are not resized) with ``data.clip_digits`` digits from the MNIST
    ``data.split`` (its first ``data.limit`` images when > 0), drawn with ``data.seed``."""
    check_data_config(cfg)
    if cfg.seq_len < 0:
        raise ConfigError(f"data.seq_len must be >= 0 (0 = {CLIP_FRAMES} frames), got {cfg.seq_len}")
    images, labels = load_mnist_arrays("mnist", cfg.split, path=cfg.path, download=cfg.download)
    images, labels = apply_limit(images, cfg.limit), apply_limit(labels, cfg.limit)
    frames, size = cfg.seq_len or CLIP_FRAMES, cfg.resolution or CLIP_SIZE
    x = MovingDigits(images, cfg.n_samples, cfg.seed, frames, size, cfg.clip_digits)
    y = labels_to_tensor(labels)[x.digit_ids[:, 0]]  # (N,) class of each clip's first digit
    meta = {"frames": frames, "size": size, "digits_per_clip": cfg.clip_digits}
    return Dataset("moving-mnist", x=x, y=y, num_classes=10, class_names=MNIST_CLASSES, meta=meta)
