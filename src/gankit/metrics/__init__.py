"""Metrics = feature extraction + a pure statistic + a registry (DESIGN.md habits 3 and 4).

``gankit.metrics.statistics`` holds the pure statistics (float64, NumPy/torch (N, D) in);
``METRICS`` maps short names ("fid", "kid", "is", ...) to them. See docs/metrics.md.
"""

from gankit.metrics.registry import METRICS, register_metric
from gankit.metrics.statistics import *  # noqa: F401,F403  (registers every statistic)
from gankit.metrics.statistics import __all__ as _statistics_all

__all__ = ["METRICS", "register_metric", *_statistics_all]

# Evaluation: samples -> features -> statistics (gankit.metrics.evaluate, `gankit eval`).
from gankit.metrics.cache import FeatureCache, stats_cache_dir  # noqa: E402
from gankit.metrics.evaluate import EVALUATIONS, EvalResult, MetricValue, evaluate, list_metrics  # noqa: E402
from gankit.metrics.extractors import EXTRACTORS, ExtractorOptions, build_extractor  # noqa: E402
from gankit.metrics.report import format_table, write_metrics_json  # noqa: E402
from gankit.metrics.sources import SampleSet, load_samples  # noqa: E402

__all__ += [
    "EVALUATIONS",
    "EXTRACTORS",
    "EvalResult",
    "ExtractorOptions",
    "FeatureCache",
    "MetricValue",
    "SampleSet",
    "build_extractor",
    "evaluate",
    "format_table",
    "list_metrics",
    "load_samples",
    "stats_cache_dir",
    "write_metrics_json",
]
