"""``evaluate(real, fake, metrics=[...])``: samples -> features -> pure statistics -> numbers.

Each metric is dispatched by what it needs (``gankit.metrics.registry.METRICS``,
``list_metrics()``): features of both sets, class probabilities, or the generated samples
alone (``mode_coverage``, ``class_acc``, ``matched_acc``, ``stacked_mnist``).

**Samples.** ``fake`` is a ``SampleGenerator`` (sampled with ``seed``; a trained run is one
through ``gankit.runs.samples``, which also accepts a run directory), a dataset name, an
image folder, an ``.npz`` file, an array or a ``SampleSet`` (see ``gankit.metrics.sources``).
``real`` likewise; for a generator it defaults to ``fake.reference(split, data_dir)`` (for a
run: its own dataset, test split, every example; synthetic toys a fresh draw with
``data.seed + 1``), and a dataset named as real data is built at ``fake.resolution``.

**How many.** ``n`` generated samples for every metric. ``n=None``: a generator gives each
metric its protocol size (``mode_coverage`` 2,500, ``stacked_mnist`` 26,000) and every other
metric ``DEFAULT_N`` = 10,000 (one draw of the largest size; each metric takes its first m);
a dataset / folder / file gives all it holds. ``n_real`` real samples: by default
``min(n, available)`` (documented fallback: a 297-image test split is used whole rather than
refused), a random subset drawn with ``seed`` when smaller; an explicit ``n_real`` above
what exists is a ``DataError``. Too few samples *for a statistic* (FID with N <= D, a KID
subset larger than N, PR with N <= k) is a ``MetricError`` raised before any feature is
extracted (``gankit.metrics.preflight``); KID's ``subset_size`` defaults to
``min(1000, N_real, N_fake)``.

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
import time
from typing import Any, Optional, Sequence

import numpy as np

from gankit.errors import ConfigError, MetricError
from gankit.metrics.cache import FeatureCache
from gankit.metrics.context import EvalContext
from gankit.metrics.extractors import ExtractorOptions
from gankit.metrics.preflight import feature_dim, kid_subset_size, refusal
from gankit.metrics.registry import METRICS, list_metrics
from gankit.metrics.results import EvalResult, MetricValue
from gankit.metrics.sources import SampleGenerator, load_samples

__all__ = [
    "DEFAULT_N", "EvalResult", "MetricValue", "evaluate", "list_metrics", "parse_metric_options", "parse_metrics",
]

DEFAULT_N = 10_000


# ----------------------------------------------------------------------------- parsing


def parse_metrics(text: str | Sequence[str]) -> list[str]:
    """``"fid,kid, pr"`` -> ``["fid", "kid", "pr"]``; unknown names -> ``ConfigError``."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip() for s in items if s.strip()]
    if not names:
        raise ConfigError(f"no metrics given (known: {', '.join(METRICS.names())})")
    for name in names:
        METRICS.get(name)  # ConfigError listing the known ones
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
        spec = METRICS.get(metric)
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
    partial: bool = False,
) -> EvalResult:
    """Evaluate ``fake`` against ``real`` with ``metrics`` (see the module docstring).

    >>> r = evaluate("mnist", "samples.npz", ["fid", "kid"], data_dir="~/data")  # doctest: +SKIP
    >>> r["fid"], r["kid"]["mean"]                                                        # doctest: +SKIP

    A trained run: ``gankit.runs.samples.evaluate(fake="runs/ring", ...)`` (same arguments).

    Too few samples for a feature metric (``gankit.metrics.preflight``) is found before any
    feature is extracted: a ``MetricError`` naming the option to change; with ``partial=True``
    (the CLI) the other metrics are computed and the refused ones are named in
    ``EvalResult.refused`` (a ``MetricError`` still when every metric is refused).
    """
    if fake is None:
        raise ConfigError("nothing to evaluate: pass fake=DATASET|FOLDER|NPZ|array|SampleGenerator")
    names = parse_metrics(metrics)
    options = options or {}
    _check_options(names, options)
    specs = [METRICS.get(m) for m in names]
    feature_cache = cache if isinstance(cache, FeatureCache) else FeatureCache(enabled=bool(cache))
    t0 = time.perf_counter()

    # ---- generated samples: one draw of the largest size any metric needs
    generated = isinstance(fake, SampleGenerator)
    start = time.perf_counter()
    if generated:
        per_metric = {s.name: n if n is not None else (s.protocol_n or DEFAULT_N) for s in specs}
        fake_set = load_samples(fake, n=max(per_metric.values()), seed=seed)
    else:
        fake_set = load_samples(fake, n=n, seed=seed, split=split, data_dir=data_dir)
        per_metric = {s.name: len(fake_set) for s in specs}
    load_fake_s = time.perf_counter() - start
    n_feat = min(n if n is not None else (DEFAULT_N if generated else len(fake_set)), len(fake_set))

    # ---- real samples (loaded only when a metric needs them)
    real_kwargs: dict[str, Any] = {"split": split, "data_dir": data_dir}
    if generated:
        real_kwargs["resolution"] = fake.resolution  # a dataset named as real: the generator's size
        if real is None and any(s.needs in ("features", "probs+real") or s.uses_real for s in specs):
            real = fake.reference(split, data_dir)

    ctx = EvalContext(
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

    # ---- preflight: refuse inapplicable metrics and too few samples before any expensive work
    refused: dict[str, str] = {}
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
            dim = feature_dim(ext, fake_set.sample_shape)
            for spec in specs:
                if spec.needs == "features":
                    why = refusal(spec.name, len(real_set), n_feat, dim, options.get(spec.name, {}))
                    if why:
                        refused[spec.name] = why
    if refused and (not partial or len(refused) == len(specs)):
        raise MetricError("; ".join(refused.values()))
    specs = [s for s in specs if s.name not in refused]

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
        if spec.name == "kid":
            kid_subset_size(opts, len(ctx.real()), n_feat)
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
    real_set = ctx.loaded_real
    if real_set is not None:
        shared.update(real=real_set.name, real_identity=real_set.identity, n_real=len(real_set))
    if ctx.loaded_extractor is not None:
        shared["extractor"] = ctx.loaded_extractor.describe()
    if ctx.real_cache:
        shared["real_cache"] = ctx.real_cache
    return EvalResult(results, shared, ctx.timings, refused)


def _plain(value: Any) -> Any:
    """NumPy scalars -> Python numbers, recursively (JSON-ready apart from inf/nan)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
