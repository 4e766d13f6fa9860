"""Printing an ``EvalResult`` as a table and keeping ``metrics.json`` up to date.

``metrics.json`` (format ``gankit-metrics/1``)::

    {"format": "gankit-metrics/1",
     "entries": {
       "fid|features=inception|n=10000|n_real=10000|real=mnist (test)|resize=pytorch-fid|seed=0|weights=3b1f...":
         {"metric": "fid", "value": 23.4, "settings": {...}, "context": {...},
          "seconds": 1.2, "written": "2026-01-01T12:00:00Z"}, ...}}

Each entry is keyed by the metric and every setting that changes its value (features,
weights, resize mode, real data, n, n_real, seed, metric options), so evaluating again with
the same settings replaces that entry and anything else already in the file is kept.
The file is rewritten atomically (temp file + rename); concurrent evaluations of one run
directory are last-writer-wins for the whole file. Non-finite numbers are written as the
strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON has none).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, TextIO

from gankit.atomic import atomic_write
from gankit.metrics.results import EvalResult, MetricValue

METRICS_FILE = "metrics.json"
METRICS_FORMAT = "gankit-metrics/1"
MAX_LIST_IN_TABLE = 10  # longer lists (histograms, per-class accuracies) stay in the JSON only


# ----------------------------------------------------------------------------- table


def _num(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return "[" + " ".join(_num(x) for x in v) + "]"
    return str(v)


def format_value(value: Any) -> str:
    """``12.3``, ``0.0123 ± 0.0004`` (mean/std) or ``precision 0.71  recall 0.65``."""
    if not isinstance(value, dict):
        return _num(value)
    if set(value) == {"mean", "std"}:
        return f"{_num(value['mean'])} ± {_num(value['std'])}"
    parts = [
        f"{k} {_num(v)}"
        for k, v in value.items()
        if not (isinstance(v, list) and len(v) > MAX_LIST_IN_TABLE)
    ]
    return "  ".join(parts)


def _short_sha(extractor: dict[str, Any]) -> str:
    sha = extractor.get("weights_sha256")
    return f", weights sha256 {sha[:12]}" if sha else ""


def format_table(result: EvalResult) -> str:
    """A header (what was compared, how) and one row per metric."""
    s = result.settings
    lines = [f"fake: {s.get('fake')}"]
    if "real" in s:
        cache = s.get("real_cache") or {}
        note = "" if not cache else (" (features from cache)" if cache.get("hit") else " (features cached)")
        lines.append(f"real: {s['real']}, n={s.get('n_real')}{note}")
    ext = s.get("extractor")
    if ext:
        detail = ext.get("classifier") or ext.get("network") or ""
        resize = f", resize {ext['resize']}" if ext.get("resize") else ""
        lines.append(f"features: {ext['name']}{' (' + detail + ')' if detail else ''}{resize}{_short_sha(ext)}")
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items() if not k.startswith("metric:"))
    lines.append(f"seed: {s.get('seed')}; time: {stages}")
    rows = [("metric", "value", "n", "seconds")]
    for mv in result.metrics.values():
        rows.append((mv.name, format_value(mv.value), str(mv.settings.get("n", "")), f"{mv.seconds:.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines.append("")
    for i, r in enumerate(rows):
        lines.append(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>7}")
        if i == 0:
            lines.append("-" * (sum(widths) + 4 + 2 + 7 + 2))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- metrics.json


def jsonable(value: Any) -> Any:
    """Recursively replace non-finite floats by "inf" / "-inf" / "nan" strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def entry_key(mv: MetricValue, settings: dict[str, Any]) -> str:
    """``metric|k=v|...`` over every setting that changes the metric's value."""
    parts: dict[str, Any] = {"n": mv.settings.get("n"), "seed": mv.settings.get("seed")}
    if "features" in mv.settings:
        ext = settings.get("extractor") or {}
        parts["features"] = ext.get("classifier") and f"classifier:{ext['classifier']}" or ext.get("name")
        if ext.get("resize"):
            parts["resize"] = ext["resize"]
        if ext.get("weights_sha256"):
            parts["weights"] = ext["weights_sha256"][:16]
    if "n_real" in mv.settings:
        parts["n_real"] = mv.settings["n_real"]
        parts["real"] = settings.get("real")
    if mv.settings.get("options"):
        parts["options"] = json.dumps(mv.settings["options"], sort_keys=True, separators=(",", ":"))
    return "|".join([mv.name] + [f"{k}={parts[k]}" for k in sorted(parts) if parts[k] is not None])


def result_entries(result: EvalResult) -> dict[str, dict[str, Any]]:
    """The ``metrics.json`` entries of one evaluation."""
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    s = result.settings
    context = {k: s[k] for k in ("fake", "fake_identity", "real", "real_identity", "extractor") if k in s}
    out = {}
    for mv in result.metrics.values():
        out[entry_key(mv, s)] = jsonable(
            {
                "metric": mv.name,
                "value": mv.value,
                "settings": mv.settings,
                "context": context,
                "seconds": round(mv.seconds, 4),
                "written": written,
            }
        )
    return out


def read_metrics_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The entries of an existing ``metrics.json`` ({} if absent; unreadable -> warning, {})."""
    p = Path(path)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if (
            not isinstance(data, dict)
            or data.get("format") != METRICS_FORMAT
            or not isinstance(data.get("entries"), dict)
        ):
            raise ValueError(f"not a {METRICS_FORMAT} file")
        return data["entries"]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        warnings.warn(f"{p} is unreadable ({exc}); its old entries are replaced", UserWarning, stacklevel=2)
        return {}


def write_metrics_json(path: str | os.PathLike[str], result: EvalResult, *, merge: bool = True) -> Path:
    """Write (merge into) ``path`` atomically; return it."""
    entries = read_metrics_json(path) if merge else {}
    entries.update(result_entries(result))
    text = json.dumps({"format": METRICS_FORMAT, "entries": entries}, indent=2, sort_keys=False, allow_nan=False)
    with atomic_write(path, "w") as fh:
        fh.write(text + "\n")
    return Path(path)


# ----------------------------------------------------------------------------- warnings


@contextmanager
def one_line_warnings(stream: TextIO | None = None, prefix: str = "gankit: warning: ") -> Iterator[None]:
    """Show every warning raised inside as one line ``gankit: warning: ...`` (CLI use)."""
    out = stream if stream is not None else sys.stderr

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        text = " ".join(str(message).split())
        print(f"{prefix}{text}", file=out)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield
