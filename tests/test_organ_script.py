"""benchmarks/organ.py: refusals in one line, exit 2, before logging; a smoke run on real chorales
records one row per lambda plus the MLE row, and its table."""

import json

from tests.test_benchmark_scripts import assert_refused, run_script


def test_bad_arguments_are_refused_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("organ.py", "--lambdas", "1,half", "--out", str(out))
    assert_refused(proc, "organ.py", "comma-separated numbers")
    proc = run_script("organ.py", "--preset", "words-organ", "--out", str(out))
    assert_refused(proc, "organ.py", "dataset chorales")
    proc = run_script("organ.py", "--lambdas", "1.5", "--out", str(out))
    assert_refused(proc, "organ.py", "d_weight must be in")
    assert not out.exists()


def test_smoke_run_records_each_lambda(tmp_path, chorale_cache):
    out = tmp_path / "out"
    proc = run_script("organ.py", "--lambdas", "1,0", "--set", "data.limit=64", "--set", "train.steps=5",
                      "--set", "recipe.pretrain_g_steps=2", "--set", "recipe.pretrain_d_steps=1",
                      "--set", "recipe.rollouts=2", "--set", "train.batch_size=8", "--n-eval", "12",
                      "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert [(r["method"], r.get("d_weight")) for r in records] == [("mle", None), ("organ", 1.0), ("organ", 0.0)]
    assert all(0 <= r["objective_melodic_steps"] <= 1 and r["nll_test"] > 0 for r in records)
    assert run_script("organ.py", "--summarise", "--out", str(out)).returncode == 0
    assert (out / "summary.md").read_text().count("| ORGAN |") == 2
