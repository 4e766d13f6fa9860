"""metrics.json: expected keys, merge by metric + settings, atomic rewrite; the table."""

import json
import math
import os

import numpy as np
import pytest

from gankit.metrics.evaluate import evaluate
from gankit.metrics.report import (
    METRICS_FORMAT,
    format_table,
    format_value,
    jsonable,
    read_metrics_json,
    write_metrics_json,
)


@pytest.fixture()
def npzs(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "r.npz", samples=rng.normal(size=(40, 2)))
    np.savez(tmp_path / "f.npz", samples=rng.normal(loc=0.3, size=(40, 2)))
    return str(tmp_path / "r.npz"), str(tmp_path / "f.npz")


def test_metrics_json_keys_and_merge(npzs, tmp_path):
    real, fake = npzs
    path = tmp_path / "out" / "metrics.json"
    a = evaluate(real, fake, ["mmd", "nn1"], features="identity")
    write_metrics_json(path, a)
    data = json.loads(path.read_text())
    assert data["format"] == METRICS_FORMAT and len(data["entries"]) == 2
    key = next(k for k in data["entries"] if k.startswith("mmd|"))
    assert key == f"mmd|features=identity|n=40|n_real=40|real=npz {real}|seed=0"
    entry = data["entries"][key]
    assert set(entry) == {"metric", "value", "settings", "context", "seconds", "written"}
    assert entry["metric"] == "mmd" and entry["value"] == a["mmd"]
    assert entry["settings"] == {"n": 40, "seed": 0, "n_real": 40, "features": "identity"}
    assert entry["context"]["fake"] == f"npz {fake}" and entry["context"]["extractor"] == {"name": "identity"}

    b = evaluate(real, fake, ["mmd"], features="identity", n=20)  # other settings: a new entry
    write_metrics_json(path, b)
    c = evaluate(real, fake, ["mmd"], features="identity")  # same settings as `a`: replaces it
    write_metrics_json(path, c)
    entries = read_metrics_json(path)
    assert len(entries) == 3 and entries[key]["value"] == c["mmd"]
    assert any(e["settings"]["n"] == 20 for e in entries.values())


def test_metrics_json_is_written_atomically(npzs, tmp_path, monkeypatch):
    real, fake = npzs
    path = tmp_path / "metrics.json"
    write_metrics_json(path, evaluate(real, fake, ["mmd"], features="identity"))
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_metrics_json(path, evaluate(real, fake, ["swd"], features="identity"))
    assert path.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.npz", "metrics.json", "r.npz"]  # no temp left


def test_non_finite_values_and_unreadable_files(tmp_path):
    assert jsonable({"a": [math.inf, -math.inf, math.nan, 1.5]}) == {"a": ["inf", "-inf", "nan", 1.5]}
    bad = tmp_path / "metrics.json"
    bad.write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable"):
        assert read_metrics_json(bad) == {}


def test_table_lists_every_metric_with_its_value(npzs):
    real, fake = npzs
    res = evaluate(real, fake, ["mmd", "pr", "kid"], features="identity", options={"kid": {"subset_size": 10}})
    table = format_table(res)
    assert f"{res['mmd']:.6g}" in table
    assert f"precision {res['pr']['precision']:.6g}  recall {res['pr']['recall']:.6g}" in table
    assert f"{res['kid']['mean']:.6g} ± {res['kid']['std']:.6g}" in table
    assert table.splitlines()[0] == f"fake: npz {fake}"
    assert format_value({"modes": 3, "histogram": list(range(25))}) == "modes 3"  # long lists stay in JSON
