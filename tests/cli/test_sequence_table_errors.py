"""Bad sequence and table input through the CLI: one ``gankit: error:`` line, exit 2, no run directory."""

import contextlib
import io
import re

import pytest

from gankit.cli import main


def run(args: list[str]) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(args)
    return code, [ln for ln in err.getvalue().splitlines() if not ln.startswith("gankit: warning: ")]


CASES = {
    "undeclared-contradicting-column": ("table.csv", "a,b\n1,2\n3,x\n4,5\n",
                                        ["diabetes-tabgan", "data.name=csv", "data.columns=a:continuous,b:continuous"],
                                        r"table\.csv line 3 column 'b': 'x' is not a finite number"),
    "empty-table": ("table.csv", "a,b\n", ["diabetes-tabgan", "data.name=csv"], r"table\.csv: no rows"),
    "line-over-seq-len": ("lines.txt", "ab\nabcdefgh\n", ["words-organ", "data.name=text", "data.seq_len=4"],
                          r"longer than|more than|exceeds"),
    "unregistered-objective": (None, "", ["words-organ", "recipe.objective=no-such-objective"],
                               r"no-such-objective"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_sequence_and_table_input_is_one_line_exit_2(tmp_path, case):
    name, text, (preset, *overrides), pattern = CASES[case]
    if name:
        (tmp_path / name).write_text(text)
        overrides.append(f"data.path={tmp_path / name}")
    out = tmp_path / "runs"
    code, lines = run(["train", "--preset", preset, *overrides, "train.steps=1", f"train.out_dir={out}",
                       "train.progress=false"])
    assert code == 2 and len(lines) == 1 and lines[0].startswith("gankit: error: "), lines
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists() or not any(out.iterdir())  # refused before a run directory was made
