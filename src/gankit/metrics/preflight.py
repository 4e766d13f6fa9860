"""Sample counts checked before any feature is extracted: a feature metric that cannot be
computed from ``n_real`` real and ``n_fake`` generated samples of ``dim`` features is refused with
the option to change, spelled as on the command line (``--metric-opt fid.allow_singular=true``)
and in Python (``options={"fid": {"allow_singular": True}}``).

- FID: each set needs N > D (else its covariance, of rank <= N - 1, is singular), unless
  ``allow_singular``; N >= 2 always.
- KID: ``subset_size`` <= both N (by default it is ``min(1000, N_real, N_fake)``, see
  ``kid_subset_size``).
- PR (k = 3) and DC (k = 5): N > k in each set (the k-th neighbour of a point among the others).
- every other feature metric: N >= 2 in each set.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

from gankit.metrics.registry import METRICS

KID_SUBSET_SIZE = 1000  # torch-fidelity's default subset size


def kid_subset_size(opts: dict[str, Any], n_real: int, n_fake: int) -> None:
    """Give KID ``subset_size = min(1000, N_real, N_fake)`` unless the options set it: KID is
    unbiased for any subset size, a smaller one only widens its spread (reported as ``std``)."""
    opts.setdefault("subset_size", min(KID_SUBSET_SIZE, n_real, n_fake))


def feature_dim(extractor: Any, sample_shape: tuple[int, ...]) -> Optional[int]:
    """The extractor's feature dimension for samples of ``sample_shape``, None when it cannot say."""
    method: Optional[Callable[[tuple[int, ...]], int]] = getattr(extractor, "feature_dim", None)
    return method(sample_shape) if callable(method) else None


def _option(metric: str, opts: dict[str, Any], key: str) -> Any:
    if key in opts:
        return opts[key]
    return inspect.signature(METRICS.get(metric).statistic).parameters[key].default


def _spelled(metric: str, key: str, value: str, python: str) -> str:
    return f"--metric-opt {metric}.{key}={value} (Python: options={{{metric!r}: {{{key!r}: {python}}}}})"


def refusal(metric: str, n_real: int, n_fake: int, dim: Optional[int], opts: dict[str, Any]) -> Optional[str]:
    """Why ``metric`` cannot be computed from these counts (one line), or None when it can."""
    n = min(n_real, n_fake)
    counts = f"{n_real} real and {n_fake} generated samples"
    if metric == "fid":
        if n < 2:
            return f"fid needs at least 2 samples per set, got {counts}"
        if dim is not None and n <= dim and not _option(metric, opts, "allow_singular"):
            return (f"fid needs more samples than feature dimensions: {counts} of {dim}-d features give a singular "
                    f"covariance; give more samples (--n, --n-real; >= 10,000 is customary for Inception) or pass "
                    f"{_spelled('fid', 'allow_singular', 'true', 'True')} for a biased value")
    elif metric == "kid":
        m = opts.get("subset_size")  # unset: min(1000, N_real, N_fake), which always fits
        if isinstance(m, int) and not isinstance(m, bool) and m > n:
            return (f"kid subset_size={m} is larger than the {counts}; pass "
                    f"{_spelled('kid', 'subset_size', str(n), str(n))} or fewer")
    elif metric in ("pr", "dc"):
        k = _option(metric, opts, "k")
        if isinstance(k, int) and not isinstance(k, bool) and k >= n:
            return (f"{metric} needs more than k={k} samples per set (the k-th nearest neighbour), got {counts}; "
                    f"pass {_spelled(metric, 'k', str(max(1, n - 1)), str(max(1, n - 1)))} or more samples")
    elif n < 2:
        return f"{metric} needs at least 2 samples per set, got {counts}"
    return None
