"""``gankit report``: what the page shows of a run, checked against the run's own files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.runs import load_run, train
from tests.helpers import tiny
from tests.report.page_html import decode_image, parse_page


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run = train(tiny("digits-dcgan", out, "train.steps=6", "train.sample_every=2", "train.run_name=digits")).run_dir
    run = Path(run)
    assert main(["report", str(run)]) == 0
    return run


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run = train(tiny("ring-gan", out, "train.steps=4", "train.sample_every=2", "train.run_name=ring")).run_dir
    run = Path(run)
    assert main(["eval", str(run), "--metrics", "mode_coverage,mmd", "--n", "200"]) == 0
    assert main(["report", str(run), "--no-interpolation"]) == 0
    return run


def page(run) -> object:
    return parse_page((run / "report.html").read_text(encoding="utf-8"))


def leaves(name: str, value) -> list[tuple[str, object]]:
    """(row label, value) of every number in a metric value, walked independently of the page code."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in leaves(f"{name} {k}", v)]
    return [(name, value)]


def as_numbers(text: str) -> list[float]:
    return [float(t) for t in text.split()]


def test_report_shows_every_number_of_metrics_json(ring_run):
    entries = json.loads((ring_run / "metrics.json").read_text())["entries"]
    rows = page(ring_run).tables["metrics"][0][1:]  # without the header
    shown = {(label, settings): value for label, settings, value in rows}
    expected = [(label, ", ".join(key.split("|")[1:]), v)
                for key, e in entries.items() for label, v in leaves(e["metric"], e["value"])]
    assert len(expected) == len(rows) and {"mode_coverage reverse_kl", "mmd"} <= {label for label, _, _ in expected}
    for label, settings, value in expected:
        text = shown[(label, settings)]
        want = [float(x) for x in value] if isinstance(value, list) else [float(value)]
        got = as_numbers(text)
        assert len(got) == len(want), (label, text)
        for g, w in zip(got, want):
            assert (math.isinf(g) and g == w) or g == pytest.approx(w, rel=1e-5, abs=1e-12), (label, text, value)


def test_sample_grids_are_embedded_in_step_order_and_decode_to_the_run_files(digits_run):
    frames = [a for a in page(digits_run).images["samples"] if "frame" in (a.get("class") or "")]
    assert [int(a["data-step"]) for a in frames] == [2, 4, 6]
    assert ["hidden" in a for a in frames] == [True, True, False]  # the last step is shown first
    for a in frames:
        on_disk = Image.open(digits_run / "samples" / f"step_{int(a['data-step']):06d}.png")
        np.testing.assert_array_equal(np.asarray(decode_image(a["src"])), np.asarray(on_disk))


def test_every_image_of_the_page_is_embedded_and_decodes(digits_run, ring_run):
    for run in (digits_run, ring_run):
        images = [a for section in page(run).images.values() for a in section]
        assert images
        for a in images:
            assert decode_image(a["src"]).width > 0


def test_toy_run_shows_density_and_mode_scatter(ring_run):
    sections = page(ring_run).images
    on_disk = [np.asarray(Image.open(ring_run / name)) for name in ("density.png", "samples_final.png")]
    shown = [np.asarray(decode_image(a["src"])) for a in sections["toy"]]
    assert len(shown) == 2
    for a, b in zip(shown, on_disk):
        np.testing.assert_array_equal(a, b)
    assert "interpolation" not in sections


def test_config_tables_hold_every_resolved_value(digits_run):
    config = json.loads((digits_run / "config.json").read_text())
    expected = {k: v for k, v in config.items() if not isinstance(v, dict)}
    for section, values in config.items():
        if isinstance(values, dict):
            expected.update({f"{section}.{k}": v for k, v in values.items()})
    shown = {}
    for tab in page(digits_run).tables["config"]:
        prefix = tab[0][0].removesuffix("key")
        shown.update({prefix + key: json.loads(value) for key, value in tab[1:]})
    assert shown == expected


def test_curves_draw_every_logged_loss_at_its_steps(digits_run):
    records = [json.loads(line) for line in (digits_run / "stats.jsonl").read_text().splitlines()]
    charts = page(digits_run).svgs["curves"]
    titles = [[a["text"] for tag, a in chart if tag == "#text"][0] for chart in charts]
    assert "Loss" in titles
    loss = charts[titles.index("Loss")]
    paths = [a["d"] for tag, a in loss if tag == "path"]
    assert len(paths) == 2  # Loss/D and Loss/G
    steps = [r["step"] for r in records if "Loss/D" in r]
    assert all(p.count("M") == 1 and p.count("L") == len(steps) - 1 for p in paths)


def test_interpolation_strip_is_the_runs_latent_paths(digits_run):
    strip = [a for a in page(digits_run).images["interpolation"]][0]
    image = np.asarray(decode_image(strip["src"]))  # 8x8 digits enlarged 8 times, padding 2
    assert image.shape[:2] == (8 * (4 * (8 + 2) + 2), 8 * (8 * (8 + 2) + 2))
    run = load_run(str(digits_run))
    samples = run.interpolate(4, 8, 0)  # (32, 1, 8, 8)
    pixels = image[::8, ::8]  # undo the nearest-neighbour enlargement
    for r in range(4):
        for c in range(8):
            cell = pixels[2 + r * 10: 10 + r * 10, 2 + c * 10: 10 + c * 10]
            want = torch.round((samples[r * 8 + c, 0] + 1) * 127.5).clamp(0, 255).numpy()
            np.testing.assert_allclose(cell.astype(float), want, atol=1)


def fake_run(root, recipe: str):
    """A run directory with a config, one sample grid and a two-frame GIF (no checkpoint)."""
    (root / "samples").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"name": "hand-made", "recipe": {"name": recipe},
                                                  "train": {"steps": 1}}))
    Image.new("L", (12, 36), 200).save(root / "samples" / "step_000001.png")
    frames = [Image.new("L", (10, 10), v) for v in (0, 255)]
    frames[0].save(root / "clip.gif", save_all=True, append_images=frames[1:])
    return root


@pytest.mark.parametrize(("recipe", "rows"), [("pix2pix", "input | output | target"),
                                              ("cyclegan", "input | translation | cycle back")])
def test_translation_runs_name_their_rows_and_gifs_are_embedded(tmp_path, recipe, rows):
    run = fake_run(tmp_path / "run", recipe)
    assert main(["report", str(run)]) == 0
    text = (run / "report.html").read_text()
    assert f"rows of fixed inputs: {rows}" in text
    gifs = page(run).images["videos"]
    gif = decode_image(gifs[0]["src"])
    assert gifs[0]["src"].startswith("data:image/gif") and gif.n_frames == 2


def test_a_pix2pix_run_shows_its_rows_and_no_latent_interpolation(tmp_path, real_data):
    from gankit.presets import load_preset

    cfg = load_preset("edges2mnist-pix2pix", [
        "model.g_width=4", "model.d_width=4", "train.batch_size=8", "train.progress=false", "train.sample_every=1",
        "train.checkpoint_every=0", "train.n_grid=4", "train.ema_bn_batches=1", "train.steps=2", "data.limit=32",
        "data.download=false", f"data.path={real_data}", f"train.out_dir={tmp_path}", "train.run_name=p2p"])
    run = Path(train(cfg).run_dir)
    assert main(["report", str(run)]) == 0
    text = (run / "report.html").read_text()
    parsed = parse_page(text)
    assert "rows of fixed inputs: input | output | target" in text and "interpolation" not in parsed.images
    frames = [a for a in parsed.images["samples"] if "frame" in (a.get("class") or "")]
    assert [int(a["data-step"]) for a in frames] == [1, 2]
    grid = decode_image(frames[-1]["src"])  # 3 rows (input, output, target) of 4 28x28 pairs, enlarged 2 times
    assert grid.size == (2 * (4 * (28 + 2) + 2), 2 * (3 * (28 + 2) + 2))


def test_a_long_run_puts_sixty_evenly_spaced_grids_on_the_slider(tmp_path):
    run = fake_run(tmp_path / "run", "gan")
    for step in range(10, 701, 10):  # 70 grids besides the one at step 1
        Image.new("L", (4, 4), step % 256).save(run / "samples" / f"step_{step:06d}.png")
    assert main(["report", str(run)]) == 0
    steps = [int(a["data-step"]) for a in page(run).images["samples"] if "frame" in (a.get("class") or "")]
    everything = [1, *range(10, 701, 10)]
    # 60 of the 71 grids: positions round(k * 70 / 59), k = 0 .. 59, so the first and the last step are kept
    assert steps == [everything[round(k * 70 / 59)] for k in range(60)]
    assert steps[0] == 1 and steps[-1] == 700 and steps == sorted(set(steps))
