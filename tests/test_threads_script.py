"""benchmarks/threads.py: a smoke run records one block per policy and the summary; bad input is refused."""

import json
import os
import subprocess
import sys

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "benchmarks")


def run_script(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(BENCHMARKS, "threads.py"), *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_smoke_run_records_each_policy(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    proc = run_script("--presets", "ring-sharp", "--steps", "2", "--rounds", "1", "--warmup", "0",
                      "--background-load", "1", "--out", str(tmp_path), "data.n_samples=256",
                      "train.batch_size=16", env=env)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert [r["policy"] for r in records] == ["1", "all", "auto"]
    threads = {r["policy"]: r["threads"] for r in records}
    assert threads["1"] == 1 and threads["auto"] == 1 and threads["all"] == len(os.sched_getaffinity(0))
    assert all(len(r["loadavg_before"]) == 3 and r["steps"] == 2 for r in records)
    # gankit is imported before torch: the spin-wait is bounded, and the burner was counted
    assert all(r["gomp_spincount"] == "1000" and r["spin_bounded"] and r["background_load"] == 1 for r in records)
    assert "| 1 | ring-sharp |" in (tmp_path / "summary.md").read_text()


def test_bad_steps_and_keys_are_refused_before_logging(tmp_path):
    for args in (["--steps", "0"], ["--steps", "5,5"], ["model.no_such_key=1"], ["--background-load", "-1"]):
        proc = run_script("--presets", "ring-sharp", "--out", str(tmp_path), *args)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "threads.py: error: " in proc.stderr
    assert not (tmp_path / "commands.jsonl").exists()
