"""`gankit eval`: a table + metrics.json for a run, --real/--fake for files, and every bad
input exiting 2 with exactly one stderr line and no traceback."""

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.data import load_digits_arrays
from gankit.metrics import mmd2, mode_coverage
from gankit.metrics.classifier import load_classifier, predict
from gankit.runs import load_run, train
from tests.helpers import tiny


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return train(tiny("ring-gan", out, "train.steps=3", "train.run_name=ring")).run_dir


def test_eval_run_prints_a_table_and_writes_metrics_json(ring, capsys):
    assert main(["eval", ring, "--metrics", "mode_coverage,mmd", "--n", "500"]) == 0
    out = capsys.readouterr().out
    run = load_run(ring)
    x = run.sample(500, seed=0)
    mc = mode_coverage(x, torch.as_tensor(run.data["mode_centres"]), run.data["mode_std"])
    assert "metric" in out and "mode_coverage" in out and f"modes {mc.modes}" in out
    with open(f"{ring}/metrics.json", encoding="utf-8") as fh:
        data = json.load(fh)
    keys = sorted(data["entries"])
    assert keys == ["mmd|features=identity|n=500|n_real=500|real=ring (test)|seed=0", "mode_coverage|n=500|seed=0"]
    mmd_value = data["entries"][keys[0]]["value"]
    assert f"{mmd_value:.6g}" in out
    assert data["entries"][keys[1]]["value"]["modes"] == mc.modes
    assert data["entries"][keys[1]]["value"]["histogram"] == list(mc.histogram)


def test_eval_real_fake_files_writes_only_out(tmp_path, capsys):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) + 1
    np.savez(tmp_path / "a.npz", samples=a)
    np.savez(tmp_path / "b.npz", samples=b)
    out = tmp_path / "res.json"
    rc = main(["eval", "--real", str(tmp_path / "a.npz"), "--fake", str(tmp_path / "b.npz"), "--metrics", "mmd",
               "--out", str(out)])
    assert rc == 0
    entries = json.loads(out.read_text())["entries"]
    (entry,) = entries.values()
    assert entry["value"] == pytest.approx(mmd2(a, b), rel=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz", "res.json"]
    assert "mmd" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metrics", "fid,bogus"], "unknown metric 'bogus'"),
        (["--metrics", "kid", "--metric-opt", "kid.subset_size=1000"], "subset_size=1000 is larger"),
        (["--metrics", "is", "--features", "identity"], "no class probabilities"),
        (["--metrics", "mmd", "--fake", "{bad}"], "expected images"),
        (["--metrics", "mmd", "--metric-opt", "mmd.kernel"], "METRIC.OPTION=VALUE"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys, args, message):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "r.npz", samples=rng.normal(size=(20, 2)))
    np.savez(tmp_path / "f.npz", samples=rng.normal(size=(20, 2)))
    np.savez(tmp_path / "bad.npz", samples=rng.normal(size=(20,)))
    args = [a.replace("{bad}", str(tmp_path / "bad.npz")) for a in args]
    if "--fake" not in args:
        args += ["--fake", str(tmp_path / "f.npz")]
    assert main(["eval", "--real", str(tmp_path / "r.npz"), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gankit: error: ") and message in err
    assert "Traceback" not in err


def test_run_and_fake_together_or_neither_is_an_error(ring, capsys):
    assert main(["eval", "--metrics", "mmd"]) == 2
    assert main(["eval", ring, "--fake", ring, "--metrics", "mmd"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "either RUN_DIR or --fake" in err


def test_a_subprocess_error_has_no_traceback(tmp_path):
    np.savez(tmp_path / "f.npz", samples=np.zeros((4, 2)))
    proc = subprocess.run(
        [sys.executable, "-m", "gankit", "eval", "--fake", str(tmp_path / "f.npz"), "--metrics", "is",
         "--features", "identity"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "no class probabilities" in proc.stderr


def _matched_accuracy_by_brute_force(codes, labels, k_codes, k_labels=10):
    """max over one-to-one maps code -> label of the fraction of agreements (every injective map)."""
    return max(
        float(np.mean(np.asarray(image)[codes] == labels))
        for image in itertools.permutations(range(k_labels), k_codes)
    )


def test_eval_matched_acc_of_npz_samples_with_codes(tmp_path, capsys):
    digits, truth = load_digits_arrays("all")  # (N, 8, 8) in 0..16, (N,)
    u8 = np.round(digits[:90] * (255.0 / 16.0)).astype(np.uint8)  # (90, 8, 8)
    rng = np.random.default_rng(0)
    codes = np.where(rng.random(90) < 0.7, truth[:90] % 4, rng.integers(0, 4, 90))  # (90,) 4 code values
    np.savez(tmp_path / "f.npz", samples=u8, codes=codes)
    out = tmp_path / "res.json"
    rc = main(["eval", "--fake", str(tmp_path / "f.npz"), "--metrics", "matched_acc", "--classifier", "digits",
               "--out", str(out)])
    assert rc == 0 and "matched_acc" in capsys.readouterr().out
    (entry,) = json.loads(out.read_text())["entries"].values()
    x = torch.from_numpy(u8[:, None].astype(np.float32) / 127.5 - 1.0)  # (90, 1, 8, 8) in [-1, 1]
    labels, _ = predict(load_classifier("digits"), x)
    expected = _matched_accuracy_by_brute_force(codes, labels, 4)
    assert 0.3 < expected < 1.0  # the codes say something about the classes, not everything
    assert entry["value"]["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert entry["value"]["classifier"] == "digits" and len(set(entry["value"]["mapping"])) == 4
    np.savez(tmp_path / "nocodes.npz", samples=u8)
    assert main(["eval", "--fake", str(tmp_path / "nocodes.npz"), "--metrics", "matched_acc",
                 "--classifier", "digits"]) == 2
    assert "needs samples with latent codes" in capsys.readouterr().err
