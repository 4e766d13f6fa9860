"""Recipe triplegan (Li et al. 2017): the REINFORCE surrogate's gradient, the authors' code's
argmax cost, entropy and balance terms by hand, one step's losses by hand (Eq. 1 and with the
authors' terms), C's pre-training leaving D and G idle, smoke, C's labelled CE falling on 8x8
digits, exact resume with a fixed labelled subset, classifier_error scoring C, config errors,
the preset."""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.recipes import RECIPES, DataInfo, PretrainingOnlyWarning
from gankit.recipes.triplegan import argmax_cost, balance_loss, expected_cost, prediction_entropy, reinforce_loss
from gankit.runs import load_run, resume, train
from gankit.semi_supervised import classifier_error
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical

COND = ["model.conditional=true"]


def _cfg(tmp_path, *extra):
    return tiny_recipe("digits-dcgan", tmp_path, "triplegan", *COND, *extra)


def _trainer(tmp_path, *extra):
    trainer = Trainer(_cfg(tmp_path, *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach()))
    )
    return trainer, stats


def _pool_labels(trainer, x):
    """The labels of the labelled-pool examples ``x`` (each looked up by its pixels)."""
    pool = trainer.recipe.pool
    return pool.y[[int(torch.nonzero((pool.x == xi).flatten(1).all(1))[0]) for xi in x]]


def _softplus(v):
    return np.logaddexp(0.0, v)


def test_reinforce_surrogate_is_an_unbiased_gradient():
    # d/dθ E_{y~softmax(θ)}[f(y)] = p ⊙ (f − <p, f>); the mean surrogate gradient over many draws matches it
    theta = torch.tensor([0.3, -0.5, 1.1], requires_grad=True)
    f = torch.tensor([2.0, -1.0, 0.5])
    n = 200_000
    y = torch.multinomial(F.softmax(theta.detach(), 0), n, replacement=True, generator=torch.Generator().manual_seed(0))
    log_p = F.log_softmax(theta, 0)[y]  # (n,)
    reinforce_loss(f[y], log_p).backward()
    p = F.softmax(theta.detach(), 0).double().numpy()
    exact = p * (f.double().numpy() - p @ f.double().numpy())
    torch.testing.assert_close(theta.grad.double(), torch.from_numpy(exact), rtol=0, atol=0.02)  # ~5 s.e.


def test_expected_cost_gradient_is_exact():
    # d/dθ Σ_k softmax(θ)_k f_k = p ⊙ (f − <p, f>), per example; the cost carries no gradient
    theta = torch.tensor([[0.3, -0.5, 1.1], [2.0, 0.0, -1.0]], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.4, -0.3]], dtype=torch.float64, requires_grad=True)
    value = expected_cost(F.softmax(theta, 1), f)
    value.backward()
    p, fn = F.softmax(theta.detach(), 1).numpy(), f.detach().numpy()
    assert float(value) == pytest.approx(float((p * fn).sum(1).mean()), rel=1e-12)
    exact = p * (fn - (p * fn).sum(1, keepdims=True)) / 2  # the mean over the 2 examples
    torch.testing.assert_close(theta.grad, torch.from_numpy(exact))
    assert f.grad is None


def test_argmax_cost_gradient_by_hand():
    # d/dθ_j p_m = p_m (δ_mj − p_j) at m = argmax p, so the gradient of mean_i p_{i,m} f_i is
    # f_i p_{i,m} (δ_mj − p_{i,j}) / N; the cost carries none
    theta = torch.tensor([[0.3, -0.5, 1.1], [2.0, 0.0, -1.0]], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([0.7, -1.5], dtype=torch.float64, requires_grad=True)
    value = argmax_cost(F.softmax(theta, 1), f)
    value.backward()
    p, fn = F.softmax(theta.detach(), 1).numpy(), f.detach().numpy()
    m = [2, 0]
    assert float(value) == pytest.approx((p[0, 2] * fn[0] + p[1, 0] * fn[1]) / 2, rel=1e-12)
    exact = np.stack([fn[i] * p[i, m[i]] * (np.eye(3)[m[i]] - p[i]) / 2 for i in range(2)])
    torch.testing.assert_close(theta.grad, torch.from_numpy(exact))
    assert f.grad is None


def test_entropy_and_balance_terms_by_hand():
    from scipy.special import softmax
    from scipy.stats import entropy

    logits = torch.from_numpy(np.random.default_rng(0).normal(size=(6, 4)) * 2)
    p = softmax(logits.numpy(), axis=1)
    assert float(prediction_entropy(logits)) == pytest.approx(entropy(p, axis=1).mean(), rel=1e-12)
    assert float(balance_loss(logits)) == pytest.approx(-np.log(p.mean(0)).mean(), rel=1e-12)
    even = torch.log(torch.eye(4, dtype=torch.float64) * 0.97 + 0.01)  # one confident prediction per class
    assert float(balance_loss(even)) == pytest.approx(math.log(4), rel=1e-12)  # the minimum, log K
    assert float(balance_loss(even[[0, 0, 0, 0]])) > math.log(4) + 1  # all predictions in one class
    # confident beyond float32's softmax range: p̄ = (1, e^-200, e^-200) underflows, its log does not
    extreme = torch.tensor([[200.0, 0.0, 0.0], [200.0, 0.0, 0.0]])
    torch.testing.assert_close(balance_loss(extreme), torch.tensor(400 / 3))


@pytest.mark.parametrize("loss", ["ns", "minimax"])
def test_c_adversarial_term_sums_d_over_every_label(tmp_path, loss):
    """``recipe.c_gradient = "exact"``: Loss/C/adv = α mean_i Σ_k p_c(k | x_i) f(D(x_i, k)), with D and
    C evaluated here on the batch the C phase saw."""
    alpha = 0.4
    trainer, stats = _trainer(tmp_path, f"recipe.alpha={alpha}", f"recipe.loss={loss}", "recipe.c_gradient=exact")
    modules = trainer.recipe.modules
    c_inputs = []
    modules["C"].register_forward_hook(lambda m, a, out: c_inputs.append(a[0].detach().clone()))
    D, C = modules["D"], modules["C"]
    c_state = {k: v.clone() for k, v in C.state_dict().items()}
    trainer.train_step()
    x_u = c_inputs[1]  # D phase: C(x_u) for ŷ; C phase: C(x_u) first
    # phases D, C, G: D now is the D of the C phase (only its own phase steps it); C goes back to before its step
    C.load_state_dict(c_state)
    with torch.no_grad():
        p = F.softmax(C(x_u).class_logits, 1).double().numpy()  # (B, K)
        d = np.stack([D(x_u, torch.full((len(x_u),), k)).logits.double().numpy() for k in range(10)], 1)
    cost = -_softplus(d) if loss == "minimax" else _softplus(-d)
    assert stats["Loss/C/adv"][0] == pytest.approx(alpha * (p * cost).sum(1).mean(), rel=1e-5)


@pytest.mark.parametrize("loss", ["ns", "minimax"])
def test_one_step_smoke(tmp_path, loss):
    assert "triplegan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path, f"recipe.loss={loss}")
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    assert set(stats) >= {"Loss/D", "Loss/C", "Loss/C/adv", "Loss/C/R_L", "Loss/C/R_P", "Loss/G"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    changed = {n.split(".")[0] for n, p in trainer.recipe.modules.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"G", "D", "C"}
    assert trainer.generate(torch.randn(4, 8), torch.arange(4)).shape == (4, 1, 8, 8)


@pytest.mark.parametrize("loss", ["ns", "minimax"])
def test_losses_of_one_step_by_hand(tmp_path, loss):
    alpha, alpha_p = 0.3, 0.2
    trainer, stats = _trainer(tmp_path, f"recipe.alpha={alpha}", f"recipe.alpha_p={alpha_p}", f"recipe.loss={loss}")
    d_calls, c_calls, g_labels = [], [], []
    modules = trainer.recipe.modules
    modules["D"].register_forward_hook(lambda m, a, out: d_calls.append((a[1], out.logits.detach().double())))
    modules["C"].register_forward_hook(lambda m, a, out: c_calls.append((a[0], out.class_logits.detach().double())))
    modules["G"].register_forward_hook(lambda m, a, out: g_labels.append(a[1]))
    trainer.train_step()
    # D phase: D(x_l, y_l), D(x_u, ŷ), D(G(z, y), y); C phase: D(x_u, ŷ); G phase: D(G(z, y), y)
    (_, d_l), (_, d_u), (_, d_g), (y_hat, d_c), (_, d_gg) = d_calls
    # C: sampling ŷ in the D phase, then the C phase's C(x_u), C(x_l), C(G(z, y)); G: D, C, G phases
    _, (_, c_u), (x_l, c_l), (_, c_g) = c_calls
    y_gen_c = g_labels[1]
    sp = lambda t: _softplus(t.numpy())  # noqa: E731
    expected_d = sp(-d_l).mean() + alpha * sp(d_u).mean() + (1 - alpha) * sp(d_g).mean()
    assert stats["Loss/D"][0] == pytest.approx(expected_d, rel=1e-5)
    cost = -sp(d_c) if loss == "minimax" else sp(-d_c)  # f = log(1 - D) | -log D
    log_p = F.log_softmax(c_u, 1).numpy()[np.arange(len(y_hat)), y_hat.numpy()]
    adv = alpha * (cost * log_p).mean()
    assert stats["Loss/C/adv"][0] == pytest.approx(adv, rel=1e-5)
    y_l = _pool_labels(trainer, x_l)
    r_l = float(F.cross_entropy(c_l, y_l))
    r_p = float(F.cross_entropy(c_g, y_gen_c))
    assert stats["Loss/C/R_L"][0] == pytest.approx(r_l, rel=1e-5)
    assert stats["Loss/C/R_P"][0] == pytest.approx(r_p, rel=1e-5)
    assert stats["Loss/C"][0] == pytest.approx(adv + r_l + alpha_p * r_p, rel=1e-5)
    g_cost = -sp(d_gg) if loss == "minimax" else sp(-d_gg)
    assert stats["Loss/G"][0] == pytest.approx((1 - alpha) * g_cost.mean(), rel=1e-5)


def test_losses_with_the_authors_terms_by_hand(tmp_path):
    """``recipe.real_pseudo`` λ: D's real term (1 − λ) E_l + λ E over the batch's first half labelled
    by C's argmax, the fake pseudo pairs from the second half; ``c_gradient=argmax``: C's
    adversarial term α mean(max p_c · f(D(x, argmax p_c))); ``c_entropy``, ``c_balance``: C's
    terms on its unlabelled batch."""
    alpha, lam, ent, bal = 0.3, 0.7, 0.4, 0.2
    trainer, stats = _trainer(tmp_path, f"recipe.alpha={alpha}", f"recipe.real_pseudo={lam}", "recipe.alpha_p=0",
                              "recipe.c_gradient=argmax", f"recipe.c_entropy={ent}", f"recipe.c_balance={bal}")
    d_calls, c_calls = [], []
    modules = trainer.recipe.modules
    modules["D"].register_forward_hook(lambda m, a, out: d_calls.append((a[0], a[1], out.logits.detach().double())))
    modules["C"].register_forward_hook(lambda m, a, out: c_calls.append((a[0], out.class_logits.detach().double())))
    trainer.train_step()
    # D phase: C(x_c) to sample ŷ, D(x_l), D(x_c, ŷ), D(G(z, y), y), C(x_r), D(x_r, argmax); C phase: C(x_u),
    # D(x_u, argmax), C(x_l); G phase: D(G(z, y), y)
    (x_c, c_c), (x_r, c_r), (x_u, c_u), (x_l, c_l) = c_calls
    (_, _, d_l), (_, _, d_c), (_, _, d_g), (_, y_r, d_r), (_, y_a, d_a), _ = d_calls
    half = len(x_u) // 2
    assert len(x_r) == half and len(x_c) == len(x_u) - half
    assert torch.equal(y_r, c_r.argmax(1)) and torch.equal(y_a, c_u.argmax(1))
    sp = lambda t: _softplus(t.numpy())  # noqa: E731
    expected_d = (1 - lam) * sp(-d_l).mean() + lam * sp(-d_r).mean() + alpha * sp(d_c).mean() + (1 - alpha) * sp(
        d_g).mean()
    assert stats["Loss/D"][0] == pytest.approx(expected_d, rel=1e-5)
    p_u = F.softmax(c_u, 1).numpy()
    adv = alpha * (p_u.max(1) * sp(-d_a)).mean()  # ns: f = −log D
    assert stats["Loss/C/adv"][0] == pytest.approx(adv, rel=1e-5)
    y_l = _pool_labels(trainer, x_l)
    r_l = float(F.cross_entropy(c_l, y_l))
    entropy = -(p_u * np.log(p_u)).sum(1).mean()
    balance = -np.log(p_u.mean(0)).mean()
    assert stats["Loss/C"][0] == pytest.approx(adv + r_l + ent * entropy + bal * balance, rel=1e-5)


def test_pretraining_trains_c_alone(tmp_path):
    """``recipe.pretrain_steps`` = 2: the first two steps step C only (R_L and its entropy term);
    D's and G's weights and optimizer states stay untouched until the third step."""
    trainer, stats = _trainer(tmp_path, "recipe.pretrain_steps=2", "recipe.c_entropy=0.5")
    params = lambda name: [p.detach().clone() for p in trainer.recipe.modules[name].parameters()]  # noqa: E731
    d0, g0, c0 = params("D"), params("G"), params("C")
    for _ in range(2):
        trainer.train_step()
    assert all(torch.equal(a, b) for a, b in zip(d0, params("D")))
    assert all(torch.equal(a, b) for a, b in zip(g0, params("G")))
    assert not all(torch.equal(a, b) for a, b in zip(c0, params("C")))
    assert not trainer.optimizers["D"].state and not trainer.optimizers["G"].state
    assert len(stats["Loss/C"]) == 2 and not {"Loss/D", "Loss/G", "Loss/C/adv", "Loss/C/R_P"} & set(stats)
    trainer.train_step()
    assert not all(torch.equal(a, b) for a, b in zip(d0, params("D")))
    assert not all(torch.equal(a, b) for a, b in zip(g0, params("G")))
    assert len(stats["Loss/D"]) == len(stats["Loss/G"]) == len(stats["Loss/C/adv"]) == 1


def test_pseudo_loss_waits_for_pseudo_start(tmp_path):
    trainer, stats = _trainer(tmp_path, "recipe.pseudo_start=2")
    for _ in range(3):
        trainer.train_step()
    assert len(stats["Loss/C/R_P"]) == 1 and len(stats["Loss/C"]) == 3


def test_classifier_loss_falls_on_digits(tmp_path):
    # 50 steps, 100 labels of 8x8 digits, tiny nets: C's labelled CE R_L starts at ~log 10 = 2.30 and
    # falls (seeds 0-5: the mean of the last 10 steps is 1.22-1.47, 0.81-1.06 below the first 10)
    trainer, stats = _trainer(tmp_path, "optim.lr_d=2e-3", "optim.lr_g=2e-3", "recipe.lr_c=2e-3", "train.seed=0")
    for _ in range(50):
        trainer.train_step()
    ce = stats["Loss/C/R_L"]
    first, last = sum(ce[:10]) / 10, sum(ce[-10:]) / 10
    assert first == pytest.approx(math.log(10), abs=0.1)
    assert last < 1.7 and first - last > 0.6


def test_resume_is_exact_and_the_labelled_subset_fixed(tmp_path):
    n, k = 5, 2
    extra = ["recipe.num_labelled=30", "train.ema_decay=0.9", "recipe.pseudo_start=3"]
    full = train(_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)
    pool = Trainer(_cfg(tmp_path, *extra), str(tmp_path / "a")).recipe.pool
    assert torch.bincount(pool.y, minlength=10).tolist() == [3] * 10
    assert torch.equal(pool.indices, Trainer(_cfg(tmp_path, *extra), str(tmp_path / "b")).recipe.pool.indices)


def test_classifier_error_scores_c(tmp_path):
    result = train(_cfg(tmp_path, "train.steps=2", "train.run_name=c"))
    run = load_run(result.run_dir)
    test = Trainer(_cfg(tmp_path, "data.split=test", "data.limit=0"), str(tmp_path / "t")).dataset
    C = run.recipe.modules["C"].eval()
    with torch.no_grad():
        expected = float((C(test.x).class_logits.argmax(1) != test.y).double().mean())
    C.train()
    assert classifier_error(run, "test", batch_size=100) == pytest.approx(expected, abs=1e-12)


def test_classifier_average_of_c_is_scored(tmp_path):
    """``recipe.classifier_ema`` = β keeps an average of C (the trainer's EMA rule after step t:
    β_t·avg + (1 − β_t)·θ_t, β_t = min(β, (1 + t)/(10 + t)), recomputed here), and
    ``classifier_error`` scores it by default and C's last weights with ``use_ema=False``."""
    beta = 0.5
    trainer, _ = _trainer(tmp_path, f"recipe.classifier_ema={beta}", "train.ema_decay=0.9", "recipe.lr_c=5e-3")
    assert {name: ema.decay for name, ema in trainer.ema.items()} == {"G": 0.9, "C": beta}
    C = trainer.recipe.modules["C"]
    avg = [p.detach().clone() for p in C.parameters()]  # the average starts at C's initial weights
    for t in range(3):
        trainer.train_step()
        b = min(beta, (1 + t) / (10 + t))
        avg = [b * a + (1 - b) * p.detach() for a, p in zip(avg, C.parameters())]
    for got, want in zip(trainer.ema["C"].module.parameters(), avg):
        torch.testing.assert_close(got, want)
    run_dir = train(_cfg(tmp_path, f"recipe.classifier_ema={beta}", "recipe.lr_c=5e-3", "train.steps=3",
                         "train.run_name=avg")).run_dir
    run = load_run(run_dir)
    test = Trainer(_cfg(tmp_path, "data.split=test", "data.limit=0"), str(tmp_path / "t")).dataset
    with torch.no_grad():
        averaged, last = run.ema["C"].eval()(test.x).class_logits, run.recipe.modules["C"].eval()(test.x).class_logits
    assert not torch.allclose(averaged, last)  # two different classifiers: the test can tell which was scored
    error = lambda logits: float((logits.argmax(1) != test.y).double().mean())  # noqa: E731
    assert classifier_error(run, "test", batch_size=100) == pytest.approx(error(averaged), abs=1e-12)
    assert classifier_error(run, "test", batch_size=100, use_ema=False) == pytest.approx(error(last), abs=1e-12)
    assert set(Trainer(_cfg(tmp_path), str(tmp_path / "off")).ema) == {"G"}  # default: C is not averaged


@pytest.mark.parametrize("extra, match", [
    ([], "model.conditional=true"),
    (COND + ["recipe.classifier_ema=1"], "recipe.classifier_ema"),
    (COND + ["recipe.c_gradient=sampled"], "recipe.c_gradient"),
    (COND + ["recipe.real_pseudo=1.5"], "recipe.real_pseudo"),
    (COND + ["recipe.real_pseudo=0.5", "train.batch_size=1"], "train.batch_size >= 2"),
    (COND + ["recipe.c_entropy=-0.1"], "recipe.c_entropy"),
    (COND + ["recipe.pretrain_steps=-1"], "recipe.pretrain_steps"),
    (COND + ["model.d_class_head=10"], "model.d_class_head"),
    (COND + ["model.d_projection=false"], "model.d_projection=true"),
    (COND + ["recipe.alpha=1.5"], "recipe.alpha"),
    (COND + ["recipe.loss=hinge"], "recipe.loss"),
    (COND + ["recipe.num_labelled=7"], "multiple of 10"),
    (COND + ["model.d_arch=patchgan"], "model.d_arch=default"),
])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "triplegan", *extra), str(tmp_path / "r"))


def test_mnist_preset_trains(tmp_path, real_data):
    cfg = load_preset("mnist-triplegan", [f"data.path={real_data}", "data.download=false", "data.limit=200",
                                          "recipe.num_labelled=10", "model.g_width=16", "model.d_width=16",
                                          "train.batch_size=16", "train.steps=2", "train.progress=false",
                                          "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "triplegan" and cfg.model.conditional
    result = train(cfg)
    assert result.steps == 2 and result.completed


@pytest.mark.parametrize("pretrain, warns", [(3, True), (5, True), (2, False)])
def test_warns_when_a_run_ends_inside_pretraining(tmp_path, pretrain, warns):
    """train.steps=3 with pretrain_steps >= 3 would never train G: a PretrainingOnlyWarning; sampling the
    saved run (no training data) does not warn again."""
    cfg = _cfg(tmp_path, "train.steps=3", f"recipe.pretrain_steps={pretrain}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(cfg, str(tmp_path / "r"))
        RECIPES.get("triplegan")(cfg, DataInfo(sample_shape=(1, 8, 8), num_classes=10))  # a saved run's sampling
    found = [w for w in caught if issubclass(w.category, PretrainingOnlyWarning)]
    assert len(found) == (1 if warns else 0)
    if warns:
        assert f"train.steps=3 <= recipe.pretrain_steps={pretrain}" in str(found[0].message)
