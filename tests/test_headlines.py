"""The headline of each study is computed from its records: tiny records files written here, the
expected text worked out by hand (mean ± sample std / √n)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from gankit.presets import preset_tree

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def headlines():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen._benchmark_module("headlines")


def write_records(results: Path, study: str, records: list[dict]) -> Path:
    (results / study).mkdir(parents=True)
    (results / study / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return results


def test_semi_supervised_averages_only_the_headline_runs(headlines, tmp_path):
    def run(preset, digest, overrides, seed, error, labels=100, budget=3600.0):
        return {"preset": preset, "preset_sha256": digest, "overrides": overrides, "labels": labels, "seed": seed,
                "cpu_budget_s": budget, "test_error": error}

    relu = ["model.mlp_d_activation=relu"]
    results = write_records(tmp_path, "semi_supervised", [
        run("mnist-ssgan", "bad0aef4e569", relu, 0, 0.02),
        run("mnist-ssgan", "bad0aef4e569", [], 0, 0.5),  # LeakyReLU: another configuration
        run("mnist-ssgan", "bad0aef4e569", relu, 1, 0.025),
        run("mnist-ssgan", "bad0aef4e569", relu, 0, 0.3, labels=1000),
        run("mnist-ssgan", "bad0aef4e569", relu, 2, 0.036),
        run("mnist-triplegan", "89d5eff598ac", [], 0, 0.04),
        run("mnist-triplegan", "89d5eff598ac", ["recipe.pretrain_steps=20000"], 0, 0.07),
        run("mnist-triplegan", "89d5eff598ac", [], 1, 0.05),
    ])
    h = headlines.semi_supervised(results)
    # K+1: 2.0, 2.5, 3.6 %: mean 2.7, s² = (0.49 + 0.04 + 0.81) / 2 = 0.67, s.e. = √(0.67 / 3) = 0.4726
    # Triple-GAN: 4.0, 5.0 %: mean 4.5, s² = 0.5, s.e. = √(0.5 / 2) = 0.5
    assert h.result == "K+1 GAN test error 2.7 ± 0.47 %; Triple-GAN 4.5 ± 0.5 %"
    assert h.scope == "100 labels, 3 / 2 seeds, 60 CPU-min"
    assert h.short == "K+1 GAN 2.7 ± 0.47 % (3 seeds)"


def test_stacked_mnist_headline_reads_the_lazy_r1_runs(headlines, tmp_path):
    lazy_r1 = ["model.g_width=96", "model.d_width=128", "train.amp=true", "recipe.r1_gamma=1.0", "recipe.r1_every=4"]

    def run(method, budget, overrides, seed, modes, kl):
        return {"method": method, "cpu_minutes_budget": budget, "overrides": overrides, "seed": seed,
                "modes": modes, "kl": kl}

    results = write_records(tmp_path, "stacked_mnist", [
        run("pacdcgan2", 60, lazy_r1, 1, 998, 0.04),
        run("pacdcgan2", 20, lazy_r1, 0, 900, 0.9),  # a 20-minute run
        run("dcgan", 60, [], 0, 1000, 0.15),
        run("pacdcgan2", 60, lazy_r1, 0, 1000, 0.05),
    ])
    h = headlines.stacked_mnist(results)
    # modes 1000, 998: mean 999, s.e. √(2 / 1 / 2) = 1; KL 0.05, 0.04: mean 0.045, s.e. √(0.00005 / 2) = 0.005
    assert h.result == "999 ± 1 / 1,000 modes, KL 0.045 ± 0.005"
    assert h.scope == "`stacked-mnist-pacgan`, 2 seeds, 60 CPU-min"


def test_target_2d_headline_takes_the_shipped_step_count(headlines, tmp_path):
    ring_steps, grid_steps = (preset_tree(p)["train"]["steps"] for p in ("ring-sharp", "grid-sharp"))

    def run(preset, data, of, steps, seed, modes, hq, rkl, cpu):
        return {"preset": preset, "overrides": [], "dataset": data, "of": of, "steps": steps, "seed": seed,
                "modes": modes, "high_quality": hq, "reverse_kl": rkl, "cpu_s": cpu}

    results = write_records(tmp_path, "target_2d", [
        run("ring-sharp", "ring", 8, ring_steps + 1000, 0, 1, 0.1, 2.0, 5.0),  # not the shipped preset
        run("ring-sharp", "ring", 8, ring_steps, 0, 8, 0.98, 0.01, 40.0),
        run("ring-sharp", "ring", 8, ring_steps, 1, 7, 0.96, 0.03, 50.0),
        run("grid-sharp", "grid", 25, grid_steps, 0, 25, 0.9, 0.1, 100.0),
    ])
    h = headlines.target_2d(results)
    # ring: modes (8 + 7) / 2 = 7.5, HQ 97.0 %, reverse KL 0.02, CPU 45 s; grid: its one run
    assert h.result == ("ring 7.5/8 modes, 97.0 % high quality, reverse KL 0.02 (45 CPU-s); "
                        "grid 25/25, 90.0 %, 0.1 (100 CPU-s)")
    assert h.scope == "`ring-sharp` / `grid-sharp`, 2 / 1 seeds"


def test_mode_collapse_headline_needs_every_seed_of_several(headlines, tmp_path):
    def run(method, seed, modes, steps=8000, data="grid"):
        return {"method": method, "dataset": data, "seed": seed, "steps": steps, "modes": modes,
                "of": 25 if data == "grid" else 8}

    results = write_records(tmp_path, "mode_collapse_2d", [
        run("madgan", 0, 25), run("madgan", 1, 25),
        run("minimax", 0, 25, steps=2000), run("minimax", 1, 25, steps=2000), run("minimax", 2, 25, steps=2000),
        run("ns", 0, 25), run("ns", 1, 24),  # misses a mode on one seed
        run("fgan-js", 0, 25),  # one seed is not enough
        run("lsgan", 0, 8, data="ring"), run("lsgan", 1, 8, data="ring"),  # the ring does not count
    ])
    h = headlines.mode_collapse_2d(results)
    assert h.short == "only minimax and MAD-GAN cover all 25 grid modes on every seed (3 / 2 seeds each)"


def test_a_missing_headline_run_is_refused_by_name(headlines, tmp_path):
    results = write_records(tmp_path, "semi_supervised", [
        {"preset": "mnist-ssgan", "preset_sha256": "bad0aef4e569", "overrides": ["model.mlp_d_activation=relu"],
         "labels": 100, "seed": 0, "cpu_budget_s": 3600.0, "test_error": 0.02}])
    with pytest.raises(headlines.Refused, match="no record of mnist-triplegan"):
        headlines.semi_supervised(results)


def test_pix2pix_headline_reads_the_ablation_at_its_step_count(headlines, tmp_path):
    def run(task, variant, seed, acc, fid, steps=1500, overrides=()):
        return {"task": task, "variant": variant, "seed": seed, "steps": steps, "overrides": list(overrides),
                "class_acc": acc, "fid_classifier": fid}

    results = write_records(tmp_path, "translation/pix2pix", [
        run("fashion", "l1", 0, 0.70, 10.0), run("fashion", "l1", 1, 0.80, 12.0),
        run("fashion", "l1", 2, 0.10, 99.0, steps=600),  # a shorter run: another configuration
        run("fashion", "cgan", 0, 0.80, 5.0),
        run("fashion", "l1+cgan", 0, 0.85, 4.0), run("fashion", "l1+cgan", 1, 0.87, 4.0),
        run("fashion", "l1+cgan", 2, 0.20, 4.0, overrides=["model.g_width=8"]),  # overridden: not the preset
        run("inpaint", "l1", 0, 0.8, 8.0), run("inpaint", "l1", 1, 0.8, 9.0),
        run("inpaint", "l1+cgan", 0, 0.8, 4.0),
    ])
    h = headlines.pix2pix(results)
    # fashion L1: 70, 80 % -> 75 ± √(50 / 2) = 5; cGAN 80 (one seed); L1 + cGAN 85, 87 -> 86 ± √(2 / 2) = 1
    # inpainting FID: L1 8, 9 -> 8.5 ± √(0.5 / 2) = 0.5; L1 + cGAN 4
    assert h.result == ("edges → Fashion-MNIST classifier score L1 75 ± 5 %, cGAN 80 %, L1 + cGAN 86 ± 1 %; "
                        "inpainting FID 4 (L1 + cGAN) vs 8.5 ± 0.5 (L1)")
    assert h.scope == "2 / 1 seeds, 1,500 steps"
    assert h.short == "classifier score L1 75 ± 5 % → L1 + cGAN 86 ± 1 %"
