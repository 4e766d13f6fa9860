"""Bad input to ``gankit report`` / ``gankit compare``: one line, exit 2, no page written."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from gankit.cli import main


def good_run(root):
    """A minimal run directory: a config, two stats lines, one sample grid."""
    (root / "samples").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"name": "hand-made", "recipe": {"name": "gan"},
                                                  "train": {"steps": 2}}))
    (root / "stats.jsonl").write_text('{"step": 1, "Loss/D": 1.0}\n{"step": 2, "Loss/D": 0.5}\n')
    Image.new("L", (8, 8), 0).save(root / "samples" / "step_000002.png")
    return root


def one_error_line(capsys, argv: list[str], fragment: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gankit: error:") and fragment in err[0], err


def no_page_in(folder) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".html") or p.name.endswith(".tmp")]


CORRUPTIONS = {
    "not a directory": (lambda run: run.rename(run.with_name("elsewhere")), "run directory not found"),
    "no config.json": (lambda run: (run / "config.json").unlink(), "a gankit run directory"),
    "config not JSON": (lambda run: (run / "config.json").write_text("{nope"), "not valid JSON"),
    "stats.jsonl corrupt": (lambda run: (run / "stats.jsonl").write_text('{"step": 1}\n{bad\n{"step": 3}\n'),
                            "stats.jsonl:2: malformed line"),
    "metrics.json corrupt": (lambda run: (run / "metrics.json").write_text("[1, 2"), "metrics.json is not valid JSON"),
    "metrics.json other format": (lambda run: (run / "metrics.json").write_text('{"format": "x", "entries": {}}'),
                                  "is not a gankit-metrics/1 file"),
    "grid not an image": (lambda run: (run / "samples" / "step_000004.png").write_bytes(b"\x89PNG broken"),
                          "step_000004.png is not a readable image"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_broken_run_is_one_line_and_no_page(tmp_path, capsys, case):
    run = good_run(tmp_path / "run")
    damage, fragment = CORRUPTIONS[case]
    damage(run)
    one_error_line(capsys, ["report", str(run)], fragment)
    assert no_page_in(tmp_path) and (not run.is_dir() or no_page_in(run))
    other = good_run(tmp_path / "other")
    one_error_line(capsys, ["compare", str(other), str(run), "--out", str(tmp_path / "c.html")], fragment)
    assert no_page_in(tmp_path)


def test_a_failed_report_leaves_the_previous_one_untouched(tmp_path, capsys):
    run = good_run(tmp_path / "run")
    assert main(["report", str(run)]) == 0
    before = (run / "report.html").read_bytes()
    (run / "stats.jsonl").write_text('{"step": 1}\n{bad\n{"step": 3}\n')
    one_error_line(capsys, ["report", str(run)], "malformed line")
    assert (run / "report.html").read_bytes() == before
    assert not list(run.glob(".report.html*"))


@pytest.mark.parametrize(("argv", "fragment"), [
    (["report", "RUN", "--out", "DIR/missing/r.html"], "does not exist"),
    (["report", "RUN", "--out", "DIR/r.txt"], "--out must end in .html"),
    (["compare", "RUN", "RUN", "--out", "DIR/missing/c.html"], "does not exist"),
    (["compare", "RUN", "--out", "DIR/c.html"], "at least two run directories"),
])
def test_bad_arguments_are_one_line_and_no_page(tmp_path, capsys, argv, fragment):
    run = good_run(tmp_path / "run")
    argv = [a.replace("RUN", str(run)).replace("DIR", str(tmp_path)) for a in argv]
    one_error_line(capsys, argv, fragment)
    assert no_page_in(tmp_path) and no_page_in(run) and not (tmp_path / "missing").exists()
