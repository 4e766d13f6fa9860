"""benchmarks/modern_baseline.py refuses what it cannot run (one line, exit 2, nothing logged) and
runs a tiny ablation end to end."""

import argparse
import importlib.util
import json
import os
import sys

import pytest

from tests.test_benchmark_scripts import BENCHMARKS, assert_refused, run_script


def test_a_bad_override_is_refused_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("modern_baseline.py", "--table", "ablation", "--set", "model.no_such_key=1", "--out", str(out))
    assert_refused(proc, "modern_baseline.py", "model.no_such_key")
    assert not out.exists()


def test_an_unknown_dataset_is_refused(tmp_path):
    proc = run_script("modern_baseline.py", "--table", "fid", "--datasets", "cifar10", "--out", str(tmp_path))
    assert proc.returncode == 2 and "cifar10" in proc.stderr
    assert not (tmp_path / "fid").exists()


def test_summarise_without_records_is_refused(tmp_path):
    proc = run_script("modern_baseline.py", "--table", "small-data", "--summarise", "--out", str(tmp_path))
    assert_refused(proc, "modern_baseline.py", "no records")


def _script_module():
    spec = importlib.util.spec_from_file_location("modern_baseline", os.path.join(BENCHMARKS, "modern_baseline.py"))
    sys.path.insert(0, BENCHMARKS)
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(BENCHMARKS)
    return module


def test_the_ablation_is_r3gans_four_rows_on_one_preset():
    args = argparse.Namespace(table="ablation")
    rows = _script_module().variants(args)
    assert [name for name, _, _ in rows] == ["gan+r1", "rpgan+r1", "gan+r1+r2", "rpgan+r1+r2"]
    assert {preset for _, preset, _ in rows} == {"stacked-mnist-r3gan"}
    assert [extra for _, _, extra in rows] == [["recipe.loss=ns", "recipe.r2_gamma=0"],
                                              ["recipe.loss=rpgan", "recipe.r2_gamma=0"],
                                              ["recipe.loss=ns"], ["recipe.loss=rpgan"]]
    args = argparse.Namespace(table="small-data", datasets="mnist", limits="500,2000", augments="none,ada")
    assert [name for name, _, _ in _script_module().variants(args)] == [
        "mnist-500-none", "mnist-500-ada", "mnist-2000-none", "mnist-2000-ada"]


@pytest.mark.slow
def test_a_tiny_run_records_its_scores(tmp_path, real_data):
    proc = run_script("modern_baseline.py", "--table", "best", "--seeds", "0", "--steps", "1", "--n", "100",
                      "--set", "model.g_width=4", "--set", "model.d_width=4", "--set", "data.n_samples=64",
                      "--data-dir", str(real_data), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "best" / "runs.jsonl").read_text().splitlines()]
    assert record["variant"] == "r3gan" and record["steps"] == 1 and 1 <= record["modes"] <= 100
