"""benchmarks/tabular_ctgan.py refuses what it cannot run in one line, exit 2, before logging
(``ctgan`` missing included), and a one-epoch run records and summarises every method asked for."""

import json
import os
import subprocess
import sys

import pytest

from tests.test_benchmark_scripts import BENCHMARKS, assert_refused, run_script

pytest.importorskip("statsmodels", reason="the tables extra (statsmodels) is not installed")


def test_unknown_table_method_epochs_refused_before_logging(tmp_path):
    out = tmp_path / "out"
    assert_refused(run_script("tabular_ctgan.py", "--tables", "iris", "--out", str(out)), "tabular_ctgan.py", "'iris'")
    assert_refused(run_script("tabular_ctgan.py", "--methods", "tvae", "--out", str(out)), "tabular_ctgan.py", "'tvae'")
    assert_refused(run_script("tabular_ctgan.py", "--epochs", "0", "--out", str(out)), "tabular_ctgan.py", "--epochs")
    assert not out.exists()


def test_missing_ctgan_is_refused(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "ctgan.py").write_text("raise ImportError('no ctgan here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "tabular_ctgan.py"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert_refused(proc, "tabular_ctgan.py", "ctgan package is not installed")
    assert not (tmp_path / "o").exists()


def test_one_epoch_run_is_recorded_and_summarised(tmp_path):
    out = tmp_path / "out"
    proc = run_script("tabular_ctgan.py", "--tables", "anes96", "--methods", "real,gankit", "--seeds", "0",
                      "--epochs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in open(out / "runs.jsonl")]
    assert [r["method"] for r in records] == ["real", "gankit"]
    assert records[1]["steps"] == 1 and records[1]["n_train"] == 755 and 0 <= records[1]["f1"] <= 1
    assert set(records[1]["distances"]) == {"popul", "TVnews", "age", "income", "selfLR", "ClinLR", "DoleLR", "PID",
                                            "educ", "vote"}
    proc = run_script("tabular_ctgan.py", "--summarise", "--out", str(out))
    assert proc.returncode == 0 and "| anes96 | gankit | 1 | 1 |" in proc.stdout
