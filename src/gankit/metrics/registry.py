"""The metric registry: every metric ``evaluate`` and ``gankit eval`` compute, by short name.

>>> from gankit.metrics import METRICS
>>> METRICS.get("fid").statistic  # doctest: +ELLIPSIS
<function frechet_distance at ...>

Each entry is a ``MetricSpec``: the pure statistic (``gankit.metrics.statistics``; its
docstring gives the inputs, the formula and the paper), what it needs from the samples, and
how ``evaluate`` feeds it. ``METRICS.describe(name)`` is a one-line summary.

=================  ===========================================================================
needs              metrics
=================  ===========================================================================
features of both   ``fid kid pr dc nn1 mmd swd wasserstein emc parzen``
probabilities      ``is`` (fake only), ``mode_score`` (fake and real)
the fake alone     ``mode_coverage`` (2-D samples + the mixture's mode centres),
                   ``class_acc`` (intended labels vs the domain classifier's),
                   ``matched_acc`` (latent codes vs the domain classifier's labels, best
                   one-to-one matching), ``stacked_mnist`` ((N, 3, 28, 28) samples, each
                   channel -> MNIST classifier),
                   ``psnr ssim l1`` (translated outputs vs their targets, ``extra["targets"]``)
sequences of both  ``discriminative_score predictive_score`` (TimeGAN's post-hoc GRUs on (N, T, D);
                   ``mmd`` on identity features compares flattened sequences)
=================  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
from torch import Tensor

import gankit.metrics.statistics as S
import gankit.metrics.statistics.paired as PAIRED
from gankit.errors import MetricError
from gankit.metrics.cache import FEATURES, PROBS
from gankit.metrics.context import EvalContext
from gankit.metrics.extractors import ClassifierExtractor, pick_classifier
from gankit.metrics.statistics.mode_coverage import PROTOCOL_SAMPLES as MODE_COVERAGE_SAMPLES
from gankit.metrics.statistics.stacked_mnist import PROTOCOL_SAMPLES as STACKED_MNIST_SAMPLES
from gankit.registry import Registry

NEEDS: tuple[str, ...] = ("features", "probs", "probs+real", "fake")
STACKED_SHAPE = (3, 28, 28)

Compute = Callable[[EvalContext, int, dict[str, Any]], Any]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its statistic, what it needs and how ``evaluate`` computes it.

    ``needs``: ``"features"`` (real and generated features), ``"probs"`` (class
    probabilities of the generated samples), ``"probs+real"`` (of both) or ``"fake"`` (the
    generated samples alone). ``compute(ctx, n, options)`` returns the value from an
    ``EvalContext`` using ``n`` generated samples. ``data_args`` leading positional arguments
    of ``statistic`` are data, the rest are options (``--metric-opt``). ``protocol_n`` is
    the protocol's sample size (used for a generator when ``n`` is not given); ``check``
    raises ``MetricError`` before any expensive work when the metric does not apply;
    ``uses_real`` marks a ``"fake"`` metric that also reads the real samples (a generator's
    default reference is then set, as for the feature metrics).
    """

    name: str
    needs: str
    statistic: Callable[..., Any]
    compute: Compute
    data_args: int
    protocol_n: Optional[int] = None
    check: Optional[Callable[[EvalContext], Any]] = None
    uses_real: bool = False  # a "fake" metric that also compares with the real samples (BLEU)


METRICS: Registry[MetricSpec] = Registry("metric")


def register_metric(
    name: str,
    needs: str,
    statistic: Callable[..., Any],
    data_args: int,
    *,
    description: str,
    protocol_n: Optional[int] = None,
    check: Optional[Callable[[EvalContext], Any]] = None,
    uses_real: bool = False,
) -> Callable[[Compute], Compute]:
    """Register ``name``: decorate its ``compute(ctx, n, options)`` (see ``MetricSpec``)."""
    if needs not in NEEDS:
        raise ValueError(f"metric {name!r}: needs must be one of {', '.join(NEEDS)}, got {needs!r}")

    def decorator(compute: Compute) -> Compute:
        spec = MetricSpec(name, needs, statistic, compute, data_args, protocol_n, check, uses_real)
        METRICS.add(name, spec, description)
        return compute

    return decorator


def list_metrics() -> list[tuple[str, str]]:
    """``(name, what it needs)`` for every registered metric, sorted by name."""
    return [(name, METRICS.get(name).needs) for name in METRICS.names()]


# ----------------------------------------------------------------------------- helpers


def _pair(ctx: EvalContext) -> tuple[np.ndarray, np.ndarray]:
    return ctx.real_arrays()[FEATURES], ctx.fake_arrays()[FEATURES]  # (M, F), (N, F)


def _result_dict(obj: Any) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in obj.__dict__.items()}


# ----------------------------------------------------------------------------- features of both


@register_metric("fid", "features", S.frechet_distance, 2,
                 description="Fréchet (Inception) Distance between two feature sets (N, D); lower is better")
def _fid(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return S.frechet_distance(*_pair(ctx), **opts)


@register_metric("kid", "features", S.kid, 2,
                 description="Kernel Inception Distance (subset mean ± std) between feature sets (N, D)")
def _kid(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.kid(*_pair(ctx), **opts))


@register_metric("pr", "features", S.precision_recall, 2,
                 description="improved precision/recall (k-NN manifolds, k=3) between feature sets (N, D)")
def _pr(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.precision_recall(*_pair(ctx), **opts))


@register_metric("dc", "features", S.density_coverage, 2,
                 description="density/coverage (Naeem et al. 2020, k=5) between feature sets (N, D)")
def _dc(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.density_coverage(*_pair(ctx), **opts))


@register_metric("nn1", "features", S.one_nn_two_sample, 2,
                 description="leave-one-out 1-NN two-sample accuracy on real ∪ fake (N, D); 0.5 is ideal")
def _nn1(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _pair(ctx)
    m = min(len(real), len(fake))  # equal sizes: a seeded random subset of the larger set
    rng = np.random.default_rng(ctx.seed)
    if len(real) > m:
        real = real[np.sort(rng.choice(len(real), m, replace=False))]  # (m, F)
    if len(fake) > m:
        fake = fake[np.sort(rng.choice(len(fake), m, replace=False))]  # (m, F)
    return {**_result_dict(S.one_nn_two_sample(real, fake, **opts)), "n_per_set": m}


@register_metric("mmd", "features", S.mmd2, 2,
                 description="kernel MMD^2 between two feature sets (N, D), Gaussian or polynomial kernel")
def _mmd(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return S.mmd2(*_pair(ctx), **opts)


@register_metric("swd", "features", S.sliced_wasserstein_distance, 2,
                 description="sliced Wasserstein-p distance (random projections) between feature sets (N, D)")
def _swd(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return S.sliced_wasserstein_distance(*_pair(ctx), **opts)


@register_metric("wasserstein", "features", S.wasserstein_distance, 2,
                 description="exact Wasserstein-p distance (POT) between small feature sets (N, D)")
def _wasserstein(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return S.wasserstein_distance(*_pair(ctx), **opts)


@register_metric("emc", "features", S.emc, 2,
                 description="EMC MSE/RMS: nearest-generated-neighbour error of held-out real samples (N, D)")
def _emc(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _pair(ctx)
    return _result_dict(S.emc(real, fake, **opts))  # every real sample is held-out data


@register_metric("parzen", "features", S.parzen_log_likelihood, 3,
                 description="Parzen/KDE log-likelihood (nats) of test data (N, D) under generated samples")
def _parzen(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _pair(ctx)
    test, validation = real[0::2], real[1::2]  # interleaved halves: class-balanced
    out = _result_dict(S.parzen_log_likelihood(fake, test, validation, **opts))
    return {**out, "n_validation": len(validation), "n_test": len(test)}


# ----------------------------------------------------------------------------- probabilities


@register_metric("is", "probs", S.inception_score, 1,
                 description="Inception Score (split mean ± std) from class probabilities p(y|x) (N, C)")
def _is(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(S.inception_score(ctx.fake_arrays(want_probs=True)[PROBS], **opts))


@register_metric("mode_score", "probs+real", S.mode_score, 2,
                 description="Mode Score (split mean ± std) from p(y|x) of generated (N, C) and real samples (M, C)")
def _mode_score(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real = ctx.real_arrays(want_probs=True)[PROBS]  # (M, C)
    fake = ctx.fake_arrays(want_probs=True)[PROBS]  # (N, C)
    return _result_dict(S.mode_score(fake, real, **opts))


# ----------------------------------------------------------------------------- the fake alone


def _mixture(ctx: EvalContext) -> tuple[Tensor, float]:
    for s in (ctx.fake_all, ctx.real() if ctx.has_real else None):
        if s is not None and s.mode_centres is not None and s.mode_std is not None:
            return s.mode_centres, float(s.mode_std)
    raise MetricError(
        "mode_coverage needs samples of a Gaussian mixture with known mode centres "
        "(a run on ring/grid, or --real ring/grid)"
    )


def _check_mode_coverage(ctx: EvalContext) -> None:
    centres, _ = _mixture(ctx)  # (K, D)
    x = ctx.fake_all.x
    if x.ndim != 2 or x.shape[1] != centres.shape[1]:
        raise MetricError(f"mode_coverage needs {centres.shape[1]}-D vectors, got samples of shape {tuple(x.shape)}")


@register_metric("mode_coverage", "fake", S.mode_coverage, 3, protocol_n=MODE_COVERAGE_SAMPLES,
                 check=_check_mode_coverage,
                 description="mixture mode coverage (VEEGAN/PacGAN): modes, high-quality fraction, reverse KL")
def _mode_coverage(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    centres, std = _mixture(ctx)
    x = ctx.fake(n).x  # (n, D)
    out = _result_dict(S.mode_coverage(x, centres, std, **opts))
    return {**out, "n_modes": int(centres.shape[0])}


def _domain_classifier(ctx: EvalContext) -> ClassifierExtractor:
    fake = ctx.fake_all
    clf = ctx.classifier(pick_classifier(ctx.ext_options.classifier, [ctx.real_dataset_name(), fake.dataset]))
    clf.check_input(fake.x, "the generated samples")
    return clf


def _class_acc_classifier(ctx: EvalContext) -> ClassifierExtractor:
    fake = ctx.fake_all
    if fake.labels is None or not fake.labels_are_intended:
        raise MetricError("class_acc needs samples with intended labels: a conditional run (model.conditional=true)")
    return _domain_classifier(ctx)


@register_metric("class_acc", "fake", S.class_accuracy, 2, check=_class_acc_classifier,
                 description="accuracy of the domain classifier's labels vs the intended labels of conditional samples")
def _class_acc(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    fake = ctx.fake(n)
    clf = _class_acc_classifier(ctx)
    predicted = clf.predict(fake.classifier_view())  # (n,)
    k = max(fake.num_classes, clf.model.num_classes)
    out = _result_dict(S.class_accuracy(predicted, fake.labels.numpy(), **{"n_classes": k, **opts}))
    return {**out, "classifier": clf.classifier_name}


def _matched_acc_classifier(ctx: EvalContext) -> ClassifierExtractor:
    if ctx.fake_all.codes is None:
        raise MetricError(
            "matched_acc needs samples with latent codes: an InfoGAN run (recipe.categorical > 0) "
            "or an .npz file with a 'codes' array"
        )
    return _domain_classifier(ctx)


@register_metric("matched_acc", "fake", S.matched_accuracy, 2, check=_matched_acc_classifier,
                 description="accuracy of latent codes (N,) vs the domain classifier's labels after the best "
                             "one-to-one matching (InfoGAN)")
def _matched_acc(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    fake = ctx.fake(n)
    clf = _matched_acc_classifier(ctx)
    predicted = clf.predict(fake.classifier_view())  # (n,)
    out = _result_dict(S.matched_accuracy(fake.codes.numpy(), predicted, **opts))
    return {**out, "classifier": clf.classifier_name}


def _check_stacked(ctx: EvalContext) -> None:
    x = ctx.fake_all.x
    if tuple(x.shape[1:]) != STACKED_SHAPE:
        raise MetricError(f"stacked_mnist needs Stacked-MNIST samples of shape (N, 3, 28, 28), got {tuple(x.shape)}")


@register_metric("stacked_mnist", "fake", S.stacked_mnist_modes, 1, protocol_n=STACKED_MNIST_SAMPLES,
                 check=_check_stacked,
                 description="Stacked-MNIST mode count and KL to uniform from per-channel MNIST-classifier labels")
def _stacked_mnist(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    x = ctx.fake(n).x  # (n, 3, 28, 28)
    clf = ctx.classifier("mnist")
    labels = np.stack([clf.predict(x[:, c : c + 1]) for c in range(x.shape[1])], axis=1)  # (n, 3)
    res = S.stacked_mnist_modes(labels, **opts)
    return {"modes": res.modes, "kl": res.kl, "channel_kl": list(res.channel_kl), "n_modes": len(res.histogram),
            "channel_counts": [list(c) for c in res.channel_counts]}


# ----------------------------------------------------------------------------- paired translation


def _check_targets(ctx: EvalContext) -> Tensor:
    """The target of every translated sample (``SampleSet.extra["targets"]``, same shape as ``x``)."""
    fake = ctx.fake_all
    targets = fake.extra.get("targets")
    if targets is None:
        raise MetricError("psnr, ssim and l1 compare each output with its own target: they need a run of a paired "
                          "translation recipe (pix2pix, pan, srgan)")
    if tuple(targets.shape) != tuple(fake.x.shape):
        raise MetricError(f"targets {tuple(targets.shape)} do not line up with outputs {tuple(fake.x.shape)} (a "
                          f"subset of samples with targets: evaluate all of them, n=None)")
    return targets


def _paired(ctx: EvalContext, n: int) -> tuple[Tensor, Tensor]:
    targets = _check_targets(ctx)
    fake = ctx.fake(n)
    return fake.x, targets[: len(fake)]  # (n, C, H, W) each


@register_metric("psnr", "fake", PAIRED.psnr, 2, check=_check_targets,
                 description="peak signal-to-noise ratio (dB) of translated outputs vs their targets; higher is better")
def _psnr(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return PAIRED.psnr(*_paired(ctx, n), **opts)


@register_metric("ssim", "fake", PAIRED.ssim, 2, check=_check_targets,
                 description="structural similarity (Wang et al. 2004, 11x11 Gaussian window) of outputs vs targets")
def _ssim(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return PAIRED.ssim(*_paired(ctx, n), **opts)


@register_metric("l1", "fake", PAIRED.paired_l1, 2, check=_check_targets,
                 description="mean absolute error of translated outputs vs their targets; lower is better")
def _l1(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return PAIRED.paired_l1(*_paired(ctx, n), **opts)


# ----------------------------------------------------------------------------- continuous sequences


def _sequence_pair(ctx: EvalContext, n: int) -> tuple[Tensor, Tensor]:
    fake = ctx.fake(n).x
    real = ctx.real().x
    return real, fake


def _check_sequences(ctx: EvalContext) -> None:
    x = ctx.fake_all.x
    if x.ndim != 3:
        raise MetricError(f"TimeGAN's scores need continuous sequences (N, T, D), got samples {tuple(x.shape)}")
    if not ctx.has_real:
        raise MetricError("TimeGAN's scores compare with real sequences: pass --real (e.g. the run's own data)")


@register_metric("discriminative_score", "fake", S.discriminative_score, 2, check=_check_sequences,
                 description="TimeGAN discriminative score |acc - 0.5| of a post-hoc GRU real-vs-fake on (N, T, D)")
def _discriminative_score(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    real, fake = _sequence_pair(ctx, n)
    return _result_dict(S.discriminative_score(real, fake, **{"seed": ctx.seed, **opts}))


@register_metric("predictive_score", "fake", S.predictive_score, 2, check=_check_sequences,
                 description="TimeGAN predictive score: MAE on real (N, T, D) of a next-step GRU trained on fake")
def _predictive_score(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    real, fake = _sequence_pair(ctx, n)
    return S.predictive_score(real, fake, **{"seed": ctx.seed, **opts})
