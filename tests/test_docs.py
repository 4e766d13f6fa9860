"""The documentation that code makes or runs: the generated CLI reference and the benchmark tables
are up to date with the parser and the committed records, and the tutorial's code blocks run, in
order, on tiny data."""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest

from gankit.cli import build_parser
from gankit.config import TrainConfig
from gankit.recipes import RECIPES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _gen_reference():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(markdown: str) -> list[str]:
    """The fenced ```python blocks of a Markdown page, in order."""
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.S | re.M)


def test_cli_reference_is_up_to_date():
    gen = _gen_reference()
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == gen.cli_page(), "docs/cli.md is out of date: run python docs/gen_reference.py"


REPO = DOCS.parent
TABLE_PAGES = sorted(
    p.relative_to(REPO).as_posix()
    for p in [*DOCS.rglob("*.md"), REPO / "README.md"]
    if "generated table:" in p.read_text(encoding="utf-8")
)


def test_pages_have_generated_tables():
    bench = {f"docs/benchmarks/{name}.md" for name in
             ("semi-supervised", "stacked-mnist", "mode-collapse-2d", "image-models", "metrics-sanity")}
    assert bench | {"docs/metrics.md", "docs/benchmarks/index.md", "README.md"} <= set(TABLE_PAGES)


@pytest.mark.parametrize("page", TABLE_PAGES)
def test_generated_tables_are_up_to_date_with_the_records(page):
    gen = _gen_reference()
    committed = (REPO / page).read_text(encoding="utf-8")
    assert committed == gen.benchmark_page(committed), (
        f"{page} differs from its records: run python docs/gen_reference.py"
    )


def test_classifier_table_reads_the_training_logs(tmp_path):
    gen = _gen_reference()
    for data, (acc, n) in {"mnist": (9871, 10000), "fashion-mnist": (9001, 10000), "digits": (290, 297)}.items():
        (tmp_path / f"classifier_{data}.txt").write_text(
            f"# gankit classifier: {data}, seed 3, 7 epochs, batch 128, lr 0.003\n# machine: nproc 2, threads 2\n"
            f"final test accuracy: {acc / n:.4f} ({acc}/{n})\n")
    rows = gen.classifier_table(tmp_path).splitlines()[2:]
    assert rows[0] == "| MNIST | 98.71 % | `gankit classifier train --data mnist --seed 3 --epochs 7 --threads 2` |"
    assert rows[2].startswith("| 8×8 digits | 97.64 % |")  # 290 / 297


def test_a_hand_edited_table_is_rebuilt_from_the_records():
    gen = _gen_reference()
    page = (DOCS / "benchmarks" / "stacked-mnist.md").read_text(encoding="utf-8")
    assert "| 0.0475 ± 0.002 |" in page  # the five-seed lazy-R1 row, from the records
    edited = page.replace("| 0.0475 ± 0.002 |", "| 0.0400 ± 0.002 |")
    assert gen.benchmark_page(edited) == page


def test_a_hand_edited_headline_is_rebuilt_from_the_records():
    gen = _gen_reference()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "| K+1 GAN test error 1.91 ± 0.14 %; Triple-GAN 4.21 ± 0.16 % |" in readme  # from the records
    assert gen.benchmark_page(readme.replace("1.91 ± 0.14 %", "1.50 ± 0.14 %")) == readme
    index = (DOCS / "benchmarks" / "index.md").read_text(encoding="utf-8")
    assert "| [Semi-supervised MNIST](semi-supervised.md) |" in index  # links relative to the index
    assert gen.benchmark_page(index.replace("median 1.96×", "median 2.5×")) == index


def test_records_table_keeps_only_the_asked_rows():
    gen = _gen_reference()
    table = gen.records_table("mode_collapse_2d", "summarise", rows="2000")
    lines = table.splitlines()
    assert lines[0].startswith("| steps | method |") and len(lines) == 2 + 24  # header + 24 methods
    assert all(line.startswith("| 2000 |") for line in lines[2:])


def test_cli_reference_lists_every_command_and_option():
    gen = _gen_reference()
    page = gen.cli_page()
    parser = build_parser()
    for name, _help, sub in gen._subcommands(parser):
        assert f"## `gankit {name}`" in page
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert f"`{option}`" in page, f"gankit {name} {option} missing from the CLI reference"


def test_config_reference_reads_field_comments():
    gen = _gen_reference()
    comments = gen.field_comments(TrainConfig)
    assert comments["ema_decay"] == "EMA of generator weights used for sampling (0 disables)"
    page = gen.config_page()
    assert "| `train.ema_decay` | `float` | `0.999` | EMA of generator weights used for sampling (0 disables) |" in page
    for name in RECIPES.names():
        assert f"## `[recipe]` of `recipe.name={name}`" in page


def test_python_blocks_are_extracted_in_order():
    page = "text\n```python\na = 1\n```\n```bash\nno\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(page) == ["a = 1\n", "b = a + 1\n"]


def test_tutorial_code_runs(monkeypatch, tmp_path):
    blocks = python_blocks((DOCS / "tutorial.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 3, "the tutorial lost its code blocks"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tempfile.mkdtemp", lambda *a, **k: str(tmp_path))
    module = types.ModuleType("gankit_docs_tutorial")  # dataclasses look their module up in sys.modules
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/tutorial.md block {i + 1}", "exec"), namespace)  # noqa: S102
    finally:
        RECIPES._items.pop("my-ragan", None)
        RECIPES._descriptions.pop("my-ragan", None)
    result = namespace["result"]
    assert result.steps == 20 and result.completed
    stats = (Path(result.run_dir) / "stats.jsonl").read_text(encoding="utf-8")
    assert '"Loss/D"' in stats and '"Loss/G"' in stats
    assert "my-ragan" not in RECIPES


@pytest.mark.parametrize("page", ["tutorial.md", "getting-started.md", "concepts/runs.md"])
def test_pages_are_in_the_docs(page):
    assert (DOCS / page).is_file()


def test_reliability_tables_are_up_to_date_with_the_records():
    gen = _gen_reference()
    committed = (DOCS / "reliability.md").read_text(encoding="utf-8")
    assert "<!-- generated table: results.kill_resume_table -->" in committed
    assert committed == gen.benchmark_page(committed), (
        "docs/reliability.md differs from its records: run python docs/gen_reference.py"
    )
