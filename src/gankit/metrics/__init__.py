"""Metrics = feature extraction + a pure statistic + one registry.

``gankit.metrics.statistics`` holds the pure statistics (float64, NumPy/torch (N, D) in);
``METRICS`` maps short names ("fid", "kid", "is", ...) to a ``MetricSpec``: the statistic and
how ``evaluate`` (and ``gankit eval``) computes it from samples. See docs/metrics.md.

Data flows one way: samples (``gankit.metrics.sources``) -> features -> statistics. This
package never imports training runs; ``gankit.runs.samples`` turns a run into samples.
"""

from gankit.metrics import token_metrics  # noqa: F401,E402  (registers bleu, self_bleu, nll_oracle)
from gankit.metrics.cache import FeatureCache, stats_cache_dir
from gankit.metrics.evaluate import evaluate
from gankit.metrics.extractors import EXTRACTORS, ExtractorOptions, build_extractor
from gankit.metrics.registry import METRICS, MetricSpec, list_metrics, register_metric
from gankit.metrics.report import format_table, write_metrics_json
from gankit.metrics.results import EvalResult, MetricValue
from gankit.metrics.sources import SampleGenerator, SampleSet, load_samples
from gankit.metrics.statistics import *  # noqa: F401,F403
from gankit.metrics.statistics import __all__ as _statistics_all

__all__ = [
    "EXTRACTORS",
    "EvalResult",
    "ExtractorOptions",
    "FeatureCache",
    "METRICS",
    "MetricSpec",
    "MetricValue",
    "SampleGenerator",
    "SampleSet",
    "build_extractor",
    "evaluate",
    "format_table",
    "list_metrics",
    "load_samples",
    "register_metric",
    "stats_cache_dir",
    "write_metrics_json",
    *_statistics_all,
]
