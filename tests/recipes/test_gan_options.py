"""The `gan` recipe's stabilisers, each switched on from config and checked by hand from
the discriminator's recorded inputs/outputs of one training step."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import ConfigError
from gankit.runs import resume, train
from gankit.train.trainer import Trainer
from tests.helpers import tiny
from tests.train.test_resume import _assert_identical


def _trainer(tmp_path, *extra, preset="ring-gan"):
    trainer = Trainer(tiny(preset, tmp_path, "train.ema_decay=0", *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _record(trainer):
    """(input, DOutput) of every D forward, in order, and every batch the loader hands out."""
    calls, batches = [], []
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: calls.append((a[0].detach().clone(), out)))
    nxt = trainer.loader.next
    trainer.loader.next = lambda: batches.append(nxt()) or batches[-1]
    return calls, batches


def test_dragan_adds_the_gradient_norm_penalty_at_the_real_points(tmp_path):
    w = 3.0  # gaussian noise with scale 0 puts x_tilde exactly on the data
    trainer, stats = _trainer(tmp_path, f"recipe.dragan_weight={w}", "recipe.dragan_noise=gaussian",
                              "recipe.dragan_scale=0")
    D = trainer.recipe.modules["D"]
    D_before = {k: v.clone() for k, v in D.state_dict().items()}
    _, batches = _record(trainer)
    trainer.train_step()
    D.load_state_dict(D_before)
    x = batches[0].x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).logits.sum(), x)
    expected = ((grad.norm(dim=1) - 1.0) ** 2).mean()
    assert stats["Loss/D/dragan"][0] == pytest.approx(float(expected), rel=1e-5)
    assert stats["Loss/D"][0] == pytest.approx(stats["Loss/D/adv"][0] + w * float(expected), rel=1e-5)


@pytest.mark.parametrize("every, steps_with_r1", [(1, [0, 1, 2]), (2, [0, 2])])
def test_lazy_r1_penalises_every_kth_step_k_times_as_hard(tmp_path, every, steps_with_r1):
    """R1 = E||grad_x D(x)||^2 at the real batch, added as gamma/2 * every * R1 on steps 0, every, 2·every, ..."""
    gamma = 2.0
    trainer, stats = _trainer(tmp_path, f"recipe.r1_gamma={gamma}", f"recipe.r1_every={every}")
    D = trainer.recipe.modules["D"]
    _, batches = _record(trainer)
    expected = []
    for step in range(3):
        D_before = {k: v.clone() for k, v in D.state_dict().items()}
        n = len(batches)
        trainer.train_step()
        if step in steps_with_r1:
            D_after = {k: v.clone() for k, v in D.state_dict().items()}
            D.load_state_dict(D_before)
            x = batches[n].x.clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x).logits.sum(), x)
            expected.append(float(grad.square().sum(dim=1).mean()))
            D.load_state_dict(D_after)
    assert stats["Loss/D/r1"] == pytest.approx(expected, rel=1e-5)
    penalised = [i for i, (total, adv) in enumerate(zip(stats["Loss/D"], stats["Loss/D/adv"])) if total != adv]
    assert penalised == steps_with_r1
    for i, r1 in zip(steps_with_r1, expected):
        assert stats["Loss/D"][i] == pytest.approx(stats["Loss/D/adv"][i] + 0.5 * gamma * every * r1, rel=1e-5)


def test_r1_every_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="r1_every"):
        tiny("ring-gan", tmp_path, "recipe.r1_every=0")


def test_feature_matching_mixes_into_the_generator_loss(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.fm_weight=2", "recipe.adv_g_weight=0.5")
    calls, _ = _record(trainer)
    trainer.train_step()
    (_, fake_out), (_, real_out) = calls[2], calls[3]  # G phase: fake first, then the real batch
    fm = (real_out.features.mean(0) - fake_out.features.mean(0)).square().sum().detach()
    adv = F.softplus(-fake_out.logits).mean().detach()  # non-saturating G loss
    assert stats["Loss/G/fm"][0] == pytest.approx(float(fm), rel=1e-5)
    assert stats["Loss/G"][0] == pytest.approx(float(0.5 * adv + 2 * fm), rel=1e-5)


@pytest.mark.parametrize("mode, extra, t", [
    ("fixed", ["recipe.smooth_value=0.9"], 0.9),
    ("random", ["recipe.smooth_low=0.85", "recipe.smooth_high=0.85"], 0.85),
])
def test_one_sided_label_smoothing_changes_the_real_target(tmp_path, mode, extra, t):
    trainer, stats = _trainer(tmp_path, f"recipe.label_smoothing={mode}", *extra)
    calls, _ = _record(trainer)
    trainer.train_step()
    r, f = calls[0][1].logits.detach(), calls[1][1].logits.detach()
    expected = (t * F.softplus(-r) + (1 - t) * F.softplus(r)).mean() + F.softplus(f).mean()
    assert stats["Loss/D"][0] == pytest.approx(float(expected), rel=1e-5)


def test_random_label_smoothing_draws_targets_per_sample(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.label_smoothing=random")
    calls, _ = _record(trainer)
    rng = torch.get_rng_state()
    trainer.train_step()
    torch.set_rng_state(rng)
    torch.randn(32, 2)  # the D step's z
    t = 0.8 + 0.2 * torch.rand(32)  # then the real targets
    r, f = calls[0][1].logits.detach(), calls[1][1].logits.detach()
    expected = (t * F.softplus(-r) + (1 - t) * F.softplus(r)).mean() + F.softplus(f).mean()
    assert stats["Loss/D"][0] == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("loss", ["wgan", "hinge", "lsgan"])
def test_label_smoothing_only_with_bce_losses(tmp_path, loss):
    with pytest.raises(ConfigError, match="label_smoothing"):
        tiny("ring-gan", tmp_path, f"recipe.loss={loss}", "recipe.label_smoothing=fixed")


def test_instance_noise_is_annealed_and_reaches_every_d_input(tmp_path):
    sigma0, anneal = 0.8, 4
    trainer, _ = _trainer(tmp_path, f"recipe.instance_noise={sigma0}", f"recipe.instance_noise_anneal={anneal}")
    calls, batches = _record(trainer)
    G = trainer.recipe.modules["G"]
    fakes = []
    G.register_forward_hook(lambda m, a, out: fakes.append(out.detach().clone()))
    trainer.step = 1  # sigma = 0.8 * (1 - 1/4) = 0.6
    rng = torch.get_rng_state()
    trainer.train_step()
    torch.set_rng_state(rng)
    torch.randn(32, 2)  # z of the D step
    e_real, e_fake, e_g = torch.randn(32, 2), torch.randn(32, 2), torch.randn(32, 2)
    sigma = 0.6
    torch.testing.assert_close(calls[0][0], batches[0].x + sigma * e_real)
    torch.testing.assert_close(calls[1][0], fakes[0] + sigma * e_fake)
    torch.testing.assert_close(calls[2][0], fakes[0] + sigma * e_g)  # the G step's D input (reused fake)
    calls.clear(), batches.clear()
    trainer.step = anneal  # annealed to 0: D sees the clean data
    trainer.train_step()
    torch.testing.assert_close(calls[0][0], batches[0].x, rtol=0, atol=0)


def test_pacgan_packs_m_samples_per_d_input(tmp_path):
    trainer, _ = _trainer(tmp_path, "recipe.pack=4")
    D = trainer.recipe.modules["D"]
    assert D.body[0].in_features == 4 * 2
    calls, batches = _record(trainer)
    trainer.train_step()
    x = batches[0].x  # (32, 2)
    assert calls[0][0].shape == (8, 8)
    torch.testing.assert_close(calls[0][0][1], torch.cat([x[4], x[5], x[6], x[7]]), rtol=0, atol=0)
    assert calls[0][1].logits.shape == (8,)
    with pytest.raises(ConfigError, match="divisible"):
        Trainer(tiny("ring-gan", tmp_path, "recipe.pack=3"), str(tmp_path / "bad"))


def test_pacgan_on_images_stacks_channels(tmp_path):
    trainer, _ = _trainer(tmp_path, "recipe.pack=2", "recipe.loss=hinge", "model.d_minibatch=stddev",
                          preset="digits-dcgan")
    calls, batches = _record(trainer)
    trainer.train_step()
    x = batches[0].x  # (16, 1, 8, 8)
    assert calls[0][0].shape == (8, 2, 8, 8)
    torch.testing.assert_close(calls[0][0][3], torch.cat([x[6], x[7]]), rtol=0, atol=0)


ALL_ON = ["recipe.dragan_weight=1", "recipe.fm_weight=1", "recipe.label_smoothing=random",
          "recipe.instance_noise=0.1", "recipe.instance_noise_anneal=5", "recipe.pack=2"]


@pytest.mark.parametrize("reuse", ["true", "false"])
def test_everything_on_with_and_without_reuse(tmp_path, reuse):
    trainer, stats = _trainer(tmp_path, *ALL_ON, f"recipe.reuse_fake={reuse}")
    trainer.train_step()
    trainer.train_step()
    assert {"Loss/D/dragan", "Loss/G/fm", "Loss/D", "Loss/G"} <= set(stats)
    assert all(torch.isfinite(torch.tensor(v)).all() for v in stats.values())


def test_resume_is_exact_with_the_stabilisers(tmp_path):
    n, k = 7, 3
    full = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=full", *ALL_ON))
    part = train(tiny("ring-gan", tmp_path, f"train.steps={k}", "train.run_name=part", *ALL_ON))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    _assert_identical(full.run_dir, resumed.run_dir)
