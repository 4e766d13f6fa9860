"""Feature extractors for ``evaluate``: a small registry of what turns samples into features.

=============  ===========================================  ==========================
name           features                                     class probabilities
=============  ===========================================  ==========================
``inception``  FID Inception-v3 pool features (N, 2048)     softmax of the 1008 logits
                                                            (pytorch-fid weights only)
``classifier`` the domain classifier's penultimate (N, 128) its 10-way softmax
``identity``   the raw values, flattened (N, D)             none
=============  ===========================================  ==========================

Defaults (``default_extractor``): images -> ``inception``, vectors -> ``identity``.
The domain classifier is the one named by ``classifier`` (``--classifier``), else the one
for the real data's dataset (``mnist``, ``fashion-mnist``, ``digits``), else the fake's.
Each extractor's ``describe()`` is JSON (name, weights sha256, resize mode): the real-data
feature cache hashes it, and reports print it.

An extractor without class probabilities raises ``MetricError`` from ``probabilities``
(so Inception Score / Mode Score say why they cannot be computed).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, Sequence

import numpy as np
import torch
from torch import Tensor

from gankit.errors import ConfigError, MetricError
from gankit.hashing import sha256_file
from gankit.metrics.classifier import SHIPPED, classifier_card, load_classifier, predict
from gankit.metrics.classifier import features as classifier_features
from gankit.metrics.features import InceptionExtractor, resolve_weights
from gankit.metrics.features.extract import DEFAULT_BATCH_SIZE
from gankit.registry import Registry

RESIZE_MODES: tuple[str, ...] = ("pytorch-fid", "clean")
DEFAULT_RESIZE = "pytorch-fid"
CLASSIFIER_BATCH = 500


class Extractor(Protocol):
    """What ``evaluate`` needs from a feature extractor."""

    name: str

    def describe(self) -> dict[str, Any]: ...  # JSON-able: what determines the features

    def check_input(self, x: Tensor, what: str) -> None: ...  # MetricError if it cannot take x

    def has_probabilities(self) -> bool: ...

    def features(self, x: Tensor) -> np.ndarray: ...  # (N, F) float64

    def probabilities(self, x: Tensor) -> np.ndarray: ...  # (N, K) float64, rows sum to 1

    def features_and_probabilities(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class ExtractorOptions:
    """Everything an extractor may be built from (all optional)."""

    classifier: Optional[str] = None  # domain classifier name; None = from the datasets
    datasets: tuple[str, ...] = ()  # dataset names of the real then fake samples, if known
    resize: str = DEFAULT_RESIZE  # Inception input pipeline: pytorch-fid | clean
    batch_size: Optional[int] = None  # images per network call (None = the extractor's default)
    device: str = "cpu"
    inception_weights: Optional[str] = None  # path / "pytorch-fid" / "fid-helper"; None = resolve
    allow_download: bool = True  # may download pytorch-fid's Inception weights
    num_threads: Optional[int] = None  # torch threads during Inception extraction (None = as is)


EXTRACTORS: Registry[Callable[[ExtractorOptions], Extractor]] = Registry("feature extractor")


@lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)  # size and mtime only key the memo


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, memoised per (path, size, mtime)."""
    st = os.stat(path)
    return _sha256_cached(os.path.abspath(path), st.st_size, st.st_mtime_ns)


def _require_images(name: str, x: Tensor, what: str) -> None:
    if x.ndim != 4:
        raise MetricError(
            f"{name} features need images (N, C, H, W), but {what} are vectors of shape "
            f"{tuple(x.shape)}; use --features identity (features='identity')"
        )


def _softmax64(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- identity


class IdentityExtractor:
    """The raw values, flattened: ``(N, D)`` or ``(N, C*H*W)`` float64. No probabilities."""

    name = "identity"
    cacheable = False  # flattening is free: real "features" are never cached
    needs_same_shape = True  # real and generated samples must have one shape

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def feature_dim(self, sample_shape: tuple[int, ...]) -> int:
        return math.prod(sample_shape)

    def check_input(self, x: Tensor, what: str) -> None:
        return None

    def has_probabilities(self) -> bool:
        return False

    def features(self, x: Tensor) -> np.ndarray:
        return x.detach().cpu().reshape(x.shape[0], -1).to(torch.float64).numpy()

    def probabilities(self, x: Tensor) -> np.ndarray:
        raise MetricError(
            "identity features have no class probabilities; Inception Score and Mode Score need "
            "--features inception or --features classifier"
        )

    def features_and_probabilities(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
        return self.features(x), self.probabilities(x)


# ----------------------------------------------------------------------------- classifier


def pick_classifier(classifier: Optional[str], datasets: Sequence[Optional[str]]) -> str:
    """The classifier name: explicit, else the first dataset that has a shipped classifier."""
    if classifier:
        return classifier
    for name in datasets:
        if name in SHIPPED:
            return name
    raise ConfigError(
        "classifier features need a domain classifier and the data does not name one: pass "
        f"--classifier NAME (classifier=NAME); shipped: {', '.join(SHIPPED)}"
    )


class ClassifierExtractor:
    """A domain classifier (``gankit.metrics.classifier``): penultimate features and softmax."""

    name = "classifier"

    def __init__(self, classifier: str, batch_size: Optional[int] = None, device: str = "cpu") -> None:
        self.classifier_name = classifier
        self.model = load_classifier(classifier).to(device)
        self.card = classifier_card(classifier)
        self.batch_size = batch_size or CLASSIFIER_BATCH

    def feature_dim(self, sample_shape: tuple[int, ...]) -> int:
        return self.model.arch.feature_dim

    def describe(self) -> dict[str, Any]:
        res = self.model.resolution
        return {
            "name": self.name,
            "classifier": self.classifier_name,
            "weights_sha256": self.card["sha256"],
            "resize": f"bilinear to {res}x{res}",
        }

    def check_input(self, x: Tensor, what: str) -> None:
        _require_images(f"classifier ({self.classifier_name})", x, what)
        if x.shape[1] != self.model.channels:
            raise MetricError(
                f"the {self.classifier_name} classifier takes {self.model.channels}-channel images, "
                f"but {what} have {x.shape[1]} channels (shape {tuple(x.shape)})"
            )

    def has_probabilities(self) -> bool:
        return True

    def features(self, x: Tensor) -> np.ndarray:
        return classifier_features(self.model, x, batch_size=self.batch_size)  # (N, 128)

    def probabilities(self, x: Tensor) -> np.ndarray:
        return predict(self.model, x, batch_size=self.batch_size)[1]  # (N, K)

    def predict(self, x: Tensor) -> np.ndarray:
        """Predicted labels (N,) int64."""
        return predict(self.model, x, batch_size=self.batch_size)[0]

    def features_and_probabilities(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
        feats = classifier_features(self.model, x, batch_size=self.batch_size)  # (N, 128)
        return feats, predict(self.model, x, batch_size=self.batch_size)[1]


# ----------------------------------------------------------------------------- inception


class InceptionFeatureExtractor:
    """FID Inception-v3 (``gankit.metrics.features.InceptionExtractor``), built on first use.

    ``describe()`` hashes the weights file without building the network, so a cache hit
    never loads Inception. ``extractor`` may be a ready ``InceptionExtractor`` (tests).
    """

    name = "inception"
    dim = 2048  # pool features

    def feature_dim(self, sample_shape: tuple[int, ...]) -> int:
        return self.dim

    def __init__(
        self,
        weights: Optional[str] = None,
        resize: str = DEFAULT_RESIZE,
        batch_size: Optional[int] = None,
        device: str = "cpu",
        *,
        allow_download: bool = True,
        num_threads: Optional[int] = None,
        extractor: Any = None,
    ) -> None:
        if resize not in RESIZE_MODES:
            raise ConfigError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
        self.resize = resize
        self._options = dict(
            batch_size=batch_size, device=device, allow_download=allow_download, num_threads=num_threads
        )
        self._ex = extractor
        if extractor is not None:
            self.resize = extractor.mode
            path = extractor.weights.path if extractor.weights is not None else None
        else:
            path = resolve_weights(weights, allow_download=allow_download)
        self.weights_path: Optional[Path] = Path(path) if path is not None else None

    def _extractor(self) -> Any:
        if self._ex is None:
            opts = self._options
            self._ex = InceptionExtractor(
                os.fspath(self.weights_path),
                mode=self.resize,  # type: ignore[arg-type]
                batch_size=opts["batch_size"] or DEFAULT_BATCH_SIZE,
                device=opts["device"],
                allow_download=opts["allow_download"],
                num_threads=opts["num_threads"],
            )
        return self._ex

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "network": "fid-inception-v3", "resize": self.resize}
        if self.weights_path is not None:
            out.update(weights_file=self.weights_path.name, weights_sha256=file_sha256(self.weights_path))
        else:  # an in-memory network (tests): identify it by its parameters
            h = hashlib.sha256()
            for k, v in sorted(self._extractor().model.state_dict().items()):
                h.update(k.encode())
                h.update(v.detach().cpu().contiguous().numpy().tobytes())
            out.update(weights_file=None, weights_sha256=h.hexdigest())
        return out

    def check_input(self, x: Tensor, what: str) -> None:
        _require_images("inception", x, what)
        if x.shape[1] not in (1, 3):
            raise MetricError(f"inception features need 1- or 3-channel images, {what} have {x.shape[1]} channels")

    def has_probabilities(self) -> bool:
        return bool(self._extractor().has_logits)

    def features(self, x: Tensor) -> np.ndarray:
        return self._extractor().features(x)

    def probabilities(self, x: Tensor) -> np.ndarray:
        return _softmax64(self._extractor().logits(x))

    def features_and_probabilities(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
        feats, logits = self._extractor().features_and_logits(x)
        return feats, _softmax64(logits)


# ----------------------------------------------------------------------------- registry


@EXTRACTORS.register("inception", "FID Inception-v3: 2048-d pool features, 1008-way probabilities if available")
def _build_inception(opts: ExtractorOptions) -> Extractor:
    return InceptionFeatureExtractor(
        opts.inception_weights,
        opts.resize,
        opts.batch_size,
        opts.device,
        allow_download=opts.allow_download,
        num_threads=opts.num_threads,
    )


@EXTRACTORS.register("classifier", "domain classifier (mnist / fashion-mnist / digits): 128-d features, 10 classes")
def _build_classifier(opts: ExtractorOptions) -> Extractor:
    return ClassifierExtractor(pick_classifier(opts.classifier, opts.datasets), opts.batch_size, opts.device)


@EXTRACTORS.register("identity", "the raw values flattened (2-D toys, tables, pixels); no probabilities")
def _build_identity(opts: ExtractorOptions) -> Extractor:
    return IdentityExtractor()


def default_extractor(x: Tensor) -> str:
    """``"inception"`` for images (N, C, H, W), ``"identity"`` for vectors (N, D)."""
    return "inception" if x.ndim == 4 else "identity"


def build_extractor(name: str, options: Optional[ExtractorOptions] = None) -> Extractor:
    """The extractor registered as ``name`` (``ConfigError`` listing the known ones)."""
    return EXTRACTORS.get(name)(options or ExtractorOptions())
