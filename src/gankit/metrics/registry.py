"""The metric registry (DESIGN.md item 4): short name -> pure statistic.

>>> from gankit.metrics import METRICS
>>> METRICS.get("fid")  # doctest: +ELLIPSIS
<function frechet_distance at ...>

Each entry is the statistic function itself; its docstring gives the inputs, the formula
and the paper, and ``METRICS.describe(name)`` a one-line summary (including what it takes:
features, class probabilities or labels).
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from gankit.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])

METRICS: Registry[Callable[..., Any]] = Registry("metric")


def register_metric(name: str, description: str = "") -> Callable[[F], F]:
    """Register a statistic under ``name`` (``@register_metric("fid", "...")``)."""
    return METRICS.register(name, description)  # type: ignore[return-value]
