"""The CLI: dry runs, a few-step train per preset, sample/interpolate outputs, and every
bad input exiting 2 with exactly one line on stderr and no traceback."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.data import build_dataset
from gankit.runs import load_run, train
from tests.helpers import TINY_DIGITS, TINY_RING, tiny
from tests.recipes.test_new_recipes import tiny_recipe

MNIST_SMALL = ["data.limit=128", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=16",
               "train.progress=false", "train.sample_every=1", "train.log_every=1"]


def _train(tmp_path, preset, *extra, name="run"):
    base = TINY_RING if preset in ("ring-gan", "grid-gan") else TINY_DIGITS
    rc = main(
        ["train", "--preset", preset, "--out", str(tmp_path), f"train.run_name={name}", "train.steps=3", *base, *extra]
    )
    assert rc == 0
    return tmp_path / name


def test_dry_run_prints_resolved_config(capsys, tmp_path):
    assert main(["train", "--dry-run", "train.steps=5", "--out", str(tmp_path)]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["name"] == "digits-dcgan" and cfg["train"]["steps"] == 5 and cfg["recipe"]["loss"] == "ns"
    assert list(tmp_path.iterdir()) == []  # a dry run writes nothing


def test_overrides_may_follow_options(capsys, tmp_path):
    assert (
        main(["train", "train.steps=4", "--out", str(tmp_path), "train.seed=3", "--dry-run", "recipe.loss=hinge"]) == 0
    )
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["train"]["steps"], cfg["train"]["seed"], cfg["recipe"]["loss"]) == (4, 3, "hinge")
    assert cfg["train"]["out_dir"] == str(tmp_path)


def test_presets_and_datasets_listing(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("digits-dcgan", "ring-gan", "grid-gan", "mnist-dcgan", "fashion-dcgan", "mnist-wgan-gp"):
        assert name in out
    assert "(default)" in out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("ring", "grid", "spiral", "digits", "mnist", "fashion-mnist", "image-folder"):
        assert name in out


def test_help_has_worked_examples(capsys):
    assert main(["--help"]) == 0
    assert "gankit train --preset ring-gan" in capsys.readouterr().out


@pytest.mark.parametrize("preset", ["digits-dcgan", "ring-gan", "grid-gan"])
def test_few_step_train_per_builtin_preset(tmp_path, preset):
    run = _train(tmp_path, preset, "train.sample_every=2")
    for name in ("config.json", "stats.jsonl", "checkpoint.safetensors", "README.md", "loss_curves.png",
                 "samples_final.png", "histograms.png"):
        assert (run / name).is_file(), name
    assert (run / "samples" / "step_000002.png").is_file()
    if preset != "digits-dcgan":
        assert (run / "density.png").is_file()


@pytest.mark.parametrize("preset", ["mnist-dcgan", "fashion-dcgan", "mnist-wgan-gp", "stacked-mnist-pacgan"])
def test_few_step_train_per_mnist_preset(tmp_path, real_data, preset):
    stacked = ["data.n_samples=256"] if preset.startswith("stacked") else []
    rc = main(["train", "--preset", preset, "--data-dir", str(real_data), "--out", str(tmp_path),
               "train.run_name=m", "train.steps=2", *MNIST_SMALL, *stacked])
    assert rc == 0
    grid = Image.open(tmp_path / "m" / "samples" / "step_000001.png")
    # an 8x8 grid of 28x28 images with 2-px padding, then enlarged x2
    assert grid.size == (2 * (8 * (28 + 2) + 2),) * 2


def test_sample_and_interpolate_outputs(tmp_path):
    run = _train(tmp_path, "digits-dcgan")  # 8x8 images -> upscale x8 in grids
    out = tmp_path / "s.png"
    assert main(["sample", str(run), "--n", "12", "--seed", "3", "--out", str(out), "--nrow", "4"]) == 0
    assert Image.open(out).size == (8 * (4 * (8 + 2) + 2), 8 * (3 * (8 + 2) + 2))
    npz = tmp_path / "s.npz"
    assert main(["sample", str(run), "--n", "10", "--seed", "3", "--out", str(npz)]) == 0
    arr = np.load(npz)["samples"]
    assert arr.shape == (10, 1, 8, 8) and arr.min() >= -1 and arr.max() <= 1
    again = tmp_path / "t.npz"
    main(["sample", str(run), "--n", "10", "--seed", "3", "--out", str(again)])
    np.testing.assert_array_equal(np.load(again)["samples"], arr)  # same seed, same samples
    interp = tmp_path / "i.png"
    assert main(["interpolate", str(run), "--steps", "5", "--rows", "2", "--slerp", "--out", str(interp)]) == 0
    assert Image.open(interp).size == (8 * (5 * (8 + 2) + 2), 8 * (2 * (8 + 2) + 2))
    default_out = run / "interpolation.png"
    assert main(["interpolate", str(run)]) == 0 and default_out.is_file()


def test_sample_2d_scatter_and_npz(tmp_path):
    run = _train(tmp_path, "ring-gan")
    assert main(["sample", str(run), "--n", "300", "--out", str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size[0] > 100
    assert main(["sample", str(run), "--n", "300", "--out", str(tmp_path / "r.npz")]) == 0
    assert np.load(tmp_path / "r.npz")["samples"].shape == (300, 2)


def test_interpolation_endpoints_are_the_latent_pairs(tmp_path):
    """The first and last column of an interpolation are G(z0) and G(z1)."""
    import torch

    from gankit.runs import load_run

    run = load_run(str(_train(tmp_path, "ring-gan")))
    path = run.interpolate(rows=3, steps=4, seed=9).reshape(3, 4, 2)
    gen = torch.Generator().manual_seed(9)
    z0, z1 = run.recipe.latent(3, gen), run.recipe.latent(3, gen)
    nets = run.nets()
    torch.testing.assert_close(path[:, 0], run.recipe.sample(nets, z0))
    torch.testing.assert_close(path[:, -1], run.recipe.sample(nets, z1))


def _one_error_line(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gankit: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in err


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    run = _train(tmp_path, "ring-gan")
    capsys.readouterr()
    cases = [
        (["train", "train.bogus=1"], "unknown key train.bogus"),
        (["train", "train.steps=ten"], "expected an integer"),
        (["train", "--preset", "nope"], "unknown preset"),
        (["train", "data.name=nope"], "unknown dataset"),
        (["train", "model.arch=nope"], "unknown network family"),
        (["train", "model.d_norm=xyz"], "not one of"),
        (["train", "notakeyvalue"], "section.key=value"),
        (["train", "--preset", "mnist-dcgan", "data.download=false", f"data.path={tmp_path}/nodata",
          f"--out={tmp_path}"], "mnist"),
        (["train", "--preset", "ring-gan", "train.batch_size=999999", "data.n_samples=100", f"--out={tmp_path}"],
         "fewer than train.batch_size"),
        (["train", "--preset", "ring-gan", f"--out={tmp_path}", f"train.run_name={run.name}"], "already holds a run"),
        (["resume", str(tmp_path / "missing")], "not found"),
        (["resume", str(run), "optim.lr_d=1"], "cannot change optim.lr_d"),
        (["sample", str(tmp_path / "missing")], "not found"),
        (["sample", str(run), "--out", str(tmp_path / "x.txt")], "only token-sequence runs write text"),
        (["sample", str(run), "--out", str(tmp_path / "x.gif")], "must end in .png, .npz or .txt"),
        (["sample", str(run), "--class", "3"], "conditional"),
        (["sample", str(run), "--n", "0"], "--n must be >= 1"),
        (["interpolate", str(run), "--steps", "1"], "--steps >= 2"),
        (["sample", str(run), "--out", str(tmp_path / "no" / "such" / "dir" / "x.npz"), "--device", "cuda:7"],
         "CUDA is not available"),
        (["train", "--bogus-flag"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        (["presets", "x=1"], "unrecognized arguments: x=1"),
        (["sample", str(run), "--n", "3", "k=v"], "unrecognized arguments: k=v"),
    ]
    for argv, fragment in cases:
        _one_error_line(capsys, argv, fragment)


def test_corrupt_checkpoint_exits_2(tmp_path, capsys):
    run = _train(tmp_path, "ring-gan")
    ck = run / "checkpoint.safetensors"
    ck.write_bytes(ck.read_bytes()[:100])
    capsys.readouterr()
    _one_error_line(capsys, ["sample", str(run)], "not a valid safetensors checkpoint")
    _one_error_line(capsys, ["resume", str(run)], "not a valid safetensors checkpoint")


def test_truncated_mnist_file_exits_2(tmp_path, real_data, capsys):
    data = tmp_path / "data" / "mnist"
    data.mkdir(parents=True)
    for f in (real_data / "mnist").iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    bad = data / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:5000])
    _one_error_line(capsys, ["train", "--preset", "mnist-dcgan", "--data-dir", str(tmp_path / "data"),
                             "--out", str(tmp_path), "data.download=false"], "train-images-idx3-ubyte")
    assert not (tmp_path / "runs").exists()


def test_subprocess_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gankit", "train", "train.nope=1"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "unknown key train.nope" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_a_checkpoint_and_resume_finishes(tmp_path, sig):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "gankit", "train", "--preset", "ring-gan", "--out", str(tmp_path),
            "train.run_name=sig", "train.steps=1000000", *TINY_RING, "train.log_every=1"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stats = tmp_path / "sig" / "stats.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (stats.exists() and stats.stat().st_size > 0):
        time.sleep(0.1)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "stopped early" in out
    from gankit.train.checkpoint import load_checkpoint

    _, meta = load_checkpoint(str(tmp_path / "sig" / "checkpoint.safetensors"))
    assert 0 < meta["step"] < 1000000
    assert main(["resume", str(tmp_path / "sig"), f"train.steps={meta['step'] + 2}"]) == 0
    _, meta2 = load_checkpoint(str(tmp_path / "sig" / "checkpoint.safetensors"))
    assert meta2["step"] == meta["step"] + 2


def test_classifier_train_command(tmp_path, capsys):
    out = tmp_path / "digits.safetensors"
    assert main(["classifier", "train", "--data", "digits", "--epochs", "1", "--limit", "256", "--quiet",
                 "--out", str(out), "--threads", "1"]) == 0
    assert out.is_file() and (tmp_path / "digits.json").is_file()
    card = json.loads((tmp_path / "digits.json").read_text())
    assert "digits: test accuracy" in capsys.readouterr().out
    from gankit.config import DataConfig
    from gankit.data import build_dataset
    from gankit.metrics.classifier import load_classifier, predict

    test = build_dataset(DataConfig(name="digits", split="test"))
    labels, _ = predict(load_classifier("digits", str(out)), test.x)
    assert card["test_accuracy"] == pytest.approx(float((labels == test.y.numpy()).mean()))


def test_conditional_run_samples_the_requested_class(tmp_path):
    run_dir = _train(tmp_path, "digits-dcgan", "model.conditional=true")
    out = tmp_path / "c3.npz"
    assert main(["sample", str(run_dir), "--n", "6", "--class", "3", "--out", str(out)]) == 0
    import torch

    from gankit.runs import load_run

    run = load_run(str(run_dir))
    assert run.recipe.num_classes == 10
    z = run.recipe.latent(6, torch.Generator().manual_seed(0))
    three = run.recipe.sample(run.nets(), z, torch.full((6,), 3))
    np.testing.assert_array_equal(np.load(out)["samples"], three.numpy())
    five = run.recipe.sample(run.nets(), z, torch.full((6,), 5))
    assert not torch.equal(three, five)


def test_test_error_prints_the_error_of_the_averaged_or_last_classifier(tmp_path, capsys):
    """`gankit test-error RUN`: the whole test split scored by ssgan's averaged D (default) or its
    last weights (--no-ema), against argmax predictions computed here; bad input exits 2 with one line."""
    run_dir = train(tiny_recipe("digits-dcgan", tmp_path, "ssgan", "train.steps=3", "recipe.classifier_ema=0.9",
                                "optim.lr_d=5e-3", "train.run_name=ss")).run_dir
    run = load_run(run_dir)
    test = build_dataset(dataclasses.replace(run.cfg.data, split="test", limit=0))
    for flags, d in (([], run.ema["D"]), (["--no-ema"], run.recipe.modules["D"])):
        with torch.no_grad():
            wrong = int((d.eval()(test.x).class_logits.argmax(1) != test.y).sum())
        capsys.readouterr()
        assert main(["test-error", run_dir, *flags]) == 0
        assert capsys.readouterr().out.strip() == f"test error {wrong / len(test):.4f} ({wrong} of {len(test)} wrong)"
    gan_dir = train(tiny("digits-dcgan", tmp_path, "train.steps=1", "train.run_name=gan")).run_dir
    for argv, fragment in ((["test-error", gan_dir], "trains no classifier"),
                           (["test-error", run_dir, "--split", "bogus"], "not one of train, test, all"),
                           (["test-error", str(tmp_path / "missing")], "not found")):
        assert main(argv) == 2, argv
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gankit: error:") and fragment in lines[0], (argv, lines)


def test_train_ending_inside_pretraining_warns_in_one_line(tmp_path, capsys):
    cfg = ["recipe.name=triplegan", "model.conditional=true", "recipe.pretrain_steps=3"]
    assert main(["train", "--preset", "mnist-triplegan", "--out", str(tmp_path), "train.steps=3", "data.name=digits",
                 *TINY_DIGITS, *cfg]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "pretrain" in line]
    assert err == ["gankit: warning: train.steps=3 <= recipe.pretrain_steps=3: this run only pre-trains the "
                   "classifier C and never updates G; raise train.steps (or resume with more) to train the GAN"]
