"""The `gan` recipe's modern options, each checked by hand from D's recorded inputs and
outputs: relativistic losses (D's real logits in the G phase), lazy R2, LeCam, augmentation of
every D input; and exact resume with ADA's p and LeCam's anchors in the checkpoint."""

import math

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import ConfigError
from gankit.runs import resume, train
from gankit.train.checkpoint import load_checkpoint
from tests.helpers import tiny
from tests.recipes.test_gan_options import _record, _trainer
from tests.train.test_resume import _assert_identical


def test_rpgan_pairs_real_and_fake_logits_in_both_phases(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.loss=rpgan")
    calls, _ = _record(trainer)
    trainer.train_step()
    assert len(calls) == 4  # D: real, fake; G: fake, then the real batch for the relativistic loss
    (_, d_real), (_, d_fake), (_, g_fake), (_, g_real) = calls
    d_loss = F.softplus(d_fake.logits - d_real.logits).mean()
    g_loss = F.softplus(g_real.logits - g_fake.logits).mean()
    assert stats["Loss/D"][0] == pytest.approx(float(d_loss), rel=1e-5)
    assert stats["Loss/G"][0] == pytest.approx(float(g_loss), rel=1e-5)


def test_ragan_g_loss_uses_the_g_phase_real_batch(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.loss=ragan")
    calls, _ = _record(trainer)
    trainer.train_step()
    f, r = calls[2][1].logits.detach(), calls[3][1].logits.detach()
    g_loss = F.softplus(-(f - r.mean())).mean() + F.softplus(r - f.mean()).mean()
    assert stats["Loss/G"][0] == pytest.approx(float(g_loss), rel=1e-5)


def test_classic_losses_skip_the_real_forward_in_the_g_phase(tmp_path):
    trainer, _ = _trainer(tmp_path, "recipe.loss=ns")
    calls, _ = _record(trainer)
    trainer.train_step()
    assert len(calls) == 3


@pytest.mark.parametrize("every, steps_with_r2", [(1, [0, 1, 2]), (2, [0, 2])])
def test_lazy_r2_penalises_the_fake_batch(tmp_path, every, steps_with_r2):
    """R2 = E||grad_x D(x)||^2 at the D step's fake batch, added as gamma/2 * every * R2 on lazy steps."""
    gamma = 3.0
    trainer, stats = _trainer(tmp_path, f"recipe.r2_gamma={gamma}", f"recipe.r1_every={every}")
    D = trainer.recipe.modules["D"]
    calls, _ = _record(trainer)
    expected = []
    for step in range(3):
        before = {k: v.clone() for k, v in D.state_dict().items()}
        n = len(calls)
        trainer.train_step()
        if step in steps_with_r2:
            after = {k: v.clone() for k, v in D.state_dict().items()}
            D.load_state_dict(before)
            x = calls[n + 1][0].clone().requires_grad_(True)  # the D phase's fake input
            (grad,) = torch.autograd.grad(D(x).logits.sum(), x)
            expected.append(float(grad.square().sum(dim=1).mean()))
            D.load_state_dict(after)
    assert stats["Loss/D/r2"] == pytest.approx(expected, rel=1e-5)
    for i, r2 in zip(steps_with_r2, expected):
        assert stats["Loss/D"][i] == pytest.approx(stats["Loss/D/adv"][i] + 0.5 * gamma * every * r2, rel=1e-5)


def test_cosine_gamma_schedule_weights_r1_and_r2(tmp_path):
    """Loss/D = adv + gamma(t)/2 · (R1 + R2) with gamma(t) = gamma (0.1 + 0.9 (1 + cos(pi t / T)) / 2), T = 4."""
    gamma = 2.0
    trainer, stats = _trainer(tmp_path, f"recipe.r1_gamma={gamma}", f"recipe.r2_gamma={gamma}", "train.steps=4",
                              "recipe.gamma_schedule=cosine", "recipe.gamma_final=0.1")
    for _ in range(3):
        trainer.train_step()
    for t in range(3):
        g_t = gamma * (0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2)
        penalties = stats["Loss/D/r1"][t] + stats["Loss/D/r2"][t]
        assert stats["Loss/D"][t] == pytest.approx(stats["Loss/D/adv"][t] + 0.5 * g_t * penalties, rel=1e-5)


def test_lecam_regularises_towards_moving_anchors(tmp_path):
    weight, decay = 0.5, 0.9
    trainer, stats = _trainer(tmp_path, f"recipe.lecam_weight={weight}", f"recipe.lecam_decay={decay}")
    calls, _ = _record(trainer)
    anchors = None
    for step in range(2):
        n = len(calls)
        trainer.train_step()
        r, f = calls[n][1].logits.detach().double(), calls[n + 1][1].logits.detach().double()
        means = torch.stack([r.mean(), f.mean()])
        anchors = means if anchors is None else decay * anchors + (1 - decay) * means
        lecam = (r - anchors[1]).square().mean() + (anchors[0] - f).square().mean()
        assert stats["Loss/D/lecam"][step] == pytest.approx(float(lecam), rel=1e-5)
        assert stats["Loss/D"][step] == pytest.approx(stats["Loss/D/adv"][step] + weight * float(lecam), rel=1e-5)
    torch.testing.assert_close(trainer.recipe.state_tensors()["lecam_anchors"], anchors)


@pytest.mark.parametrize("loss, n_calls", [("ns", 3), ("rpgan", 4)])
def test_augmentation_reaches_every_d_input_in_both_phases(tmp_path, loss, n_calls):
    trainer, _ = _trainer(tmp_path, "recipe.augment=diffaugment", f"recipe.loss={loss}", preset="digits-dcgan")
    seen = []
    trainer.recipe.augmenter = lambda x: seen.append(x.detach().clone()) or x.flip(3)  # a known "augmentation"
    calls, batches = _record(trainer)
    trainer.train_step()
    assert len(calls) == len(seen) == n_calls
    for (d_in, _), x in zip(calls, seen):
        torch.testing.assert_close(d_in, x.flip(3))
    torch.testing.assert_close(seen[0], batches[0].x)  # D phase: the real batch first


def test_ada_moves_p_during_training(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.augment=ada", "recipe.ada_kimg=0.1", "recipe.ada_interval=2",
                              "recipe.ada_p=0.5", preset="digits-dcgan")
    for _ in range(4):
        trainer.train_step()
    p = stats["augment/p"]
    assert len(stats["augment/rt"]) == 2
    # every second D step p moves by batch · interval / (kimg · 1000) = 16 · 2 / 100 towards r_t > 0.6 or < 0.6
    step = 16 * 2 / 100
    want, expected = 0.5, []
    for i in range(4):  # p is reported after each D step's observation
        if i % 2 == 1:
            r_t = stats["augment/rt"][i // 2]
            want = min(max(want + (step if r_t > 0.6 else -step), 0.0), 1.0)
        expected.append(want)
    assert p == pytest.approx(expected)
    assert p[1] != p[0]


def test_resume_is_exact_with_ada_lecam_and_r3gan_losses(tmp_path):
    n, k = 9, 4
    extra = ["recipe.loss=rpgan", "recipe.r1_gamma=1", "recipe.r2_gamma=1", "recipe.r1_every=2",
             "recipe.lecam_weight=0.1", "recipe.augment=ada", "recipe.ada_kimg=0.05", "recipe.ada_interval=3",
             "recipe.ada_p=0.5", "train.ema_decay=0.9", "model.d_norm=none"]
    full = train(tiny("digits-dcgan", tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny("digits-dcgan", tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    _assert_identical(full.run_dir, resumed.run_dir)
    tensors, meta = load_checkpoint(f"{resumed.run_dir}/checkpoint.safetensors")
    assert {"recipe/ada_p", "recipe/ada_sign_sum", "recipe/ada_count", "recipe/lecam_anchors"} <= set(tensors)
    assert meta["recipe_state"]["ada"]["d_steps"] == n % 3
    assert float(tensors["recipe/ada_p"]) != 0.5  # p moved: the resumed run had to restore it


def test_resume_is_exact_with_the_resnet_family_and_diffaugment(tmp_path):
    n, k = 5, 2
    extra = ["recipe.augment=diffaugment", "recipe.loss=ragan", "recipe.lecam_weight=0.1"]
    make = lambda name, steps: tiny("digits-dcgan", tmp_path, f"train.steps={steps}", f"train.run_name={name}",  # noqa: E731
                                    "model.arch=resnet", "model.attn_res=4", "model.g_norm=batch", *extra)
    full = train(make("full", n))
    part = train(make("part", k))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    _assert_identical(full.run_dir, resumed.run_dir)


@pytest.mark.parametrize("override, words", [
    ("recipe.diffaugment=color,zoom", "zoom"),
    ("recipe.lecam_decay=1", "lecam_decay"),
    ("recipe.r2_gamma=-1", "r2_gamma"),
    ("recipe.ada_target=0", "ada_target"),
])
def test_bad_modern_settings_are_refused_at_parse_time(tmp_path, override, words):
    with pytest.raises(ConfigError, match=words):
        tiny("digits-dcgan", tmp_path, override)


def test_augmenting_vectors_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="augments images"):
        _trainer(tmp_path, "recipe.augment=diffaugment")
