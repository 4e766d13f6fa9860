"""Recipe acgan (Odena et al. 2017): smoke, the losses of one step by hand (K-way head and with
the fake class), the class loss on real data falling, exact resume, and the mnist-acgan preset."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical

COND = ["model.conditional=true"]


def _trainer(tmp_path, *extra):
    trainer = Trainer(tiny_recipe("digits-dcgan", tmp_path, "acgan", *COND, *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _record(trainer):
    """Every D output and every batch the loader hands out, in order."""
    outs, batches = [], []
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: outs.append(out))
    next_batch = trainer.loader.next
    trainer.loader.next = lambda: batches.append(next_batch()) or batches[-1]
    return outs, batches


def test_one_step_smoke(tmp_path):
    assert "acgan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path)
    D = trainer.recipe.modules["D"]
    assert D.projection is None and D.aux.classes.num_classes == 10
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert trainer.step == 1
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"G", "D"}
    assert any(n.startswith("D.aux.classes") and not torch.equal(p, before[n])
               for n, p in trainer.recipe.modules.named_parameters())


def test_losses_of_one_step_by_hand(tmp_path):
    wr, wf, wg = 0.7, 0.3, 1.5
    trainer, stats = _trainer(tmp_path, f"recipe.cls_real_weight={wr}", f"recipe.cls_fake_weight={wf}",
                              f"recipe.cls_g_weight={wg}")
    outs, batches = _record(trainer)
    trainer.train_step()
    y = batches[0].y  # D phase batch; its labels condition the fakes (reused by the G phase)
    real, fake, g_fake = outs  # D forwards: real, fake (D phase), fake (G phase)
    cls_real = F.cross_entropy(real.class_logits.detach(), y)
    cls_fake = F.cross_entropy(fake.class_logits.detach(), y)
    assert stats["Loss/D/cls_real"][0] == pytest.approx(float(cls_real), rel=1e-6)
    assert stats["Loss/D/cls_fake"][0] == pytest.approx(float(cls_fake), rel=1e-6)
    # non-saturating GAN: D = -log σ(real) - log(1 - σ(fake)), G = -log σ(fake)
    r, f = real.logits.detach().double(), fake.logits.detach().double()
    adv_d = (-torch.log(torch.sigmoid(r))).mean() + (-torch.log(1 - torch.sigmoid(f))).mean()
    assert stats["Loss/D"][0] == pytest.approx(float(adv_d) + wr * float(cls_real) + wf * float(cls_fake), rel=1e-5)
    cls_g = F.cross_entropy(g_fake.class_logits.detach(), y)
    adv_g = (-torch.log(torch.sigmoid(g_fake.logits.detach().double()))).mean()
    assert stats["Loss/G/cls"][0] == pytest.approx(float(cls_g), rel=1e-6)
    assert stats["Loss/G"][0] == pytest.approx(float(adv_g) + wg * float(cls_g), rel=1e-5)
    acc = (real.class_logits.argmax(1) == y).float().mean()
    assert stats["ACGAN/acc_real"][0] == pytest.approx(float(acc))


def _k_plus_one_ce(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean CE of an explicit (K+1)-way softmax over [l_1..l_K, 0] (NumPy, float64)."""
    full = np.concatenate([logits.detach().double().numpy(), np.zeros((logits.shape[0], 1))], axis=1)
    log_p = full - full.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    return float(-log_p[np.arange(len(full)), target.numpy()].mean())


def test_fake_class_losses_of_one_step_by_hand(tmp_path):
    wf = 0.6
    trainer, stats = _trainer(tmp_path, "recipe.fake_class=true", f"recipe.cls_fake_weight={wf}")
    outs, batches = _record(trainer)
    trainer.train_step()
    y = batches[0].y
    real, fake, g_fake = outs
    fake_target = torch.full_like(y, 10)  # the fake class K
    assert stats["Loss/D/cls_real"][0] == pytest.approx(_k_plus_one_ce(real.class_logits, y), rel=1e-5)
    assert stats["Loss/D/cls_fake"][0] == pytest.approx(_k_plus_one_ce(fake.class_logits, fake_target), rel=1e-5)
    assert stats["Loss/G/cls"][0] == pytest.approx(_k_plus_one_ce(g_fake.class_logits, y), rel=1e-5)
    adv_d = stats["Loss/D/adv"][0]
    assert stats["Loss/D"][0] == pytest.approx(adv_d + stats["Loss/D/cls_real"][0] + wf * stats["Loss/D/cls_fake"][0],
                                               rel=1e-5)
    adv_g = float((-torch.log(torch.sigmoid(g_fake.logits.detach().double()))).mean())
    assert stats["Loss/G"][0] == pytest.approx(adv_g + _k_plus_one_ce(g_fake.class_logits, y), rel=1e-5)


def test_class_loss_on_real_data_falls(tmp_path):
    # 50 steps on 8x8 digits with tiny nets: the class CE on real batches starts at ~log 10 = 2.30
    # and falls to ~1.3 (seeds 0-5: the mean of the last 10 steps is 0.87-1.06 below the first 10)
    trainer, stats = _trainer(tmp_path, "optim.lr_d=2e-3", "optim.lr_g=2e-3", "train.seed=0")
    for _ in range(50):
        trainer.train_step()
    ce = stats["Loss/D/cls_real"]
    first, last = sum(ce[:10]) / 10, sum(ce[-10:]) / 10
    assert first == pytest.approx(math.log(10), abs=0.15)
    assert first - last > 0.5


@pytest.mark.parametrize("extra, match", [([], "model.conditional=true"),
                                          (COND + ["model.d_class_head=3"], "model.d_class_head"),
                                          (COND + ["recipe.fake_class=true", "recipe.cls_fake_weight=0"],
                                           "recipe.cls_fake_weight > 0")])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "acgan", *extra), str(tmp_path / "r"))


def test_resume_is_exact(tmp_path):
    n, k = 6, 3
    extra = [*COND, "recipe.cls_fake_weight=0.5", "train.ema_decay=0.9"]
    full = train(tiny_recipe("digits-dcgan", tmp_path, "acgan", f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny_recipe("digits-dcgan", tmp_path, "acgan", f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_mnist_preset_trains(tmp_path, real_data):
    cfg = load_preset("mnist-acgan", [f"data.path={real_data}", "data.download=false", "data.limit=64",
                                      "train.batch_size=16", "train.steps=2", "train.progress=false",
                                      "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "acgan" and cfg.model.d_class_head == 10 and cfg.recipe.fake_class
    result = train(cfg)
    assert result.steps == 2 and result.completed
