"""benchmarks/pix2pix_ablation.py refuses what it cannot run in one line, before logging anything."""

import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "pix2pix_ablation.py")


@pytest.mark.parametrize("args, word", [
    (["--variants", "l1,nope"], "'nope'"),
    (["--tasks", "cats"], "'cats'"),
    (["--variants", "l1", "--set", "model.no_such_key=1"], "model.no_such_key"),
    (["--tasks", "inpaint", "--n-eval", "50"], "--n-eval"),
])
def test_refused_before_logging(tmp_path, args, word):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, SCRIPT, *args, "--out", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pix2pix_ablation.py: error: ") and word in lines[0]
    assert not out.exists()
