"""Recipes srresnet and srgan (Ledig et al. 2017): the objectives against hand computations with
the shipped classifier's features, MSE pre-training with D idle, the MSE falling, translation
of the training size only (one line; exit 2 from the CLI), exact resume, the presets."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from gankit.config import apply_overrides
from gankit.data.base import PRIMARY_GROUP, Dataset
from gankit.errors import ConfigError, ShapeError
from gankit.experiment import config_from_dict
from gankit.metrics.classifier import load_classifier
from gankit.presets import load_preset, preset_tree
from gankit.recipes.base import StepContext
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.train.test_resume import _assert_identical

TINY = [
    "model.g_width=4", "model.sr_blocks=1", "model.d_width=4", "train.batch_size=4", "train.progress=false",
    "train.sample_every=0", "train.checkpoint_every=0", "train.log_every=1", "train.ema_decay=0.9", "train.n_grid=4",
    "train.ema_bn_batches=2",
]


def tiny_paired(n: int = 24, side: int = 16) -> Dataset:
    """High-resolution ``b``: blurred noise in [-1, 1]; low-resolution ``a``: its 4x4 block means."""
    g = torch.Generator().manual_seed(0)
    b = torch.tanh(2 * F.avg_pool2d(torch.randn(n, 1, side, side, generator=g), 3, 1, 1))
    return Dataset("tiny-sr", groups={PRIMARY_GROUP: {"a": F.avg_pool2d(b, 4), "b": b,
                                                      "y": torch.arange(n) % 10}}, num_classes=10)


def _cfg(tmp_path, preset="mnist-superres4-srgan", *extra):
    tree = preset_tree(preset)
    return config_from_dict(apply_overrides(tree, [*TINY, f"train.out_dir={tmp_path}", *extra]))


def _trainer(tmp_path, *extra, preset="mnist-superres4-srgan"):
    trainer = Trainer(_cfg(tmp_path, preset, *extra), str(tmp_path / "r"), tiny_paired())
    stats: dict[str, list[float]] = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach())))
    return trainer, stats


def _ctx(stats, step):
    return StepContext(step, lambda k, v: stats.__setitem__(k, float(torch.as_tensor(v).detach())), lambda loss: None)


def test_srgan_generator_objective_by_hand(tmp_path):
    """L_G = mean((φ(G(a)) − φ(b))²) + 10⁻³ · softplus(−D(G(a))), φ the shipped MNIST classifier's
    penultimate features in eval mode (catches pixels instead of features, a missing 10⁻³, the
    saturating G loss, or φ in training mode)."""
    trainer, _ = _trainer(tmp_path, "recipe.pretrain_steps=0")
    r, G, D = trainer.recipe, trainer.recipe.modules["G"], trainer.recipe.modules["D"]
    batch = trainer.loader.next()
    phi = load_classifier("mnist").eval()
    stats: dict[str, float] = {}
    losses = []
    r_ctx = StepContext(5, lambda k, v: stats.__setitem__(k, float(torch.as_tensor(v).detach())), losses.append)
    with torch.no_grad():
        r.accumulate_gradients("G", batch, r_ctx)
        fake = G(batch["a"])
        content = ((phi.features(fake) - phi.features(batch["b"])) ** 2).mean()
        expected = content + 1e-3 * F.softplus(-D(fake).logits).mean()
    torch.testing.assert_close(losses[0], expected)
    assert stats["Loss/G/content"] == pytest.approx(float(content), rel=1e-5)
    assert not any(p.requires_grad for p in r.feature_net.parameters())
    assert "feature_net" not in dict(r.modules.named_children())  # φ is neither trained nor saved


def test_srgan_discriminator_objective_by_hand(tmp_path):
    trainer, _ = _trainer(tmp_path, "recipe.pretrain_steps=0")
    r, G, D = trainer.recipe, trainer.recipe.modules["G"], trainer.recipe.modules["D"]
    batch = trainer.loader.next()
    losses = []
    with torch.no_grad():
        r.accumulate_gradients("D", batch, StepContext(0, lambda *_: None, losses.append))
        expected = F.softplus(-D(batch["b"]).logits).mean() + F.softplus(D(G(batch["a"])).logits).mean()
    torch.testing.assert_close(losses[0], expected)


def test_pretraining_trains_g_on_the_mse_with_d_idle(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.pretrain_steps=2")
    d_before = {n: p.detach().clone() for n, p in trainer.recipe.modules["D"].named_parameters()}
    batch = trainer.loader.next()
    losses = []
    with torch.no_grad():
        trainer.recipe.accumulate_gradients("G", batch, StepContext(1, lambda *_: None, losses.append))
        mse = ((trainer.recipe.modules["G"](batch["a"]) - batch["b"]) ** 2).mean()
    torch.testing.assert_close(losses[0], mse)
    trainer.train_step()
    trainer.train_step()
    assert all(torch.equal(p, d_before[n]) for n, p in trainer.recipe.modules["D"].named_parameters())
    assert "Loss/D" not in stats and "Loss/G/adv" not in stats
    trainer.train_step()  # step 2: the adversarial phase starts
    assert "Loss/D" in stats and "Loss/G/adv" in stats


def test_srresnet_mse_falls_and_it_has_no_discriminator(tmp_path):
    trainer, stats = _trainer(tmp_path, "optim.lr_g=3e-3", "model.g_width=8", preset="mnist-superres4-srresnet")
    assert set(trainer.recipe.modules) == {"G"}
    for _ in range(60):
        trainer.train_step()
    mse = stats["Loss/G/mse"]
    assert all(math.isfinite(v) for v in mse)
    assert sum(mse[-5:]) / 5 < 0.6 * sum(mse[:5]) / 5, mse  # 0.26 -> 0.12 here


def test_translate_refuses_a_wrong_size_with_one_line(tmp_path):
    trainer, _ = _trainer(tmp_path)
    r, nets = trainer.recipe, trainer.sampling_nets()
    assert r.translate(nets, torch.rand(2, 1, 4, 4)).shape == (2, 1, 16, 16)
    with pytest.raises(ShapeError, match=r"upscales 1-channel 4x4 images \(x4 to 16x16\), got images of shape "
                                         r"\(1, 8, 8\)") as err:
        r.translate(nets, torch.rand(2, 1, 8, 8))
    assert "\n" not in str(err.value)
    x = r.latent(3, torch.Generator().manual_seed(0))
    assert x.shape == (3, 1, 4, 4) and trainer.generate(x).shape == (3, 1, 16, 16)


def test_refusals(tmp_path):
    with pytest.raises(ConfigError, match="'a'"):
        Trainer(_cfg(tmp_path, "mnist-superres4-srgan", "data.name=digits", "data.resolution=8"), str(tmp_path / "x"))
    with pytest.raises(ConfigError, match="pretrain_steps"):
        _cfg(tmp_path, "mnist-superres4-srgan", "recipe.pretrain_steps=-1")
    with pytest.raises(ConfigError, match="content"):
        _cfg(tmp_path, "mnist-superres4-srgan", "recipe.content=vgg")


@pytest.mark.parametrize("preset", ["mnist-superres4-srgan", "mnist-superres4-srresnet"])
def test_resume_is_exact(tmp_path, preset):
    n, k = 5, 2
    data = tiny_paired()
    extra = ["recipe.pretrain_steps=1"] if "srgan" in preset else []
    full = train(_cfg(tmp_path, preset, f"train.steps={n}", "train.run_name=full", *extra), dataset=data)
    part = train(_cfg(tmp_path, preset, f"train.steps={k}", "train.run_name=part", *extra), dataset=data)
    resumed = resume(part.run_dir, [f"train.steps={n}"], dataset=data)
    assert resumed.steps == full.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


@pytest.mark.parametrize("preset", ["mnist-superres4-srresnet", "mnist-superres4-srgan", "fashion-superres4-srgan"])
def test_presets_parse_and_describe_themselves(preset):
    cfg = load_preset(preset)
    assert cfg.model.arch == "srresnet" and cfg.description and cfg.data.name.endswith("superres4")


def test_cli_translate_of_a_wrong_size_exits_2_without_output(tmp_path, capsys):
    pytest.importorskip("gankit.runs.translation")
    from PIL import Image

    from gankit.cli import main

    run = train(_cfg(tmp_path, "mnist-superres4-srresnet", "train.steps=1", "train.run_name=sr"), dataset=tiny_paired())
    folder = tmp_path / "inputs"
    folder.mkdir()
    Image.new("L", (8, 8), 128).save(folder / "img8.png")  # a x4 run trained on 4x4 inputs cannot take it
    out = tmp_path / "out"
    assert main(["translate", run.run_dir, "--input", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "upscales 1-channel 4x4 images" in err[0], err
    assert not out.exists()
    (folder / "img8.png").unlink()
    Image.new("L", (4, 4), 128).save(folder / "img4.png")
    assert main(["translate", run.run_dir, "--input", str(folder), "--out", str(out)]) == 0
    assert Image.open(out / "img4.png").size == (16, 16)


def test_a_run_shorter_than_its_pretraining_warns(tmp_path):
    from gankit.recipes import PretrainingOnlyWarning

    with pytest.warns(PretrainingOnlyWarning, match="pixel MSE alone"):
        _trainer(tmp_path, "train.steps=3", "recipe.pretrain_steps=5")


def test_sample_grid_shows_each_input_above_its_output(tmp_path):
    trainer, _ = _trainer(tmp_path)
    nets = trainer.sampling_nets()
    a = trainer.recipe.latent(3, torch.Generator().manual_seed(0))  # (3, 1, 4, 4)
    grid, nrow = trainer.recipe.sample_grid(nets, a)
    assert nrow == 3 and grid.shape == (6, 1, 16, 16)
    torch.testing.assert_close(grid[:3], a.repeat_interleave(4, 2).repeat_interleave(4, 3))
    torch.testing.assert_close(grid[3:], trainer.recipe.sample(nets, a))
