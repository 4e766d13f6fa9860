"""Recipe cyclegan (Zhu et al. 2017): the G and D objectives against hand computations, every
network trained by its phase, the cycle loss falling, the identity loss keeping a target-domain
input unchanged, translation both ways, exact resume including both image pools, refusals."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from gankit.config import apply_overrides
from gankit.data.unpaired import Domain, unpaired_dataset
from gankit.errors import ConfigError, ShapeError
from gankit.experiment import config_from_dict
from gankit.presets import load_preset, preset_tree
from gankit.recipes.base import StepContext
from gankit.runs import resume, train
from gankit.train.checkpoint import load_checkpoint
from gankit.train.trainer import Trainer
from tests.train.test_resume import _assert_identical

TINY = [
    "model.g_width=4", "model.translator_blocks=1", "model.translator_downsamples=1", "model.d_width=4",
    "model.d_layers=1", "train.batch_size=4", "recipe.pool_size=4", "train.progress=false", "train.sample_every=0",
    "train.checkpoint_every=0", "train.log_every=1", "train.ema_decay=0.9", "optim.lr_decay=constant", "train.n_grid=4",
]


def _images(n: int, seed: int, side: int = 8, channels: int = 1) -> torch.Tensor:
    """Smooth random images (N, C, side, side) in [-1, 1]: blurred noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, side, side, generator=g)
    x = torch.nn.functional.avg_pool2d(x, 3, 1, 1)
    return torch.tanh(2 * x)


def tiny_unpaired(n_a: int = 24, n_b: int = 20, cb: int = 1):
    """Domain A: blurred noise; domain B: other blurred noise, negated and brightened."""
    a = _images(n_a, 0)
    b = (-0.5 * _images(n_b, 1, channels=cb) + 0.4).clamp(-1, 1)
    return unpaired_dataset("tiny-unpaired", Domain("A", a), Domain("B", b))


def _cfg(tmp_path, *extra):
    tree = preset_tree("mnist2digits-cyclegan")
    return config_from_dict(apply_overrides(tree, [*TINY, f"train.out_dir={tmp_path}", *extra]))


def _trainer(tmp_path, *extra, data=None):
    trainer = Trainer(_cfg(tmp_path, *extra), str(tmp_path / "r"), data or tiny_unpaired())
    stats: dict[str, list[float]] = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach())))
    return trainer, stats


def _ctx(stats, step=0):
    return StepContext(step, lambda k, v: stats.__setitem__(k, float(torch.as_tensor(v).detach())), lambda loss: None)


def test_generator_objective_by_hand(tmp_path):
    """L_G = ½(D_B(G_AB a) − 1)² + ½(D_A(G_BA b) − 1)² + λ(|G_BA G_AB a − a| + |G_AB G_BA b − b|)
    + 0.5λ(|G_AB b − b| + |G_BA a − a|), written out with plain tensor ops (catches D_A and D_B
    swapped, a missing direction, identity weighted by 0.5 instead of 0.5·λ, or G_AB and G_BA
    swapped in a cycle)."""
    trainer, _ = _trainer(tmp_path)
    r, m = trainer.recipe, trainer.recipe.modules
    batch = trainer.loader.next()
    a, b = batch["a"], batch["b"]
    stats: dict[str, float] = {}
    with torch.no_grad():
        loss = r.generator_loss(a, b, _ctx(stats))
        lam = 10.0
        expected = (
            0.5 * ((m["D_B"](m["G_AB"](a)).logits - 1) ** 2).mean()
            + 0.5 * ((m["D_A"](m["G_BA"](b)).logits - 1) ** 2).mean()
            + lam * ((m["G_BA"](m["G_AB"](a)) - a).abs().mean() + (m["G_AB"](m["G_BA"](b)) - b).abs().mean())
            + 0.5 * lam * ((m["G_AB"](b) - b).abs().mean() + (m["G_BA"](a) - a).abs().mean())
        )
    torch.testing.assert_close(loss, expected)
    assert stats["Loss/G"] == pytest.approx(float(expected), rel=1e-6)
    with torch.no_grad():  # the cycle-free ablation is the adversarial part alone
        ablation = _trainer(tmp_path, "recipe.cycle_weight=0")[0]
        ablation.recipe.modules.load_state_dict(m.state_dict())
        adv_only = ablation.recipe.generator_loss(a, b, _ctx({}))
    torch.testing.assert_close(adv_only, 0.5 * ((m["D_B"](m["G_AB"](a)).logits - 1) ** 2).mean()
                               + 0.5 * ((m["D_A"](m["G_BA"](b)).logits - 1) ** 2).mean())


def test_discriminator_objective_by_hand(tmp_path):
    """With no pool, L_D = Σ_domains ½(D(real) − 1)² + ½ D(fake)², D_A on real a vs G_BA(b) and
    D_B on real b vs G_AB(a), the fakes of the last G phase (catches D_A judging G_AB's output,
    real and fake swapped, or fresh fakes instead of the G phase's)."""
    trainer, _ = _trainer(tmp_path, "recipe.pool_size=0")
    r, m = trainer.recipe, trainer.recipe.modules
    first, second = trainer.loader.next(), trainer.loader.next()
    with torch.no_grad():
        r.generator_loss(first["a"], first["b"], _ctx({}))
        fake_a, fake_b = m["G_BA"](first["b"]), m["G_AB"](first["a"])
        loss = r.discriminator_loss(second["a"], second["b"], _ctx({}))
        expected = sum(
            0.5 * ((D(real).logits - 1) ** 2).mean() + 0.5 * (D(fake).logits ** 2).mean()
            for D, real, fake in ((m["D_A"], second["a"], fake_a), (m["D_B"], second["b"], fake_b))
        )
    torch.testing.assert_close(loss, expected)


def test_one_step_trains_every_network_and_logs(tmp_path):
    trainer, stats = _trainer(tmp_path)
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"G_AB", "G_BA", "D_A", "D_B"}
    assert {"Loss/G", "Loss/G/adv", "Loss/G/cycle_A", "Loss/G/cycle_B", "Loss/G/identity", "Loss/D", "Loss/D/A",
            "Loss/D/B"} <= set(stats)
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    assert set(trainer.ema) == {"G_AB", "G_BA"}
    x = trainer.recipe.latent(3, torch.Generator().manual_seed(0))  # domain-A training images
    assert x.shape == (3, 1, 8, 8) and trainer.generate(x).shape == (3, 1, 8, 8)


def _train_steps(trainer, n):
    for _ in range(n):
        trainer.train_step()


def test_cycle_loss_falls(tmp_path):
    trainer, stats = _trainer(tmp_path, "optim.lr_g=2e-3", "optim.lr_d=2e-3")
    _train_steps(trainer, 60)
    cycle = [x + y for x, y in zip(stats["Loss/G/cycle_A"], stats["Loss/G/cycle_B"])]
    first, last = sum(cycle[:5]) / 5, sum(cycle[-5:]) / 5
    assert last < 0.7 * first, (first, last)  # 0.74 -> 0.42 here


def _identity_gap(trainer) -> float:
    b = trainer.dataset.groups["b"]["b"]
    with torch.no_grad():
        return float((trainer.recipe.modules["G_AB"](b) - b).abs().mean())


def test_identity_loss_keeps_a_target_domain_input_unchanged(tmp_path):
    """G_AB given an image already of domain B: after training with the identity loss it changes
    it far less than the same run without (catches an identity term on the wrong generator or
    fed the source domain)."""
    gaps = {}
    for weight in ("0.5", "0"):
        trainer, _ = _trainer(tmp_path, f"recipe.identity_weight={weight}", "optim.lr_g=2e-3", "optim.lr_d=2e-3")
        _train_steps(trainer, 60)
        gaps[weight] = _identity_gap(trainer)
    assert gaps["0.5"] < 0.2 and gaps["0.5"] < 0.5 * gaps["0"], gaps  # 0.13 vs 0.30 here


def test_translate_either_direction_and_refuse_wrong_shapes(tmp_path):
    trainer, _ = _trainer(tmp_path, "recipe.identity_weight=0", data=tiny_unpaired(cb=3))
    r, nets = trainer.recipe, trainer.sampling_nets()
    a, b = torch.rand(2, 1, 8, 8), torch.rand(2, 3, 8, 8)
    assert r.translate(nets, a, "ab").shape == (2, 3, 8, 8)
    assert r.translate(nets, b, "ba").shape == (2, 1, 8, 8)
    torch.testing.assert_close(r.translate(nets, a), nets["G_AB"](a))
    with pytest.raises(ShapeError, match="direction ba translates images of shape"):
        r.translate(nets, a, "ba")
    with pytest.raises(ConfigError, match="'ab' or 'ba'"):
        r.translate(nets, a, "xy")


def test_refusals(tmp_path):
    with pytest.raises(ConfigError, match="identity loss"):
        _trainer(tmp_path, data=tiny_unpaired(cb=3))
    with pytest.raises(ConfigError, match="'a'"):
        Trainer(_cfg(tmp_path, "data.name=digits", "data.resolution=8", "data.limit=64"), str(tmp_path / "x"))
    with pytest.raises(ConfigError, match="pool_size"):
        _cfg(tmp_path, "recipe.pool_size=-1")


def test_resume_is_exact_including_both_image_pools(tmp_path):
    n, k = 6, 3
    data = tiny_unpaired()
    full = train(_cfg(tmp_path, f"train.steps={n}", "train.run_name=full"), dataset=data)
    part = train(_cfg(tmp_path, f"train.steps={k}", "train.run_name=part"), dataset=data)
    resumed = resume(part.run_dir, [f"train.steps={n}"], dataset=data)
    assert resumed.steps == full.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)
    tensors, meta = load_checkpoint(f"{full.run_dir}/checkpoint.safetensors")
    assert {"recipe/pool_A/images", "recipe/pool_A/rng", "recipe/pool_B/images", "recipe/pool_B/rng"} <= set(tensors)
    assert meta["recipe_state"] == {"pools": {"A": {"count": 4}, "B": {"count": 4}}}


def test_resume_without_the_pool_state_would_differ(tmp_path):
    """The pools matter: a resumed run whose pools restart empty ends elsewhere (so the exact
    resume above is a real check of the saved pool state)."""
    data = tiny_unpaired()
    full = train(_cfg(tmp_path, "train.steps=6", "train.run_name=full"), dataset=data)
    part = Trainer(_cfg(tmp_path, "train.steps=3", "train.run_name=p"), str(tmp_path / "p"), data)
    part.fit()
    resumed = Trainer(_cfg(tmp_path, "train.steps=6", "train.run_name=p"), str(tmp_path / "p"), data)
    resumed.load_checkpoint()
    for pool in resumed.recipe.pools.values():
        pool.count, pool.images = 0, None  # forget the history
    resumed.fit()
    a, _ = load_checkpoint(f"{full.run_dir}/checkpoint.safetensors")
    b, _ = load_checkpoint(str(tmp_path / "p" / "checkpoint.safetensors"))
    assert not torch.equal(a["modules/D_A/head.weight"], b["modules/D_A/head.weight"])


def test_preset_parses_and_describes_itself():
    cfg = load_preset("mnist2digits-cyclegan")
    assert cfg.recipe.name == "cyclegan" and cfg.model.arch == "resnet-translator" and cfg.description


def test_unet_option_has_single_image_discriminators(tmp_path):
    """model.arch=unet gives U-Net translators; the Ds still judge one image of their domain
    (the U-Net family's own D reads (a, b) pairs, which unpaired data does not have)."""
    tree = {"data": {"name": "mnist2digits"}, "recipe": {"name": "cyclegan", "pool_size": 4},
            "model": {"arch": "unet", "g_width": 4, "d_width": 4, "d_arch": "patchgan", "d_layers": 1},
            "train": {"batch_size": 4, "progress": False, "sample_every": 0, "checkpoint_every": 0,
                      "out_dir": str(tmp_path)}}
    trainer = Trainer(config_from_dict(tree), str(tmp_path / "u"), tiny_unpaired())
    m = trainer.recipe.modules
    assert type(m["G_AB"]).__name__ == "UNetGenerator" and m["D_A"].channels == m["D_B"].channels == 1
    trainer.train_step()
    assert trainer.generate(trainer.grid_z[:2]).shape == (2, 1, 8, 8)


def test_sample_grid_rows_are_input_translation_and_cycle(tmp_path):
    trainer, _ = _trainer(tmp_path)
    nets = trainer.sampling_nets()
    a = trainer.recipe.latent(5, torch.Generator().manual_seed(0))
    grid, nrow = trainer.recipe.sample_grid(nets, a)
    assert nrow == 5 and grid.shape == (15, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(grid[:5], a)
        torch.testing.assert_close(grid[5:10], nets["G_AB"](a))
        torch.testing.assert_close(grid[10:], nets["G_BA"](nets["G_AB"](a)))


def test_cli_translates_either_direction(tmp_path, capsys):
    pytest.importorskip("gankit.runs.translation")
    from PIL import Image

    from gankit.cli import main

    run = train(_cfg(tmp_path, "train.steps=1", "train.run_name=cg"), dataset=tiny_unpaired())
    folder = tmp_path / "inputs"
    folder.mkdir()
    Image.new("L", (8, 8), 200).save(folder / "x.png")
    for direction in ("ab", "ba"):
        out = tmp_path / f"out-{direction}"
        assert main(["translate", run.run_dir, "--input", str(folder), "--out", str(out), "--direction",
                     direction]) == 0
        assert Image.open(out / "x.png").size == (8, 8)
    assert main(["translate", run.run_dir, "--input", str(folder), "--out", str(tmp_path / "no"),
                 "--direction", "xy"]) == 2
    assert "direction" in capsys.readouterr().err and not (tmp_path / "no").exists()
