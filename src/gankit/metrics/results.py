"""What ``evaluate`` returns: one ``MetricValue`` per metric inside an ``EvalResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    refused: dict[str, str] = field(default_factory=dict)  # metric -> why it was not computed (partial=True)

    def __getitem__(self, name: str) -> Any:
        return self.metrics[name].value

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": {
                k: {"value": v.value, "settings": v.settings, "seconds": round(v.seconds, 4)}
                for k, v in self.metrics.items()
            },
            "settings": self.settings,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            **({"refused": dict(self.refused)} if self.refused else {}),
        }
