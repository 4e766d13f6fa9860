"""Recipe ssgan (Salimans et al. 2016, §5): the K+1 loss against an explicit (K+1)-way
softmax, one step's losses by hand (D's joint forward and its three separate ones), the joint
forward's gradients, the D phase's features as G's target, smoke, the supervised CE falling on 8x8 digits, the
labelled subset (balanced, fixed across resume), exact resume, the averaged classifier (its EMA rule,
what classifier_error scores, old checkpoints), config errors, the preset."""

import copy
import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from gankit.data.base import build_dataset
from gankit.errors import ConfigError
from gankit.losses.stabilizers import feature_matching_loss
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.recipes.ssgan import k_plus_one_d_loss, k_plus_one_g_loss, real_logit
from gankit.runs import load_run, resume, train
from gankit.semi_supervised import classifier_error
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical


def _trainer(tmp_path, *extra, name="r"):
    trainer = Trainer(tiny_recipe("digits-dcgan", tmp_path, "ssgan", *extra), str(tmp_path / name))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _softmax_with_zero_logit(logits: np.ndarray) -> np.ndarray:
    """Explicit (K+1)-way softmax of [l_1..l_K, 0], float64, (N, K+1)."""
    full = np.concatenate([logits, np.zeros((logits.shape[0], 1))], axis=1)
    e = np.exp(full - full.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scale", [1.0, 40.0])  # 40: logits up to ~±120, where a naive exp overflows float32
def test_k_plus_one_loss_equals_an_explicit_k_plus_one_softmax(scale):
    gen = torch.Generator().manual_seed(3)
    real = torch.randn(5, 4, generator=gen) * scale
    fake = torch.randn(7, 4, generator=gen) * scale - 1.0
    p_real = _softmax_with_zero_logit(real.double().numpy())  # (5, 5); column K is the fake class
    p_fake = _softmax_with_zero_logit(fake.double().numpy())
    # -log D(x) = -log(1 - p_fake(x)) = -log sum_k p_k(x); -log(1 - D(G(z))) = -log p_{K+1}(G(z))
    expected_d = -np.log(p_real[:, :4].sum(1)).mean() - np.log(p_fake[:, 4]).mean()
    expected_g = -np.log(p_fake[:, :4].sum(1)).mean()
    d_loss, g_loss = k_plus_one_d_loss(real, fake), k_plus_one_g_loss(fake)
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    torch.testing.assert_close(d_loss.double(), torch.tensor(expected_d, dtype=torch.float64), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g_loss.double(), torch.tensor(expected_g, dtype=torch.float64), rtol=1e-5, atol=1e-5)
    # D(x) = Z / (Z + 1) = sigmoid(log Z)
    torch.testing.assert_close(torch.sigmoid(real_logit(real)).double(), torch.from_numpy(1 - p_real[:, 4]))


@pytest.mark.parametrize("g_loss", ["feature_matching", "ns"])
def test_one_step_smoke(tmp_path, g_loss):
    assert "ssgan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path, f"recipe.g_loss={g_loss}")
    D = trainer.recipe.modules["D"]
    assert D.aux.classes.num_classes == 10
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert set(stats) >= {"Loss/D/sup", "Loss/D/unsup", "Loss/D", "Loss/G", "SSGAN/acc_labelled"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert {n.split(".")[0] for n in changed} == {"G", "D"}
    assert any(n.startswith("D.aux.classes") for n in changed)


@pytest.mark.parametrize("resolution", [8, 16])  # D without batch norm (one joint forward), with it
def test_losses_of_one_step_by_hand(tmp_path, resolution):
    w = 0.7
    trainer, stats = _trainer(tmp_path, f"recipe.unsup_weight={w}", f"data.resolution={resolution}")
    outs = []
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: outs.append((a[0], out)))
    trainer.train_step()
    *d_phase, (_, g_fake), (_, g_real) = outs  # D phase: labelled, unlabelled, generated; G phase: fake, real
    if resolution == 8:
        assert len(d_phase) == 1  # the three batches at once
        x_lab, (lab, real, fake) = d_phase[0][0][:16], d_phase[0][1].class_logits.detach().double().split(16)
    else:
        assert len(d_phase) == 3
        x_lab, (lab, real, fake) = d_phase[0][0], [o.class_logits.detach().double() for _, o in d_phase]
    pool = trainer.recipe.pool
    pos = [int(torch.nonzero((pool.x == x).flatten(1).all(1))[0]) for x in x_lab]  # where each x_lab sits in the pool
    y_lab = pool.y[pos]
    assert x_lab.shape[0] == 16 and len(set(pos)) == 16  # min(batch 16, 100 labels), distinct
    sup = F.cross_entropy(lab, y_lab)
    unsup = F.softplus(-torch.logsumexp(real, 1)).mean() + F.softplus(torch.logsumexp(fake, 1)).mean()
    assert stats["Loss/D/sup"][0] == pytest.approx(float(sup), rel=1e-5)
    assert stats["Loss/D/unsup"][0] == pytest.approx(float(unsup), rel=1e-5)
    assert stats["Loss/D"][0] == pytest.approx(float(sup + w * unsup), rel=1e-5)
    fm = (g_real.features.detach().double().mean(0) - g_fake.features.detach().double().mean(0)).square().sum()
    assert stats["Loss/G"][0] == pytest.approx(float(fm), rel=1e-4)
    assert float(feature_matching_loss(g_real.features, g_fake.features.detach())) == pytest.approx(float(fm), rel=1e-4)


def test_weight_norm_d_gradients_of_the_joint_forward(tmp_path):
    """D without batch norm: its phase runs one forward over the labelled, unlabelled and
    generated batches, with its weight-normalised weights computed once (``parametrize.cached``);
    its gradients equal those of three separate plain forwards of a copy."""
    trainer, _ = _trainer(tmp_path, "model.d_weight_norm=true", "model.d_norm=none", "recipe.unsup_weight=0.7")
    D = trainer.recipe.modules["D"]
    before = copy.deepcopy(D)
    inputs = []
    hook = D.register_forward_hook(lambda m, a, out: inputs.append(a[0].detach().clone()))
    trainer.train_step()
    hook.remove()
    assert [x.shape[0] for x in inputs] == [48, 16, 16]  # D phase: 16 + 16 + 16 at once; G phase: fake, real
    x_lab, x_real, x_fake = inputs[0].split(16)  # the D phase's inputs, noise included
    pool = trainer.recipe.pool
    y_lab = pool.y[[int(torch.nonzero((pool.x == x).flatten(1).all(1))[0]) for x in x_lab]]
    lab, real, fake = (before(x).class_logits for x in (x_lab, x_real, x_fake))
    loss = F.cross_entropy(lab, y_lab) + 0.7 * k_plus_one_d_loss(real, fake)
    expected = torch.autograd.grad(loss, list(before.parameters()), allow_unused=True)  # the adversarial head: None
    assert sum(g is not None for g in expected) > 4
    for (name, p), g in zip(D.named_parameters(), expected):
        if g is None:
            assert p.grad is None, name
        else:
            torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6, msg=name)


def test_d_phase_feature_target(tmp_path):
    """``recipe.fm_target=d_phase``: G matches the mean features D computed of the D phase's
    unlabelled batch (before D's update), so the G phase runs D on the generated batch only."""
    trainer, stats = _trainer(tmp_path, "recipe.fm_target=d_phase", "model.d_norm=none")
    outs = []
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: outs.append((a[0], out)))
    trainer.train_step()
    (x_d, d_out), (x_g, g_out) = outs  # D phase: labelled, unlabelled, generated at once; G phase: generated
    torch.testing.assert_close(x_g, x_d[32:])  # the same G(z) (reuse_fake, no input noise)
    target = d_out.features[16:32].detach().double()  # the unlabelled rows
    fm = (target.mean(0) - g_out.features.detach().double().mean(0)).square().sum()
    assert stats["Loss/G"][0] == pytest.approx(float(fm), rel=1e-5)
    trainer.train_step()
    assert len(outs) == 4  # no target left over: the next step again runs D twice
    fresh, fresh_stats = _trainer(tmp_path, "model.d_norm=none", name="fresh")
    fresh_outs = []
    fresh.recipe.modules["D"].register_forward_hook(lambda m, a, out: fresh_outs.append(out))
    fresh.train_step()
    assert len(fresh_outs) == 3  # g_phase: the G phase runs D on its unlabelled batch too
    fm_fresh = (fresh_outs[2].features.double().mean(0) - fresh_outs[1].features.double().mean(0)).square().sum()
    assert fresh_stats["Loss/G"][0] == pytest.approx(float(fm_fresh), rel=1e-5)


def test_supervised_loss_falls_on_digits(tmp_path):
    # 100 steps, 100 labels of 8x8 digits, tiny DCGAN: the labelled CE starts at ~log 10 = 2.30 and
    # falls below 0.5 (seeds 0-5: the mean of the last 10 steps is 0.28-0.48, 1.8-2.0 below the first 10)
    trainer, stats = _trainer(tmp_path, "optim.lr_d=2e-3", "optim.lr_g=2e-3", "train.seed=0")
    for _ in range(100):
        trainer.train_step()
    ce = stats["Loss/D/sup"]
    first, last = sum(ce[:10]) / 10, sum(ce[-10:]) / 10
    assert first == pytest.approx(math.log(10), abs=0.1)
    assert last < 1.0 and first - last > 1.3


def test_labelled_subset_is_balanced_and_fixed_across_resume(tmp_path):
    n, k = 6, 3
    extra = ["recipe.num_labelled=50", "train.ema_decay=0.9", "recipe.input_noise=0.1"]
    full = train(tiny_recipe("digits-dcgan", tmp_path, "ssgan", f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny_recipe("digits-dcgan", tmp_path, "ssgan", f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)
    a = Trainer(tiny_recipe("digits-dcgan", tmp_path, "ssgan", *extra), str(tmp_path / "a")).recipe.pool
    b = Trainer(tiny_recipe("digits-dcgan", tmp_path, "ssgan", *extra), str(tmp_path / "b"))
    b.load_checkpoint(f"{part.run_dir}/checkpoint.safetensors")
    assert torch.equal(a.indices, b.recipe.pool.indices) and torch.equal(a.x, b.recipe.pool.x)
    assert torch.bincount(a.y, minlength=10).tolist() == [5] * 10
    assert torch.equal(a.y, b.dataset.y[a.indices])
    assert not any(key.startswith("labelled") or "pool" in key for key in b.state()[0])  # not in the checkpoint


def test_weight_norm_d_gets_the_data_dependent_init(tmp_path):
    """With ``model.d_weight_norm`` D's first layer is standardised on ``recipe.data_init``
    training examples drawn with the seed (NumPy statistics of its pre-activations)."""
    extra = ["model.d_weight_norm=true", "model.d_norm=none", "recipe.data_init=64", "train.seed=3"]
    trainer, _ = _trainer(tmp_path, *extra)
    x = trainer.dataset.x
    idx = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(3))[:64]
    first = next(m for m in trainer.recipe.modules["D"].modules() if isinstance(m, torch.nn.Conv2d))
    with torch.no_grad():
        t = first(x[idx]).double().numpy()  # (64, C, H, W)
    np.testing.assert_allclose(t.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(t.std(axis=(0, 2, 3)), 1.0, atol=1e-4)
    plain, _ = _trainer(tmp_path, *extra[:2], "recipe.data_init=0", "train.seed=3", name="p")
    first_plain = next(m for m in plain.recipe.modules["D"].modules() if isinstance(m, torch.nn.Conv2d))
    assert not torch.equal(first.parametrizations.weight.original0, first_plain.parametrizations.weight.original0)


@pytest.mark.parametrize("extra, match", [
    (["model.conditional=true"], "model.conditional=false"),
    (["model.d_class_head=3"], "model.d_class_head"),
    (["recipe.num_labelled=15"], "multiple of 10"),
    (["model.d_minibatch=stddev"], "d_minibatch"),
    (["recipe.g_loss=hinge"], "recipe.g_loss"),
    (["recipe.g_loss=ns", "recipe.fm_target=d_phase"], "fm_target=d_phase needs recipe.g_loss=feature_matching"),
    (["recipe.unsup_weight=-1"], "unsup_weight"),
    (["recipe.data_init=-1"], "data_init"),
    (["recipe.classifier_ema=1"], "classifier_ema"),
    (["model.d_arch=patchgan"], "model.d_arch=default"),
])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "ssgan", *extra), str(tmp_path / "r"))


def test_mnist_preset_trains(tmp_path, real_data):
    cfg = load_preset("mnist-ssgan", [f"data.path={real_data}", "data.download=false", "data.limit=200",
                                      "recipe.num_labelled=10", "model.g_width=16", "model.d_width=16",
                                      "train.batch_size=16", "train.steps=2", "train.progress=false",
                                      "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "ssgan" and cfg.recipe.g_loss == "feature_matching"
    result = train(cfg)
    assert result.steps == 2 and result.completed


def _d_params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_classifier_average_follows_the_ema_rule(tmp_path):
    """``recipe.classifier_ema`` = β keeps an average of D beside G's: after step t the average
    is β_t·avg + (1 − β_t)·θ_t with β_t = min(β, (1 + t)/(10 + t)), recomputed here by hand."""
    beta = 0.5
    trainer, _ = _trainer(tmp_path, f"recipe.classifier_ema={beta}", "train.ema_decay=0.9")
    assert {name: ema.decay for name, ema in trainer.ema.items()} == {"G": 0.9, "D": beta}
    D = trainer.recipe.modules["D"]
    avg = _d_params(D)  # the average starts at D's initial weights
    for t in range(3):
        trainer.train_step()
        b = min(beta, (1 + t) / (10 + t))
        avg = [b * a + (1 - b) * p for a, p in zip(avg, _d_params(D))]
    for got, want in zip(trainer.ema["D"].module.parameters(), avg):
        torch.testing.assert_close(got, want)
    assert not torch.equal(next(trainer.ema["D"].module.parameters()), next(D.parameters()))
    off, _ = _trainer(tmp_path, "recipe.classifier_ema=0", name="off")
    assert set(off.ema) == {"G"}


def test_classifier_error_scores_the_averaged_d(tmp_path):
    """``classifier_error`` uses the average of D by default and the last weights with
    ``use_ema=False``; both against argmax predictions computed here; the average survives a
    checkpoint, and a checkpoint written without it loads with D's last weights."""
    run_dir = train(tiny_recipe("digits-dcgan", tmp_path, "ssgan", "train.steps=5", "recipe.classifier_ema=0.9",
                                "optim.lr_d=5e-3", "train.run_name=avg")).run_dir
    run = load_run(run_dir)
    assert set(run.ema) == {"G", "D"}
    test = build_dataset(dataclasses.replace(run.cfg.data, split="test", limit=0))

    @torch.no_grad()
    def logits_of(d):
        return d.eval()(test.x).class_logits  # (N, 10)

    averaged, last = logits_of(run.ema["D"]), logits_of(run.recipe.modules["D"])
    assert not torch.allclose(averaged, last)  # two different classifiers: the test can tell which was scored
    error = lambda logits: float((logits.argmax(1) != test.y).double().mean())  # noqa: E731
    assert classifier_error(run, "test", batch_size=64) == pytest.approx(error(averaged), abs=1e-12)
    assert classifier_error(run, "test", batch_size=64, use_ema=False) == pytest.approx(error(last), abs=1e-12)
    # a checkpoint from before the classifier was averaged has no ema/D tensors
    path = f"{run_dir}/checkpoint.safetensors"
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    save_file({k: v for k, v in load_file(path).items() if not k.startswith("ema/D/")}, path, metadata=meta)
    old = load_run(run_dir)
    assert set(old.ema) == {"G"}
    assert classifier_error(old, "test", batch_size=64) == pytest.approx(error(last), abs=1e-12)
