"""``EvalContext``: what one ``evaluate`` call shares between its metrics.

It holds the generated ``SampleSet``, loads the real samples only when a metric asks for
them, builds the feature extractor once, and extracts features (real ones through the
``FeatureCache``, generated ones never cached), timing each stage.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data import DATASETS
from gankit.errors import ConfigError, MetricError
from gankit.metrics.cache import FEATURES, PROBS, FeatureCache, make_key
from gankit.metrics.extractors import (
    ClassifierExtractor,
    Extractor,
    ExtractorOptions,
    build_extractor,
    default_extractor,
)
from gankit.metrics.sources import SampleSet, load_samples, samples_from_dataset
from gankit.sharding import gather_shares, share_of


class EvalContext:
    """Lazily loads real samples, builds the extractor and extracts/caches features.

    ``real_source`` is anything ``load_samples`` takes, or a ``DataConfig`` (a generator's
    own dataset, built as configured); ``n_feat`` is the number of generated samples the
    feature metrics use; ``n_real`` the number of real ones (``None``: ``min(n_feat, available)``).
    """

    def __init__(
        self,
        fake: SampleSet,
        real_source: Any,
        real_kwargs: dict[str, Any],
        n_real: Optional[int],
        features: Any,
        ext_options: ExtractorOptions,
        cache: FeatureCache,
        seed: int,
        n_feat: int,
    ) -> None:
        self.fake_all = fake
        self.real_source = real_source
        self.real_kwargs = real_kwargs
        self.n_real = n_real
        self.features_arg = features
        self.ext_options = ext_options
        self.cache = cache
        self.seed = seed
        self.n_feat = n_feat
        self.timings: dict[str, float] = {}
        self.real_cache: dict[str, Any] = {}
        self._real: Optional[SampleSet] = None
        self._extractor: Optional[Extractor] = None
        self._real_arrays: dict[str, np.ndarray] = {}
        self._fake_arrays: dict[str, np.ndarray] = {}
        self._classifiers: dict[str, ClassifierExtractor] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the time spent inside to ``timings[name]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    # -------------------------------------------------------------- samples

    def fake(self, n: Optional[int] = None) -> SampleSet:
        """The first ``n`` generated samples (default: ``n_feat``)."""
        return self.fake_all.head(n if n is not None else self.n_feat)

    @property
    def has_real(self) -> bool:
        return self.real_source is not None

    @property
    def loaded_real(self) -> Optional[SampleSet]:
        """The real samples if a metric has loaded them, else ``None`` (never loads)."""
        return self._real

    @property
    def loaded_extractor(self) -> Optional[Extractor]:
        """The extractor if a metric has built it, else ``None`` (never builds)."""
        return self._extractor

    def real(self) -> SampleSet:
        """The real samples: ``n_real`` of them, or ``min(n_feat, available)``."""
        if self._real is None:
            if self.real_source is None:
                raise ConfigError("this metric needs real data: pass real=... (--real DATASET|FOLDER|NPZ)")
            with self.stage("load_real"):
                if isinstance(self.real_source, DataConfig):  # a generator's own dataset
                    everything = samples_from_dataset(self.real_source.name, config=self.real_source, seed=self.seed)
                else:
                    everything = load_samples(self.real_source, n=None, seed=self.seed, **self.real_kwargs)
                want = self.n_real if self.n_real is not None else min(self.n_feat, len(everything))
                self._real = load_samples(everything, n=want, seed=self.seed)
        return self._real

    def real_dataset_name(self) -> Optional[str]:
        """The registered dataset behind the real data, if any (it picks the domain classifier)."""
        src = self.real_source
        if isinstance(src, SampleSet):
            return src.dataset
        if isinstance(src, DataConfig):
            return src.name
        if isinstance(src, str):
            return src if src in DATASETS else None
        return None

    # -------------------------------------------------------------- extractor

    def extractor(self) -> Extractor:
        """The feature extractor (``features=`` or the default for the generated samples)."""
        if self._extractor is None:
            with self.stage("extractor"):
                spec = self.features_arg
                if spec is None:
                    spec = default_extractor(self.fake_all.x)
                if isinstance(spec, str):
                    datasets = tuple(d for d in (self.real_dataset_name(), self.fake_all.dataset) if d is not None)
                    opts = ExtractorOptions(**{**self.ext_options.__dict__, "datasets": datasets})
                    self._extractor = build_extractor(spec, opts)
                else:
                    self._extractor = spec
        return self._extractor

    def classifier(self, name: str) -> ClassifierExtractor:
        """The domain classifier ``name`` (the feature extractor itself when it is that one)."""
        ext = self._extractor
        if isinstance(ext, ClassifierExtractor) and ext.classifier_name == name:
            return ext
        if name not in self._classifiers:
            self._classifiers[name] = ClassifierExtractor(name, self.ext_options.batch_size, self.ext_options.device)
        return self._classifiers[name]

    def require_probabilities(self) -> None:
        """``MetricError`` unless the extractor gives class probabilities."""
        ext = self.extractor()
        if not ext.has_probabilities():
            ext.probabilities(self.fake_all.x[:0])  # raises the extractor's own MetricError
            raise MetricError(f"{ext.name} features have no class probabilities")

    # -------------------------------------------------------------- features

    def _extract(self, samples: SampleSet, what: str, with_probs: bool) -> dict[str, np.ndarray]:
        """Features (and probabilities) of ``samples``; under several processes each extracts its
        share of the rows and every process gets all of them back, in order."""
        ext = self.extractor()
        ext.check_input(samples.x, what)
        x = samples.x[share_of(len(samples.x))]  # all rows in one process
        if isinstance(ext, ClassifierExtractor):
            x = samples.classifier_view(x)
        if with_probs and ext.has_probabilities():
            f, p = ext.features_and_probabilities(x)  # (N, F), (N, K)
            return {FEATURES: _gathered(f), PROBS: _gathered(p)}
        return {FEATURES: _gathered(ext.features(x))}  # (N, F)

    def real_arrays(self, want_probs: bool = False) -> dict[str, np.ndarray]:
        """Features (and probabilities) of the real samples, through the cache."""
        required = (FEATURES, PROBS) if want_probs else (FEATURES,)
        if all(k in self._real_arrays for k in required):
            return self._real_arrays
        real = self.real()
        ext = self.extractor()
        ext.check_input(real.x, "the real samples")
        with self.stage("features_real"):
            if self.cache.enabled and getattr(ext, "cacheable", True):
                # a cached entry holds probabilities whenever the extractor has them
                key = make_key(real.identity, ext.describe())
                arrays, hit = self.cache.get_or_compute(
                    key, lambda: self._extract(real, "the real samples", True), required
                )
                self.real_cache = {"hit": hit, "path": str(self.cache.path_for(key))}
            else:
                arrays = self._extract(real, "the real samples", want_probs)
        self._real_arrays = arrays
        return arrays

    def fake_arrays(self, want_probs: bool = False) -> dict[str, np.ndarray]:
        """Features (and probabilities) of the first ``n_feat`` generated samples (never cached)."""
        required = (FEATURES, PROBS) if want_probs else (FEATURES,)
        if all(k in self._fake_arrays for k in required):
            return self._fake_arrays
        with self.stage("features_fake"):
            self._fake_arrays = self._extract(self.fake(), "the generated samples", want_probs)
        return self._fake_arrays


def _gathered(share: np.ndarray) -> np.ndarray:
    """Every process's rows of a sharded feature array, in rank order (``share`` in one process)."""
    return gather_shares(torch.from_numpy(np.ascontiguousarray(share))).numpy()
