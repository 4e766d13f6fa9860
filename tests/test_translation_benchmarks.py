"""The CycleGAN and super-resolution benchmark scripts refuse what they cannot run like the CLI
does (one line, exit 2, nothing logged) and summarise their records."""

import json

import pytest

from tests.test_benchmark_scripts import assert_refused, run_script


@pytest.mark.parametrize("script, args, words", [
    ("cyclegan_digits.py", ["--methods", "cyclegan,nope"], ["'nope'"]),
    ("cyclegan_digits.py", ["--set", "model.no_such_key=1"], ["model.no_such_key"]),
    ("superres.py", ["--datasets", "cifar"], ["'cifar'"]),
    ("superres.py", ["--methods", "bicubic,esrgan"], ["'esrgan'"]),
])
def test_refused_before_logging(tmp_path, script, args, words):
    out = tmp_path / "out"
    assert_refused(run_script(script, *args, "--out", str(out)), script, *words)
    assert not out.exists()


def test_summaries_group_seeds(tmp_path):
    sr = [{"dataset": "mnist", "method": m, "seed": s, "n_eval": 10, "overrides": [], "steps": 5, "cpu_s": 1.0,
           "psnr": 20.0 + s, "ssim": 0.5, "fid_classifier": 3.0, "class_acc": 0.9} for m in ("srgan", "bicubic")
          for s in (0, 1)]
    (tmp_path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sr))
    proc = run_script("superres.py", "--summarise", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in (tmp_path / "summary.md").read_text().splitlines() if line.startswith("| mnist")]
    assert [r.split("|")[2].strip() for r in rows] == ["bicubic", "srgan"]  # the methods' order
    assert "20.5 ± 0.5" in rows[1] and "| 2 |" in rows[1] and "| 90 ± 0 |" in rows[1]
