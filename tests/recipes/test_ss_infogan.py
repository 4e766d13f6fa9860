"""Recipe ss-infogan (Spurr et al. 2017): the supervised term of one step by hand, the
balanced labelled subset and its minibatches fixed across resume, Q's supervised CE
falling on 8x8 digits, config errors, and the preset."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.runs import load_run, resume, train
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical

CODES = ["recipe.categorical=10", "recipe.continuous=1"]  # K = the digits' 10 classes
LABELS = 50  # 5 per class of the 256 tiny digits


def _trainer(tmp_path, *extra):
    cfg = tiny_recipe("digits-dcgan", tmp_path, "ss-infogan", *CODES, f"recipe.supervised_labels={LABELS}", *extra)
    trainer = Trainer(cfg, str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _log_softmax_ce(logits: np.ndarray, y: np.ndarray) -> float:
    logp = logits - logits.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def test_one_step_smoke(tmp_path):
    assert "ss-infogan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path)
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert {"Loss/D/supervised", "SSInfoGAN/acc_labelled", "Loss/D/info_cat", "Loss/G"} <= set(stats)
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert {n.split(".")[0] for n in changed} == {"G", "D"}
    assert any(n.startswith("D.aux.q.") for n in changed)


def test_supervised_term_of_one_step_by_hand(tmp_path):
    weight = 0.7
    trainer, stats = _trainer(tmp_path, f"recipe.supervised_weight={weight}", "recipe.supervised_batch=12")
    ds = trainer.dataset
    calls = []  # (D input, D output) of every D forward
    trainer.recipe.modules["D"].register_forward_hook(lambda m, a, out: calls.append((a[0].detach(), out)))
    trainer.train_step()
    (_, real), (_, fake), (x_lab, lab), _ = calls  # D phase: real, fake, labelled; then G phase
    assert x_lab.shape == (12, 1, 8, 8)
    # find each labelled input in the training set: all come from the subset, none twice
    flat = ds.x.flatten(1)
    idx = [int(torch.nonzero((flat == row).all(1)).flatten()[0]) for row in x_lab.flatten(1)]
    assert len(set(idx)) == 12 and set(idx) <= set(trainer.recipe.pool.indices.tolist())
    y = ds.y[idx].numpy()
    ce = _log_softmax_ce(lab.extra["q_categorical"].detach().double().numpy(), y)
    assert stats["Loss/D/supervised"][0] == pytest.approx(ce, rel=1e-5)
    acc = float((lab.extra["q_categorical"].argmax(1).numpy() == y).mean())
    assert stats["SSInfoGAN/acc_labelled"][0] == pytest.approx(acc)
    info = stats["Loss/D/info_cat"][0] + 0.1 * stats["Loss/D/info_cont"][0]  # lambda_cat 1, lambda_cont 0.1
    assert stats["Loss/D"][0] == pytest.approx(stats["Loss/D/adv"][0] + info + weight * ce, rel=1e-5)
    assert "Loss/G/supervised" not in stats  # G's loss is InfoGAN's


def test_labelled_subset_is_balanced_and_fixed_by_the_seed(tmp_path):
    a, _ = _trainer(tmp_path)
    b, _ = _trainer(tmp_path)  # a resumed run is built the same way
    other, _ = _trainer(tmp_path, "train.seed=1")
    counts = torch.bincount(a.dataset.y[a.recipe.pool.indices], minlength=10)
    assert counts.tolist() == [LABELS // 10] * 10
    assert torch.equal(a.recipe.pool.indices, b.recipe.pool.indices)
    assert not torch.equal(a.recipe.pool.indices, other.recipe.pool.indices)
    torch.testing.assert_close(a.recipe.pool.x, a.dataset.x[a.recipe.pool.indices], rtol=0, atol=0)


def test_resume_is_exact(tmp_path):
    n, k = 5, 2
    args = ("digits-dcgan", tmp_path, "ss-infogan", *CODES, f"recipe.supervised_labels={LABELS}", "recipe.n_critic=2")
    full = train(tiny_recipe(*args, f"train.steps={n}", "train.run_name=full"))
    part = train(tiny_recipe(*args, f"train.steps={k}", "train.run_name=part"))
    _assert_identical(full.run_dir, resume(part.run_dir, [f"train.steps={n}"]).run_dir)
    assert load_run(full.run_dir).sample(3, seed=0).shape == (3, 1, 8, 8)  # sampling needs no labels


def test_supervised_ce_falls_on_digits(tmp_path):
    # 40 steps, tiny nets: Q's CE on the 50 labelled digits (nets in eval mode) starts near
    # log 10 = 2.30 and falls to 1.18-1.31 (seeds 0-3); plain InfoGAN's Q (same seed, no
    # labels) names the classes arbitrarily and stays at 2.46-2.77 (seeds 0-2)
    def labelled_ce_after(steps, *extra, subset=None):
        trainer, _ = _trainer(tmp_path, "optim.lr_d=2e-3", "optim.lr_g=2e-3", "train.seed=0", *extra)
        subset = trainer.recipe.pool.indices if subset is None else subset
        x, y = trainer.dataset.x[subset], trainer.dataset.y[subset]
        for _ in range(steps):
            trainer.train_step()
        D = trainer.recipe.modules["D"].eval()
        with torch.no_grad():
            return _log_softmax_ce(D(x).extra["q_categorical"].double().numpy(), y.numpy()), subset

    before, labelled = labelled_ce_after(0)
    after, _ = labelled_ce_after(40)
    plain, _ = labelled_ce_after(40, "recipe.supervised_labels=0", subset=labelled)
    assert before == pytest.approx(math.log(10), abs=0.1)
    assert after < before - 0.7
    assert plain > after + 0.8


@pytest.mark.parametrize("extra, match", [
    (["recipe.categorical=4"], "number of classes"),
    (["recipe.supervised_labels=55"], "multiple of 10"),
    (["recipe.categorical=0", "recipe.continuous=2"], "needs a categorical code"),
    (["recipe.supervised_weight=-1"], "supervised_weight"),
])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        _trainer(tmp_path, *extra)


def test_zero_labels_is_plain_infogan(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.supervised_labels=0")
    trainer.train_step()
    assert trainer.recipe.pool is None and "Loss/D/supervised" not in stats


def test_mnist_preset_trains(tmp_path, real_data):
    cfg = load_preset("mnist-ss-infogan", [f"data.path={real_data}", "data.download=false", "data.limit=200",
                                           "train.batch_size=16", "train.steps=2", "train.progress=false",
                                           "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "ss-infogan" and cfg.recipe.supervised_labels == 100
    result = train(cfg)
    assert result.steps == 2 and result.completed


def test_q_is_a_classifier_scored_by_classifier_error(tmp_path):
    from gankit.semi_supervised import classifier_error

    trainer, _ = _trainer(tmp_path)
    trainer.train_step()
    run = SimpleNamespace(recipe=trainer.recipe, nets=lambda use_ema=True: trainer.sampling_nets(use_ema),
                          cfg=trainer.cfg, device=trainer.device)
    x, y = trainer.dataset.x, trainer.dataset.y
    D = trainer.recipe.modules["D"].eval()
    with torch.no_grad():
        want = float((D(x).extra["q_categorical"].argmax(1) != y).float().mean())
    assert classifier_error(run, dataset=trainer.dataset) == pytest.approx(want)
