"""pix2pix and PAN: hand-computed losses, ablation switches, a behaviour test (L1 falls), exact
resume, sampling pairs and the translate capability."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch
import torch.nn.functional as F

from gankit.data.base import Dataset
from gankit.errors import ConfigError, ShapeError
from gankit.nets import model_config
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.recipes.base import DataInfo, StepContext
from gankit.runs import resume, train
from gankit.train.checkpoint import load_checkpoint
from gankit.train.loader import Batch
from gankit.viz.rows import translation_rows

N, S = 32, 8

TINY = [
    "model.g_width=4",
    "model.d_width=4",
    "train.batch_size=8",
    "train.progress=false",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.log_every=2",
    "train.n_grid=4",
    "train.ema_bn_batches=2",
]


def paired(n: int = N, cb: int = 1) -> Dataset:
    """Smooth inputs ``a`` (2x2 noise upsampled to 8x8) and targets ``b = -a`` (repeated to ``cb``
    channels), labels ``y``."""
    g = torch.Generator().manual_seed(0)
    a = F.interpolate(torch.rand(n, 1, 2, 2, generator=g) * 2 - 1, size=(S, S), mode="bilinear")  # (n, 1, S, S)
    fields = {"a": a, "b": (-a).repeat(1, cb, 1, 1), "y": torch.arange(n) % 10}
    return Dataset("paired-test", groups={"main": fields}, num_classes=10)


def config(tmp_path, preset: str = "edges2fashion-pix2pix", *extra: str):
    return load_preset(preset, [*TINY, f"train.out_dir={tmp_path}", *extra])


def recipe_for(cfg, ds: Dataset):
    info = DataInfo(ds.sample_shape, ds.num_classes, len(ds), ds, fields=ds.field_specs())
    torch.manual_seed(0)
    return RECIPES.get(cfg.recipe.name)(cfg, info)


class Recorder:
    def __init__(self) -> None:
        self.reports: dict[str, torch.Tensor] = {}
        self.losses: list[torch.Tensor] = []

    def ctx(self, step: int = 0) -> StepContext:
        return StepContext(step, lambda k, v: self.reports.__setitem__(k, v), self.losses.append)


def _batch(ds: Dataset, n: int = 8) -> Batch:
    return Batch(fields={"a": ds.field("a")[:n], "b": ds.field("b")[:n]})


def _bce_real(logits: torch.Tensor) -> torch.Tensor:
    return -torch.log(torch.sigmoid(logits)).mean()  # -log D, written apart from gankit's softplus form


def _bce_fake(logits: torch.Tensor) -> torch.Tensor:
    return -torch.log(1 - torch.sigmoid(logits)).mean()


@pytest.mark.parametrize("adv_weight, l1_weight, pixel_loss", [(1.0, 100.0, "l1"), (0.5, 0.0, "l1"), (0.0, 7.0, "l1"),
                                                            (0.0, 7.0, "mse"), (1.0, 3.0, "mse")])
def test_pix2pix_losses_by_hand(tmp_path, adv_weight, l1_weight, pixel_loss):
    """L_G = w·(−log D(a, G(a))) + λ·mean|b − G(a)| (or λ·mean(b − G(a))² for the MSE pixel loss) and
    L_D = ½(−log D(a, b) − log(1 − D(a, G(a)))) recomputed by hand (catches a D that does not see a,
    a missing λ or ½, flipped signs, the wrong pixel loss)."""
    cfg = config(tmp_path, "edges2fashion-pix2pix", "model.unet_dropout=0", f"recipe.adv_weight={adv_weight}",
                 f"recipe.l1_weight={l1_weight}", f"recipe.pixel_loss={pixel_loss}")
    ds = paired()
    r = recipe_for(cfg, ds)
    batch = _batch(ds)
    a, b = batch["a"], batch["b"]
    G, D = r.modules["G"], r.modules["D"]
    rec = Recorder()
    if adv_weight > 0:
        r.accumulate_gradients("D", batch, rec.ctx())
    else:
        assert [p.name for p in r.phases()] == ["G"] and set(r.optimizers()) == {"G"}  # L1 only: D untrained
    r.accumulate_gradients("G", batch, rec.ctx())
    with torch.no_grad():
        fake = G(a)  # (8, 1, 8, 8); no dropout, BatchNorm over the same batch: the recipe's G(a)
        fake_d = D(torch.cat([a, fake], 1)).logits  # (8, 1, 2, 2) patch logits
        real_d = D(torch.cat([a, b], 1)).logits
    residual = b - fake
    pixel = residual.abs().mean() if pixel_loss == "l1" else (residual * residual).mean()
    want_g = l1_weight * pixel + adv_weight * _bce_real(fake_d)
    torch.testing.assert_close(rec.reports["Loss/G"], want_g)
    assert len(rec.losses) == (2 if adv_weight > 0 else 1)
    if adv_weight > 0:
        torch.testing.assert_close(rec.reports["Loss/D"], 0.5 * (_bce_real(real_d) + _bce_fake(fake_d)))


def test_bad_configs_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="both 0"):
        config(tmp_path, "edges2fashion-pix2pix", "recipe.adv_weight=0", "recipe.l1_weight=0")
    with pytest.raises(ConfigError, match="recipe.pixel_loss must be one of l1, mse"):
        config(tmp_path, "edges2fashion-pix2pix", "recipe.pixel_loss=huber")
    with pytest.raises(ConfigError, match="model.arch=unet"):
        recipe_for(dataclasses.replace(config(tmp_path), model=model_config(arch="dcgan")), paired())
    with pytest.raises(ConfigError, match="field 'a'"):
        ds = Dataset("x-only", torch.zeros(4, 1, S, S))
        recipe_for(config(tmp_path), ds)


def _l1_curve(run_dir) -> list[float]:
    import json

    with open(f"{run_dir}/stats.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["Loss/G/l1"] for line in fh if line.strip()]


@pytest.mark.parametrize("preset", ["edges2fashion-pix2pix", "edges2fashion-pan"])
def test_l1_falls(tmp_path, preset):
    """Over 30 steps on a fixed 8x8 task the L1 distance to the target falls by a third (catches a G
    that never gets the pixel/perceptual gradient, or a sign error in it)."""
    result = train(config(tmp_path, preset, "train.steps=30", "train.ema_decay=0", "optim.lr_g=2e-3"), dataset=paired())
    curve = _l1_curve(result.run_dir)
    assert sum(curve[-3:]) / 3 < 0.67 * sum(curve[:3]) / 3, curve


@pytest.mark.parametrize("preset, extra", [
    ("edges2fashion-pix2pix", ["recipe.n_critic=2", "train.ema_decay=0.9"]),
    ("edges2fashion-pan", ["model.d_field=pixel", "train.ema_decay=0.9"]),
])
def test_resume_is_exact(tmp_path, preset, extra):
    n, k = 7, 3
    ds = paired()
    full = train(config(tmp_path, preset, f"train.steps={n}", "train.run_name=full", *extra), dataset=ds)
    part = train(config(tmp_path, preset, f"train.steps={k}", "train.run_name=part", *extra), dataset=ds)
    resumed = resume(part.run_dir, [f"train.steps={n}"], dataset=ds)
    ta, ma = load_checkpoint(f"{full.run_dir}/checkpoint.safetensors")
    tb, mb = load_checkpoint(f"{resumed.run_dir}/checkpoint.safetensors")
    assert ma["step"] == mb["step"] == n and sorted(ta) == sorted(tb)
    assert {"modules", "ema", "optim", "rng"} <= {key.split("/")[0] for key in ta}
    for key in ta:
        torch.testing.assert_close(ta[key], tb[key], rtol=0, atol=0, msg=f"{key} differs")
    assert ma["loader"] == mb["loader"] and ma["rng"] == mb["rng"]


def test_latent_is_pairs_and_generate_translates_them(tmp_path):
    ds = paired(cb=3)
    r = recipe_for(config(tmp_path), ds)
    z = r.latent(5, torch.Generator().manual_seed(2))
    idx = torch.randint(N, (5,), generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(z, torch.cat([ds.field("a")[idx], ds.field("b")[idx]], 1))
    nets = dict(r.modules.items())
    out = r.sample(nets, z)
    assert out.shape == (5, 3, S, S)
    torch.testing.assert_close(out, r.sample(nets, z[:, :1]))  # a pair or its input alone
    rows = r.sample_rows(nets, z)
    assert rows.shape == (15, 3, S, S)
    torch.testing.assert_close(rows[:5], z[:, :1].expand(-1, 3, -1, -1))  # input | output | target
    torch.testing.assert_close(rows[5:10], out)
    torch.testing.assert_close(rows[10:], z[:, 1:])
    with pytest.raises(ShapeError, match=r"\(1, 8, 8\)"):
        r.translate(nets, torch.zeros(2, 3, S, S))
    with pytest.raises(ShapeError, match="rows"):
        translation_rows(torch.zeros(1, 2, S, S), out[:1], out[:1])


def test_pan_losses_by_hand(tmp_path):
    """L_D = ℓ_D + max(0, m − P) and L_G = ℓ_G + P with P = Σ λ_j mean|H_j(b) − H_j(G(a))| over the
    image and D's first hidden map, recomputed here (catches a margin on the wrong side, a
    perceptual term missing from G or D, weights applied to the wrong layers)."""
    weights = (2.0, 3.0)
    for margin in (0.0, 50.0):  # inactive, then active hinge
        cfg = config(tmp_path, "edges2fashion-pan", "model.unet_dropout=0", "recipe.layer_weights=[2.0, 3.0]",
                     f"recipe.margin={margin}")
        ds = paired()
        r = recipe_for(cfg, ds)
        batch = _batch(ds)
        a, b = batch["a"], batch["b"]
        rec = Recorder()
        r.accumulate_gradients("D", batch, rec.ctx())
        r.accumulate_gradients("G", batch, rec.ctx())
        with torch.no_grad():
            fake = r.modules["G"](a)
            real_out = r.modules["D"](torch.cat([a, b], 1))
            fake_out = r.modules["D"](torch.cat([a, fake], 1))
        h0_real, h0_fake = real_out.extra["h0"], fake_out.extra["h0"]  # (8, 4, 4, 4): D's first hidden map
        p = weights[0] * (b - fake).abs().mean() + weights[1] * (h0_real - h0_fake).abs().mean()
        want_d = _bce_real(real_out.logits) + _bce_fake(fake_out.logits) + max(0.0, margin - float(p))
        torch.testing.assert_close(rec.reports["Loss/D"], torch.as_tensor(want_d, dtype=torch.float32))
        torch.testing.assert_close(rec.reports["Loss/G"], _bce_real(fake_out.logits) + p)
    with pytest.raises(ConfigError, match="hidden layers"):
        recipe_for(config(tmp_path, "edges2fashion-pan", "recipe.layer_weights=[1.0, 1.0, 1.0, 1.0]"), ds)


@pytest.mark.parametrize("preset", ["edges2fashion-pix2pix", "edges2mnist-pix2pix", "mnist-inpaint-pix2pix",
                                    "edges2fashion-pan"])
def test_presets_train_on_their_data(tmp_path, real_data, preset):
    """Each preset's own 28x28 data and networks (narrowed) for two steps, with a sample grid."""
    cfg = config(tmp_path, preset, "train.steps=2", f"data.path={real_data}", "data.download=false",
                 "data.limit=64", "train.sample_every=2")
    result = train(cfg)
    assert result.steps == 2
    assert os.path.exists(os.path.join(result.run_dir, "samples", "step_000002.png"))


def test_trainer_grids_are_input_output_target_rows(tmp_path):
    """The run's grid is three rows of n_grid images: the fixed pairs' inputs, outputs, targets."""
    from PIL import Image

    ds = paired()
    result = train(config(tmp_path, "edges2fashion-pix2pix", "train.steps=1", "train.n_grid=4"), dataset=ds)
    img = Image.open(os.path.join(result.run_dir, "samples_final.png"))
    upscale, pad = 64 // S, 2  # make_grid pads 2 px, then the grid is enlarged 8 times
    assert img.size == ((4 * (S + pad) + pad) * upscale, (3 * (S + pad) + pad) * upscale)  # 4 columns, 3 rows
