"""benchmarks/gpu_check.sh, tested without a GPU: it parses, refuses unknown options, and its dry
mode collects the ``gpu`` tests and runs the Python measurements' code paths on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_script_parses_and_refuses_an_unknown_option(tmp_path):
    assert run("-n", str(SCRIPT)).returncode == 0
    bad = run(str(SCRIPT), "--fast", str(tmp_path / "out"))
    assert bad.returncode == 2 and bad.stderr.strip() == "gpu_check.sh: error: unknown option --fast"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_measurements_without_cuda_are_refused_in_one_line(tmp_path):
    bench = str(REPO / "benchmarks" / "gpu_bench.py")
    done = subprocess.run([sys.executable, bench, "--out", str(tmp_path / "b.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--dry" in done.stderr
    assert not (tmp_path / "b.json").exists()


@pytest.mark.slow  # one training step of three presets and an Inception pass on the CPU
def test_dry_run_collects_the_gpu_tests_and_runs_each_measurement_once_on_cpu(tmp_path):
    done = run(str(SCRIPT), "--dry", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    collected = (tmp_path / "gpu_tests.txt").read_text()
    for name in ("float16_autocast_with_grad_scaler", "bfloat16_autocast", "resumes_on_cpu", "nccl"):
        assert name in collected
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["dry"] is True and report["cuda"].startswith("skipped")
    rates = report["overhead"]["steps_per_s"]
    assert len(rates["plain"]) == len(rates["gankit"]) == 2 and min(rates["plain"] + rates["gankit"]) > 0
    ratio = report["overhead"]["ratio_gankit_over_plain"]
    assert ratio["min"] == pytest.approx(min(g / p for g, p in zip(rates["gankit"], rates["plain"])))
    inception = report["inception"]
    assert "skipped" in inception or min(v for k, v in inception.items() if k.endswith("img_per_s")) > 0
    stacked = report["stacked_mnist"]
    assert "skipped" in stacked or stacked["steps_per_s"] > 0
