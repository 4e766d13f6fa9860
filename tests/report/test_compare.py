"""``gankit compare``: config differences, metrics per run, curves on shared axes, final grids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.report import config_differences, svg
from gankit.report.compare import MISSING
from gankit.runs import train
from tests.helpers import tiny
from tests.report.page_html import decode_image, parse_page


def test_config_differences_lists_changed_and_missing_keys():
    a = {"name": "x", "train": {"steps": 4, "seed": 0}, "recipe": {"loss": "ns", "gp": [1, 2]}}
    b = {"name": "x", "train": {"steps": 6, "seed": 0}, "recipe": {"loss": "ns", "gp": [1, 3], "extra": 1}}
    c = {"name": "x", "train": {"steps": 4, "seed": 0}, "recipe": {"loss": "ns", "gp": [1, 2]}}
    diff = config_differences([a, b, c])
    assert list(diff) == ["train.steps", "recipe.gp", "recipe.extra"]
    assert diff["train.steps"] == [4, 6, 4] and diff["recipe.gp"] == [[1, 2], [1, 3], [1, 2]]
    assert diff["recipe.extra"][0] is MISSING and diff["recipe.extra"][1] == 1
    assert config_differences([a, c]) == {}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    a = Path(train(tiny("ring-gan", out, "train.steps=4", "train.run_name=a")).run_dir)
    b = Path(train(tiny("ring-gan", out, "train.steps=6", "recipe.loss=hinge", "train.run_name=b")).run_dir)
    assert main(["eval", str(a), "--metrics", "mmd", "--n", "200"]) == 0
    page = out / "compare.html"
    assert main(["compare", str(a), str(b), "--out", str(page)]) == 0
    return a, b, parse_page(page.read_text(encoding="utf-8"))


def test_config_section_lists_exactly_the_differing_keys(compared):
    a, b, page = compared
    rows = page.tables["config"][0]
    assert rows[0] == ["key", "a", "b"]
    # the two runs were made with these three settings apart (by hand, from the fixture)
    assert {row[0]: [json.loads(v) for v in row[1:]] for row in rows[1:]} == {
        "recipe.loss": [json.loads((a / "config.json").read_text())["recipe"]["loss"], "hinge"],
        "train.steps": [4, 6],
        "train.run_name": ["a", "b"],
    }


def test_metrics_table_has_a_column_per_run(compared):
    a, _, page = compared
    entries = json.loads((a / "metrics.json").read_text())["entries"]
    (key, entry), = entries.items()
    header, *rows = page.tables["metrics"][0]
    assert header == ["metric", "settings", "a", "b"]
    assert rows == [["mmd", ", ".join(key.split("|")[1:]), format(entry["value"], ".6g"), "—"]]
    assert float(rows[0][2]) == pytest.approx(entry["value"], rel=1e-5)


def _pairs(d: str) -> list[list[float]]:
    """The (x, y) points of SVG path data ``M x y L x y ...``."""
    tokens = d.replace("M", " ").replace("L", " ").split()
    return [[float(tokens[k]), float(tokens[k + 1])] for k in range(0, len(tokens), 2)]


def test_curves_share_axes_over_both_runs(compared):
    a, b, page = compared
    charts = {[x["text"] for tag, x in c if tag == "#text"][0]: c for c in page.svgs["curves"]}
    paths = [np.array(_pairs(x["d"])) for tag, x in charts["Loss/D"] if tag == "path"]
    assert len(paths) == 2  # one line per run, a's first
    series = [[(r["step"], r["Loss/D"]) for r in map(json.loads, (run / "stats.jsonl").read_text().splitlines())
               if "Loss/D" in r] for run in (a, b)]
    top, bottom = svg.MARGIN_TOP, svg.HEIGHT - svg.MARGIN_BOTTOM
    left, right = svg.MARGIN_LEFT, svg.WIDTH - svg.MARGIN_RIGHT
    highest = max(range(2), key=lambda i: max(v for _, v in series[i]))
    lowest = min(range(2), key=lambda i: min(v for _, v in series[i]))
    longest = max(range(2), key=lambda i: max(s for s, _ in series[i]))
    # the box spans both runs: the run with the highest loss touches the top, the lowest the bottom,
    # the longer run the right edge; both start at the first logged step on the left edge
    assert paths[highest][:, 1].min() == pytest.approx(top, abs=0.01)
    assert paths[lowest][:, 1].max() == pytest.approx(bottom, abs=0.01)
    assert paths[longest][:, 0].max() == pytest.approx(right, abs=0.01)
    assert paths[0][0, 0] == pytest.approx(left, abs=0.01) and paths[1][0, 0] == pytest.approx(left, abs=0.01)
    # the shorter run ends where its last step falls on the shared x axis
    short = 1 - longest
    x_lo, x_hi = series[0][0][0], series[longest][-1][0]
    want = left + (series[short][-1][0] - x_lo) / (x_hi - x_lo) * (right - left)
    assert paths[short][-1, 0] == pytest.approx(want, abs=0.01)


def test_final_grids_are_each_runs_final_samples(compared):
    a, b, page = compared
    shown = [np.asarray(decode_image(x["src"])) for x in page.images["samples"]]
    assert len(shown) == 2
    for image, run in zip(shown, (a, b)):
        np.testing.assert_array_equal(image, np.asarray(Image.open(run / "samples_final.png")))
