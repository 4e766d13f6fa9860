"""The benchmark scripts refuse input they cannot use like the CLI does: one line on stderr, exit
status 2, and nothing logged (no ``commands.jsonl`` line for an invocation that ran nothing)."""

import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "benchmarks")


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(BENCHMARKS, name), *args],
                          capture_output=True, text=True, timeout=120)


def assert_refused(proc: subprocess.CompletedProcess, script: str, *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: "), proc.stderr
    for word in words:
        assert word in lines[0]


def test_stacked_mnist_refuses_an_unknown_override_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("stacked_mnist.py", "--methods", "pacdcgan2", "--set", "model.no_such_key=1", "--out", str(out))
    assert_refused(proc, "stacked_mnist.py", "model.no_such_key")
    assert not out.exists()


def test_bn_stats_without_a_kept_run_is_refused_before_logging(tmp_path):
    out = tmp_path / "out" / "scores.json"
    proc = run_script("stacked_mnist_bn_stats.py", "--run", str(tmp_path / "nothing"), "--method", "pacdcgan2",
                      "--seed", "0", "--out", str(out))
    assert_refused(proc, "stacked_mnist_bn_stats.py", "nothing", "checkpoint.safetensors")
    assert not out.parent.exists()


def test_image_models_reuse_without_a_kept_run_is_refused_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("image_models.py", "--reuse", "--models", "dcgan", "--datasets", "mnist", "--out", str(out),
                      "--runs-dir", str(tmp_path / "runs"))
    assert_refused(proc, "image_models.py", "--reuse", "'dcgan'")
    assert not (out / "commands.jsonl").exists()


@pytest.mark.parametrize(
    "content, words", [(None, ["no records"]), ('{"seed": 0}\n{"seed":\n', ["runs.jsonl:2", "JSON"])]
)
def test_summarise_refuses_missing_or_truncated_records(tmp_path, content, words):
    if content is not None:
        (tmp_path / "runs.jsonl").write_text(content)
    proc = run_script("stacked_mnist.py", "--summarise", "--out", str(tmp_path))
    assert_refused(proc, "stacked_mnist.py", *words)
    assert not (tmp_path / "summary.md").exists()


def test_kill_resume_refuses_a_bad_trial_count_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("kill_resume.py", "--trials", "0", "--out", str(out))
    assert_refused(proc, "kill_resume.py", "--trials")
    assert not out.exists()
