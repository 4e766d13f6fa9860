"""Metrics = feature extraction + a pure statistic + a registry (DESIGN.md habits 3 and 4).

``gankit.metrics.statistics`` holds the pure statistics (float64, NumPy/torch (N, D) in);
``METRICS`` maps short names ("fid", "kid", "is", ...) to them. See docs/metrics.md.
"""

from gankit.metrics.registry import METRICS, register_metric
from gankit.metrics.statistics import *  # noqa: F401,F403  (registers every statistic)
from gankit.metrics.statistics import __all__ as _statistics_all

__all__ = ["METRICS", "register_metric", *_statistics_all]
