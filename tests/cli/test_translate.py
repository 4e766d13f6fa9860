"""`gankit translate` and `gankit eval` on a translation run: outputs per input, rows from a
paired dataset, paired metrics, and bad input refused in one line (exit 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.presets import load_preset
from gankit.runs import load_run, train
from gankit.runs.translation import translate_images, translation_samples

TINY = ["model.g_width=4", "model.d_width=4", "train.batch_size=8", "train.progress=false", "train.sample_every=0",
        "train.checkpoint_every=0", "train.n_grid=4", "train.ema_bn_batches=1", "train.steps=2", "data.limit=32",
        "data.download=false"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, real_data):
    out = tmp_path_factory.mktemp("runs")
    cfg = load_preset("edges2mnist-pix2pix", [*TINY, f"train.out_dir={out}", f"data.path={real_data}",
                                              "train.run_name=p2p"])
    return train(cfg).run_dir


def _folder(path, n: int = 3, size: int = 28, mode: str = "L"):
    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        shape = (size, size) if mode == "L" else (size, size, 3)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path / f"im{i}.png")
    return path


def test_translate_a_folder(tmp_path, run_dir, capsys):
    src = _folder(tmp_path / "in")
    assert main(["translate", run_dir, "--input", str(src), "--out", str(tmp_path / "out")]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["im0.png", "im1.png", "im2.png"]
    img = np.asarray(Image.open(tmp_path / "out" / "im1.png"))
    a = torch.from_numpy(np.asarray(Image.open(src / "im1.png"))).float()[None, None] / 127.5 - 1
    want = translate_images(load_run(run_dir), a)[0, 0]  # (28, 28) in [-1, 1]
    got = torch.from_numpy(img.astype(np.float32)) / 255 * 2 - 1
    torch.testing.assert_close(got, want, atol=1 / 127.5, rtol=0)  # 8-bit rounding


def test_translate_a_dataset_writes_rows(tmp_path, run_dir, real_data):
    out = tmp_path / "out"
    assert main(["translate", run_dir, "--input", "mnist-edges", "--n", "5", "--data-dir", str(real_data),
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png", "2.png", "3.png", "4.png", "rows.png"]
    assert Image.open(out / "rows.png").size[1] > 3 * 28  # three rows: input | output | target


@pytest.mark.parametrize("case", ["size", "rgb", "not-a-translator", "direction", "missing"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, run_dir, capsys, case):
    out = tmp_path / "out"
    run = run_dir
    args = ["--out", str(out)]
    if case == "size":
        args += ["--input", str(_folder(tmp_path / "in", size=32))]
    elif case == "rgb":
        args += ["--input", str(_folder(tmp_path / "in", mode="RGB"))]
    elif case == "missing":
        args += ["--input", str(tmp_path / "nope")]
    else:
        args += ["--input", str(_folder(tmp_path / "in"))]
    if case == "not-a-translator":
        cfg = load_preset("ring-gan", ["data.n_samples=64", "train.batch_size=16", "model.g_width=8",
                                       "model.d_width=8", "train.steps=1",
                                       "train.progress=false", "train.sample_every=0", f"train.out_dir={tmp_path}",
                                       "train.run_name=ring"])
        run = train(cfg).run_dir
    if case == "direction":
        args += ["--direction", "ba"]
    capsys.readouterr()
    assert main(["translate", run, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gankit: error:") and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_sample_on_a_translation_run_writes_rows(run_dir, tmp_path, real_data):
    out = tmp_path / "s.png"
    assert main(["sample", run_dir, "--n", "4", "--data-dir", str(real_data), "--out", str(out)]) == 0
    upscale, pad = 2, 2  # 28 px images are enlarged twice; make_grid pads 2 px
    assert Image.open(out).size == ((4 * (28 + pad) + pad) * upscale, (3 * (28 + pad) + pad) * upscale)


def test_sample_class_on_a_translation_run_is_refused(run_dir, capsys, tmp_path):
    assert main(["sample", run_dir, "--class", "3", "--out", str(tmp_path / "s.png")]) == 2
    assert "\n" not in capsys.readouterr().err.strip()
    assert not (tmp_path / "s.png").exists()


def test_eval_paired_metrics_on_a_translation_run(tmp_path, run_dir, real_data):
    out = tmp_path / "m.json"
    assert main(["eval", run_dir, "--metrics", "psnr,ssim,l1,class_acc,fid", "--features", "classifier", "--n", "16",
                 "--metric-opt", "fid.allow_singular=true", "--data-dir",
                 str(real_data), "--out", str(out)]) == 0
    metrics = {e["metric"]: e for e in json.loads(out.read_text())["entries"].values()}
    run = load_run(run_dir)
    ds = run.dataset("test", str(real_data))
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))[:16].sort().values
    fake = translate_images(run, ds.field("a")[idx])
    target = ds.field("b")[idx]
    assert metrics["l1"]["value"] == pytest.approx(float((fake - target).abs().mean()), rel=1e-5)
    assert 0.0 <= metrics["class_acc"]["value"]["accuracy"] <= 1.0
    assert metrics["psnr"]["value"] > 0
    assert metrics["fid"]["context"]["real"].startswith("mnist")  # the target domain, not the edges


@pytest.fixture(scope="module")
def cyclegan_dir(tmp_path_factory, real_data):
    out = tmp_path_factory.mktemp("cycle")
    cfg = load_preset("mnist2digits-cyclegan", [*TINY, f"train.out_dir={out}", f"data.path={real_data}",
                                                "train.run_name=cyc"])
    return train(cfg).run_dir


def test_eval_on_an_unpaired_run_scores_domain_a_translated_against_domain_b(tmp_path, cyclegan_dir, real_data):
    """Unpaired domains have different sizes and no targets: inputs come from domain a with
    their labels, the real data is domain b as the run saw it, and paired metrics are refused."""
    out = tmp_path / "m.json"
    assert main(["eval", cyclegan_dir, "--metrics", "class_acc,fid", "--features", "classifier", "--n", "16",
                 "--metric-opt", "fid.allow_singular=true", "--data-dir", str(real_data), "--out", str(out)]) == 0
    metrics = {e["metric"]: e for e in json.loads(out.read_text())["entries"].values()}
    assert 0.0 <= metrics["class_acc"]["value"]["accuracy"] <= 1.0
    assert "domain b" in metrics["fid"]["context"]["real"]
    run = load_run(cyclegan_dir)
    ds = run.dataset("test", str(real_data))
    idx = torch.randperm(len(ds.field("a")), generator=torch.Generator().manual_seed(0))[:16].sort().values
    samples = translation_samples(run, 16, 0, data_dir=str(real_data))  # the samples gankit eval scored
    torch.testing.assert_close(samples.x, translate_images(run, ds.field("a")[idx]))
    torch.testing.assert_close(samples.labels, ds.field("y_a")[idx].long())
    assert "targets" not in samples.extra
    assert main(["eval", cyclegan_dir, "--metrics", "psnr", "--n", "16", "--data-dir", str(real_data)]) == 2


def test_translate_ba_reads_domain_b_of_a_dataset(tmp_path, cyclegan_dir, real_data):
    dest = tmp_path / "ba"
    assert main(["translate", cyclegan_dir, "--input", "mnist2digits", "--direction", "ba", "--n", "3",
                 "--data-dir", str(real_data), "--out", str(dest)]) == 0
    run = load_run(cyclegan_dir)
    b = run.dataset("test", str(real_data)).field("b")[:3]  # the digits domain, 28x28
    want = translate_images(run, b, "ba")[0, 0]  # (28, 28) in [-1, 1]
    got = torch.from_numpy(np.asarray(Image.open(sorted(dest.glob("*.png"))[0]), dtype=np.float32)) / 127.5 - 1
    torch.testing.assert_close(got, want, atol=1 / 127.5, rtol=0)
