"""``metrics.json`` entries as table rows: one row per number a metric recorded.

A scalar value is one row; a dict value (``{"mean", "std"}``, precision/recall, mode
coverage's counts) is one row per key, named ``metric key`` (nested dicts join their keys
the same way); a list is one row showing all its numbers.
"""

from __future__ import annotations

from typing import Any

VALUE_FORMAT = ".6g"


def format_number(value: Any) -> str:
    """``12.3456`` -> ``"12.3456"`` (6 significant digits); ints, strings ("nan", "inf") as they are."""
    if isinstance(value, float):
        return format(value, VALUE_FORMAT)
    return str(value)


def flatten_value(name: str, value: Any) -> list[tuple[str, str]]:
    """``[(row label, shown value), ...]`` of one metric's value."""
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, sub in value.items():
            rows.extend(flatten_value(f"{name} {key}", sub))
        return rows
    if isinstance(value, list):
        return [(name, " ".join(format_number(v) for v in value))]
    return [(name, format_number(value))]


def settings_text(key: str) -> str:
    """The settings part of a ``metrics.json`` key, ``metric|k=v|...`` -> ``k=v, ...``."""
    return ", ".join(key.split("|")[1:])


def metric_rows(entries: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """``[(label, settings, value), ...]`` over every entry, in file order."""
    rows = []
    for key, entry in entries.items():
        for label, shown in flatten_value(str(entry["metric"]), entry["value"]):
            rows.append((label, settings_text(key), shown))
    return rows
