"""``evaluate(real, fake, metrics=[...])``: samples -> features -> pure statistics -> numbers.

Each metric is dispatched by what it needs (``EVALUATIONS`` registry, ``list_metrics()``):

=================  ===========================================================================
needs              metrics
=================  ===========================================================================
features of both   ``fid kid pr dc nn1 mmd swd wasserstein emc parzen``
probabilities      ``is`` (fake only), ``mode_score`` (fake and real)
the fake alone     ``mode_coverage`` (2-D samples + the mixture's mode centres),
                   ``class_acc`` (a conditional run: intended labels vs the domain classifier),
                   ``stacked_mnist`` ((N, 3, 28, 28) samples, each channel -> MNIST classifier)
=================  ===========================================================================

**Samples.** ``fake`` is a run directory / ``LoadedRun`` (sampled with ``seed``), a dataset
name, an image folder, an ``.npz`` file or an array (see ``gankit.metrics.sources``).
``real`` likewise; for a run it defaults to the run's own dataset, test split, every example
(synthetic toys: a fresh draw with ``data.seed + 1``), same resolution.

**How many.** ``n`` generated samples for every metric. ``n=None``: a run gives each metric
its protocol size (``mode_coverage`` 2,500, ``stacked_mnist`` 26,000) and every other metric
``DEFAULT_N`` = 10,000 (one draw of the largest size; each metric takes its first m); a
dataset / folder / file gives all it holds. ``n_real`` real samples: by default
``min(n, available)`` (documented fallback: a 297-image test split is used whole rather than
refused), a random subset drawn with ``seed`` when smaller; an explicit ``n_real`` above
what exists is a ``DataError``. Too few samples *for a statistic* (FID with N <= D, a KID
subset larger than N, ...) is that statistic's ``MetricError``.

**Held-out data.** ``emc`` uses every real sample as held-out data (the default real set is
the test split / a fresh draw, never trained on). ``parzen`` fits the KDE on the generated
features, chooses the bandwidth on the odd-indexed real samples (validation) and reports
the log-likelihood of the even-indexed ones (test); interleaving keeps both halves
class-balanced even for class-sorted folders. ``nn1`` needs equal sizes: when the sets
differ, both are cut to the smaller size (a seeded random subset of the larger).

**Options** for a statistic: ``options={"kid": {"subset_size": 100}, "fid":
{"allow_singular": True}}`` (CLI ``--metric-opt kid.subset_size=100``); names are checked
against the statistic's keyword arguments.

**Features** (``features=``): ``"inception"``, ``"classifier"``, ``"identity"`` or an
extractor object; default by data (images -> inception, vectors -> identity). Real-data
features are cached (``gankit.metrics.cache``); generated ones never are.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
from torch import Tensor

from gankit.config import DataConfig
from gankit.errors import ConfigError, MetricError
from gankit.metrics import statistics as S
from gankit.metrics.cache import FEATURES, PROBS, FeatureCache, make_key
from gankit.metrics.extractors import (
    ClassifierExtractor,
    Extractor,
    ExtractorOptions,
    build_extractor,
    default_extractor,
    pick_classifier,
)
from gankit.metrics.sources import (
    SampleSet,
    is_run_dir,
    load_samples,
    run_reference_config,
    samples_from_dataset,
)
from gankit.metrics.statistics.mode_coverage import PROTOCOL_SAMPLES as MODE_COVERAGE_SAMPLES
from gankit.metrics.statistics.stacked_mnist import PROTOCOL_SAMPLES as STACKED_MNIST_SAMPLES
from gankit.registry import Registry

DEFAULT_N = 10_000
STACKED_SHAPE = (3, 28, 28)


@dataclass(frozen=True)
class MetricSpec:
    """How ``evaluate`` computes one metric: what it needs and which statistic it calls."""

    name: str
    needs: str  # "features" | "probs" | "probs+real" | "fake"
    statistic: Callable[..., Any]
    compute: Callable[["_Context", int, dict[str, Any]], Any]
    data_args: int  # leading positional data arguments of ``statistic`` (not options)
    protocol_n: Optional[int] = None
    check: Optional[Callable[["_Context"], None]] = None  # preflight: MetricError if not applicable


EVALUATIONS: Registry[MetricSpec] = Registry("metric")


@dataclass
class MetricValue:
    """One metric's value (a float or a small dict), the settings it used and its time."""

    name: str
    value: Any
    settings: dict[str, Any]
    seconds: float


@dataclass
class EvalResult:
    """Every metric's ``MetricValue`` (requested order), shared settings, time per stage."""

    metrics: dict[str, MetricValue]
    settings: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.metrics[name].value

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": {k: {"value": v.value, "settings": v.settings, "seconds": round(v.seconds, 4)} for k, v in self.metrics.items()},
            "settings": self.settings,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


# ----------------------------------------------------------------------------- context


class _Context:
    """Lazily loads real samples, builds the extractor and extracts/caches features."""

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
        self._real: Optional[SampleSet] = None
        self._extractor: Optional[Extractor] = None
        self._real_arrays: dict[str, np.ndarray] = {}
        self._fake_arrays: dict[str, np.ndarray] = {}
        self.real_cache: dict[str, Any] = {}
        self._classifiers: dict[str, ClassifierExtractor] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    # -------------------------------------------------------------- samples

    def fake(self, n: Optional[int] = None) -> SampleSet:
        return self.fake_all.head(n if n is not None else self.n_feat)

    @property
    def has_real(self) -> bool:
        return self.real_source is not None

    def real(self) -> SampleSet:
        if self._real is None:
            if self.real_source is None:
                raise ConfigError("this metric needs real data: pass real=... (--real DATASET|FOLDER|NPZ)")
            with self.stage("load_real"):
                if isinstance(self.real_source, DataConfig):  # a run's own dataset
                    everything = samples_from_dataset(self.real_source.name, config=self.real_source, seed=self.seed)
                else:
                    everything = load_samples(self.real_source, n=None, seed=self.seed, **self.real_kwargs)
                want = self.n_real if self.n_real is not None else min(self.n_feat, len(everything))
                self._real = load_samples(everything, n=want, seed=self.seed)
        return self._real

    # -------------------------------------------------------------- extractor

    def extractor(self) -> Extractor:
        if self._extractor is None:
            with self.stage("extractor"):
                spec = self.features_arg
                if spec is None:
                    spec = default_extractor(self.fake_all.x)
                if isinstance(spec, str):
                    datasets = tuple(
                        d for d in (self.real_dataset_name(), self.fake_all.dataset) if d is not None
                    )
                    opts = ExtractorOptions(**{**self.ext_options.__dict__, "datasets": datasets})
                    self._extractor = build_extractor(spec, opts)
                else:
                    self._extractor = spec
        return self._extractor

    def real_dataset_name(self) -> Optional[str]:
        src = self.real_source
        if src is None:
            return None
        if isinstance(src, SampleSet):
            return src.dataset
        if isinstance(src, DataConfig):
            return src.name
        if isinstance(src, str):
            from gankit.data import DATASETS

            return src if src in DATASETS else None
        return None

    def classifier(self, name: str) -> ClassifierExtractor:
        ext = self._extractor
        if isinstance(ext, ClassifierExtractor) and ext.classifier_name == name:
            return ext
        if name not in self._classifiers:
            self._classifiers[name] = ClassifierExtractor(name, self.ext_options.batch_size, self.ext_options.device)
        return self._classifiers[name]

    def require_probabilities(self) -> None:
        ext = self.extractor()
        if not ext.has_probabilities():
            ext.probabilities(self.fake_all.x[:0])  # raises the extractor's own MetricError
            raise MetricError(f"{ext.name} features have no class probabilities")

    # -------------------------------------------------------------- features

    def _extract(self, samples: SampleSet, what: str, with_probs: bool) -> dict[str, np.ndarray]:
        ext = self.extractor()
        ext.check_input(samples.x, what)
        if with_probs and ext.has_probabilities():
            f, p = ext.features_and_probabilities(samples.x)
            return {FEATURES: f, PROBS: p}
        return {FEATURES: ext.features(samples.x)}

    def real_arrays(self, want_probs: bool = False) -> dict[str, np.ndarray]:
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
        required = (FEATURES, PROBS) if want_probs else (FEATURES,)
        if all(k in self._fake_arrays for k in required):
            return self._fake_arrays
        with self.stage("features_fake"):
            self._fake_arrays = self._extract(self.fake(), "the generated samples", want_probs)
        return self._fake_arrays


# ----------------------------------------------------------------------------- metrics


def _register(
    name: str,
    needs: str,
    statistic: Callable[..., Any],
    data_args: int,
    protocol_n: Optional[int] = None,
    check: Optional[Callable[["_Context"], None]] = None,
):
    def decorator(fn: Callable[["_Context", int, dict[str, Any]], Any]):
        description = (statistic.__doc__ or "").strip().split("\n")[0]
        EVALUATIONS.add(name, MetricSpec(name, needs, statistic, fn, data_args, protocol_n, check), description)
        return fn

    return decorator


def _pair(ctx: _Context) -> tuple[np.ndarray, np.ndarray]:
    return ctx.real_arrays()[FEATURES], ctx.fake_arrays()[FEATURES]


def _result_dict(obj: Any) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in obj.__dict__.items()}


@_register("fid", "features", S.frechet_distance, 2)
def _fid(ctx: _Context, n: int, opts: dict[str, Any]) -> float:
    return S.frechet_distance(*_pair(ctx), **opts)


@_register("kid", "features", S.kid, 2)
def _kid(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.kid(*_pair(ctx), **opts))


@_register("pr", "features", S.precision_recall, 2)
def _pr(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.precision_recall(*_pair(ctx), **opts))


@_register("dc", "features", S.density_coverage, 2)
def _dc(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.density_coverage(*_pair(ctx), **opts))


@_register("nn1", "features", S.one_nn_two_sample, 2)
def _nn1(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _pair(ctx)
    m = min(len(real), len(fake))
    rng = np.random.default_rng(ctx.seed)
    if len(real) > m:
        real = real[np.sort(rng.choice(len(real), m, replace=False))]
    if len(fake) > m:
        fake = fake[np.sort(rng.choice(len(fake), m, replace=False))]
    return {**_result_dict(S.one_nn_two_sample(real, fake, **opts)), "n_per_set": m}


@_register("mmd", "features", S.mmd2, 2)
def _mmd(ctx: _Context, n: int, opts: dict[str, Any]) -> float:
    return S.mmd2(*_pair(ctx), **opts)


@_register("swd", "features", S.sliced_wasserstein_distance, 2)
def _swd(ctx: _Context, n: int, opts: dict[str, Any]) -> float:
    return S.sliced_wasserstein_distance(*_pair(ctx), **opts)


@_register("wasserstein", "features", S.wasserstein_distance, 2)
def _wasserstein(ctx: _Context, n: int, opts: dict[str, Any]) -> float:
    return S.wasserstein_distance(*_pair(ctx), **opts)


@_register("emc", "features", S.emc, 2)
def _emc(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _pair(ctx)
    return _result_dict(S.emc(real, fake, **opts))  # every real sample is held-out data


@_register("parzen", "features", S.parzen_log_likelihood, 3)
def _parzen(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _pair(ctx)
    test, validation = real[0::2], real[1::2]  # interleaved halves: class-balanced
    out = _result_dict(S.parzen_log_likelihood(fake, test, validation, **opts))
    return {**out, "n_validation": len(validation), "n_test": len(test)}


@_register("is", "probs", S.inception_score, 1)
def _is(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.inception_score(ctx.fake_arrays(want_probs=True)[PROBS], **opts))


@_register("mode_score", "probs+real", S.mode_score, 2)
def _mode_score(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real = ctx.real_arrays(want_probs=True)[PROBS]
    fake = ctx.fake_arrays(want_probs=True)[PROBS]
    return _result_dict(S.mode_score(fake, real, **opts))


def _mixture(ctx: _Context) -> tuple[Tensor, float]:
    for s in (ctx.fake_all, ctx.real() if ctx.has_real else None):
        if s is not None and s.mode_centres is not None and s.mode_std is not None:
            return s.mode_centres, float(s.mode_std)
    raise MetricError(
        "mode_coverage needs samples of a Gaussian mixture with known mode centres "
        "(a run on ring/grid, or --real ring/grid)"
    )


def _check_mode_coverage(ctx: _Context) -> None:
    centres, _ = _mixture(ctx)
    x = ctx.fake_all.x
    if x.ndim != 2 or x.shape[1] != centres.shape[1]:
        raise MetricError(
            f"mode_coverage needs {centres.shape[1]}-D vectors, got samples of shape {tuple(x.shape)}"
        )


@_register("mode_coverage", "fake", S.mode_coverage, 3, MODE_COVERAGE_SAMPLES, _check_mode_coverage)
def _mode_coverage(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    centres, std = _mixture(ctx)
    x = ctx.fake(n).x
    out = _result_dict(S.mode_coverage(x, centres, std, **opts))
    return {**out, "n_modes": int(centres.shape[0])}


def _class_acc_classifier(ctx: _Context) -> ClassifierExtractor:
    fake = ctx.fake_all
    if fake.labels is None or not fake.labels_are_intended:
        raise MetricError(
            "class_acc needs samples with intended labels: a conditional run (model.conditional=true)"
        )
    clf = ctx.classifier(pick_classifier(ctx.ext_options.classifier, [ctx.real_dataset_name(), fake.dataset]))
    clf.check_input(fake.x, "the generated samples")
    return clf


@_register("class_acc", "fake", S.class_accuracy, 2, None, _class_acc_classifier)
def _class_acc(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    fake = ctx.fake(n)
    clf = _class_acc_classifier(ctx)
    name = clf.classifier_name
    predicted = clf.predict(fake.x)
    k = max(fake.num_classes, clf.model.num_classes)
    out = _result_dict(S.class_accuracy(predicted, fake.labels.numpy(), **{"n_classes": k, **opts}))
    return {**out, "classifier": name}


def _check_stacked(ctx: _Context) -> None:
    x = ctx.fake_all.x
    if tuple(x.shape[1:]) != STACKED_SHAPE:
        raise MetricError(
            f"stacked_mnist needs Stacked-MNIST samples of shape (N, 3, 28, 28), got {tuple(x.shape)}"
        )


@_register("stacked_mnist", "fake", S.stacked_mnist_modes, 1, STACKED_MNIST_SAMPLES, _check_stacked)
def _stacked_mnist(ctx: _Context, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    x = ctx.fake(n).x
    clf = ctx.classifier("mnist")
    labels = np.stack([clf.predict(x[:, c : c + 1]) for c in range(x.shape[1])], axis=1)  # (N, 3)
    res = S.stacked_mnist_modes(labels, **opts)
    return {"modes": res.modes, "kl": res.kl, "channel_kl": list(res.channel_kl), "n_modes": len(res.histogram),
            "channel_counts": [list(c) for c in res.channel_counts]}


# ----------------------------------------------------------------------------- parsing


def list_metrics() -> list[tuple[str, str]]:
    """``(name, what it needs)`` for every metric ``evaluate`` knows."""
    return [(name, EVALUATIONS.get(name).needs) for name in EVALUATIONS.names()]


def parse_metrics(text: str | Sequence[str]) -> list[str]:
    """``"fid,kid, pr"`` -> ``["fid", "kid", "pr"]``; unknown names -> ``ConfigError``."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip() for s in items if s.strip()]
    if not names:
        raise ConfigError(f"no metrics given (known: {', '.join(EVALUATIONS.names())})")
    for name in names:
        EVALUATIONS.get(name)  # ConfigError listing the known ones
    return list(dict.fromkeys(names))


def parse_metric_options(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["kid.subset_size=100", "fid.allow_singular=true"]`` -> nested dict (JSON values)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        metric, dot, option = key.strip().partition(".")
        if not sep or not dot or not metric or not option:
            raise ConfigError(f"metric options look like METRIC.OPTION=VALUE (e.g. kid.subset_size=100), got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(metric, {})[option] = value
    return out


def _check_options(metrics: Sequence[str], options: dict[str, dict[str, Any]]) -> None:
    for metric, opts in options.items():
        if metric not in metrics:
            raise ConfigError(f"options given for {metric!r}, which is not among the metrics ({', '.join(metrics)})")
        spec = EVALUATIONS.get(metric)
        params = list(inspect.signature(spec.statistic).parameters)[spec.data_args :]
        for key in opts:
            if key not in params:
                raise ConfigError(f"unknown option {key!r} for {metric} (known: {', '.join(params) or 'none'})")


# ----------------------------------------------------------------------------- evaluate


def evaluate(
    real: Any = None,
    fake: Any = None,
    metrics: Sequence[str] | str = ("fid",),
    *,
    features: Any = None,
    n: Optional[int] = None,
    n_real: Optional[int] = None,
    seed: int = 0,
    split: Optional[str] = None,
    data_dir: Optional[str] = None,
    classifier: Optional[str] = None,
    resize: str = "pytorch-fid",
    batch_size: Optional[int] = None,
    device: str = "cpu",
    inception_weights: Optional[str] = None,
    allow_download: bool = True,
    num_threads: Optional[int] = None,
    options: Optional[dict[str, dict[str, Any]]] = None,
    cache: FeatureCache | bool = True,
) -> EvalResult:
    """Evaluate ``fake`` against ``real`` with ``metrics`` (see the module docstring).

    >>> r = evaluate(fake="runs/ring", metrics=["mode_coverage", "mmd"], n=2500)  # doctest: +SKIP
    >>> r["mode_coverage"]["modes"], r["mmd"]                                      # doctest: +SKIP
    """
    if fake is None:
        raise ConfigError("nothing to evaluate: pass fake=RUN_DIR|DATASET|FOLDER|NPZ")
    names = parse_metrics(metrics)
    options = options or {}
    _check_options(names, options)
    specs = [EVALUATIONS.get(m) for m in names]
    feature_cache = cache if isinstance(cache, FeatureCache) else FeatureCache(enabled=bool(cache))
    t0 = time.perf_counter()
    from gankit.runs import LoadedRun

    # ---- generated samples: one draw of the largest size any metric needs
    fake_is_run = isinstance(fake, LoadedRun) or (isinstance(fake, (str, os.PathLike)) and is_run_dir(fake))
    start = time.perf_counter()
    if fake_is_run:
        per_metric = {s.name: n if n is not None else (s.protocol_n or DEFAULT_N) for s in specs}
        fake_set = load_samples(fake, n=max(per_metric.values()), seed=seed, device=device)
    else:
        fake_set = load_samples(fake, n=n, seed=seed, split=split, data_dir=data_dir)
        per_metric = {s.name: len(fake_set) for s in specs}
    load_fake_s = time.perf_counter() - start
    n_feat = min(n if n is not None else (DEFAULT_N if fake_is_run else len(fake_set)), len(fake_set))

    # ---- real samples (loaded only when a metric needs them)
    real_kwargs: dict[str, Any] = {"split": split, "data_dir": data_dir}
    run_cfg = fake_set.extra.get("run_config")
    if run_cfg is not None:
        real_kwargs["resolution"] = run_cfg.data.resolution  # a dataset named as real: the run's size
    if real is None and fake_is_run and any(s.needs in ("features", "probs+real") for s in specs):
        if isinstance(fake, LoadedRun):
            raise ConfigError("pass real=... when evaluating an in-memory LoadedRun")
        real = run_reference_config(fake, split=split, data_dir=data_dir)

    ctx = _Context(
        fake_set,
        real,
        real_kwargs,
        n_real,
        features,
        ExtractorOptions(
            classifier=classifier,
            resize=resize,
            batch_size=batch_size,
            device=device,
            inception_weights=inception_weights,
            allow_download=allow_download,
            num_threads=num_threads,
        ),
        feature_cache,
        seed,
        n_feat,
    )
    ctx.timings["load_fake"] = load_fake_s

    # ---- preflight: refuse inapplicable metrics before any expensive work
    for spec in specs:
        if spec.check is not None:
            spec.check(ctx)
    if any(s.needs != "fake" for s in specs):
        ext = ctx.extractor()
        ext.check_input(fake_set.x, "the generated samples")
        if any(s.needs.startswith("probs") for s in specs):
            ctx.require_probabilities()
        if any(s.needs in ("features", "probs+real") for s in specs):
            real_set = ctx.real()
            ext.check_input(real_set.x, "the real samples")
            if getattr(ext, "needs_same_shape", False) and real_set.sample_shape != fake_set.sample_shape:
                raise MetricError(
                    f"{ext.name} features need real and generated samples of one shape, got "
                    f"{real_set.sample_shape} (real) and {fake_set.sample_shape} (generated)"
                )

    # ---- features first (timed as stages), so each metric's time is its statistic's
    if any(s.needs in ("features", "probs+real") for s in specs):
        ctx.real_arrays(want_probs=any(s.needs == "probs+real" for s in specs))
    if any(s.needs != "fake" for s in specs):
        ctx.fake_arrays(want_probs=any(s.needs.startswith("probs") for s in specs))

    # ---- the metrics
    results: dict[str, MetricValue] = {}
    for spec in specs:
        m = min(per_metric[spec.name], len(fake_set)) if spec.needs == "fake" else n_feat
        opts = dict(options.get(spec.name, {}))
        start = time.perf_counter()
        value = spec.compute(ctx, m, opts)
        seconds = time.perf_counter() - start
        settings: dict[str, Any] = {"n": m, "seed": seed}
        if spec.protocol_n is not None:
            settings["protocol_n"] = spec.protocol_n
        if spec.needs in ("features", "probs+real"):
            settings["n_real"] = len(ctx.real())
        if spec.needs != "fake":
            settings["features"] = ctx.extractor().name
        if opts:
            settings["options"] = opts
        results[spec.name] = MetricValue(spec.name, _plain(value), settings, seconds)
        ctx.timings[f"metric:{spec.name}"] = seconds

    ctx.timings["total"] = time.perf_counter() - t0
    shared: dict[str, Any] = {
        "fake": fake_set.name,
        "fake_identity": fake_set.identity,
        "seed": seed,
        "n": n,
    }
    if ctx._real is not None:
        shared.update(real=ctx._real.name, real_identity=ctx._real.identity, n_real=len(ctx._real))
    if ctx._extractor is not None:
        shared["extractor"] = ctx._extractor.describe()
    if ctx.real_cache:
        shared["real_cache"] = ctx.real_cache
    return EvalResult(results, shared, ctx.timings)


def _plain(value: Any) -> Any:
    """NumPy scalars -> Python numbers, recursively (JSON-ready apart from inf/nan)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
