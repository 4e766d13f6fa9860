"""Recipe unrolled (Metz et al. 2017): k = 0 is the gan recipe bit for bit; for k >= 1 the
G gradient matches unrolled SGD steps written out by hand on the MLP's weight matrices."""

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import ConfigError
from gankit.recipes import StepContext
from gankit.runs import train
from gankit.train.checkpoint import load_checkpoint
from gankit.train.loader import Batch
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def _module_and_optim_tensors(run_dir):
    tensors, _ = load_checkpoint(f"{run_dir}/checkpoint.safetensors")
    return {k: v for k, v in tensors.items() if k.split("/")[0] in ("modules", "optim", "ema")}


@pytest.mark.parametrize("extra", [[], ["recipe.n_critic=2", "recipe.reuse_fake=false", "recipe.pack=2"]])
def test_zero_unroll_steps_is_the_gan_recipe(tmp_path, extra):
    n = 7
    gan = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=gan", *extra))
    unr = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=unr", "recipe.name=unrolled",
                     "recipe.unroll_steps=0", *extra))
    a, b = _module_and_optim_tensors(gan.run_dir), _module_and_optim_tensors(unr.run_dir)
    assert sorted(a) == sorted(b) and any(k.startswith("modules/G") for k in a)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=f"{key} differs")


def test_batchnorm_discriminator_is_refused(tmp_path):
    cfg = tiny("ring-gan", tmp_path, "recipe.name=unrolled", "model.d_norm=batch")
    with pytest.raises(ConfigError, match="d_norm"):
        Trainer(cfg, str(tmp_path / "r"))


def _by_hand_d(weights, x):
    """The MLP discriminator (Linear + LeakyReLU(0.2) per hidden layer, linear head)."""
    *hidden, (wh, bh) = weights
    h = x
    for w, b in hidden:
        h = F.leaky_relu(h @ w.T + b, 0.2)
    return (h @ wh.T + bh).squeeze(1)


def _g_grads_by_hand(G, D, x, z, k, lr):
    lin = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    ws = [t.detach().clone().requires_grad_(True) for m in lin for t in (m.weight, m.bias)]
    fake = G(z)
    for _ in range(k):
        weights = list(zip(ws[::2], ws[1::2]))
        d_loss = F.softplus(-_by_hand_d(weights, x)).mean() + F.softplus(_by_hand_d(weights, fake)).mean()
        grads = torch.autograd.grad(d_loss, ws, create_graph=True)
        ws = [w - lr * g for w, g in zip(ws, grads)]
    g_loss = F.softplus(-_by_hand_d(list(zip(ws[::2], ws[1::2])), fake)).mean()
    return torch.autograd.grad(g_loss, list(G.parameters()))


def _recipe_g_grads(trainer, x, z):
    recipe = trainer.recipe
    G = recipe.modules["G"]
    G.zero_grad(set_to_none=True)
    ctx = StepContext(0, lambda *_: None, lambda loss: loss.backward())
    loss = recipe.g_loss(Batch(x, None), G(z), None, ctx)
    ctx.backward(loss)
    return [p.grad.clone() for p in G.parameters()]


def test_unrolled_g_gradient_matches_hand_computation(tmp_path):
    k, lr = 3, 0.5
    trainer = Trainer(tiny("ring-gan", tmp_path, "recipe.name=unrolled", f"recipe.unroll_steps={k}",
                           f"recipe.unroll_lr={lr}"), str(tmp_path / "r"))
    recipe = trainer.recipe
    D = recipe.modules["D"]
    for _ in range(3):  # move away from the initialisation
        trainer.train_step()
    D.requires_grad_(False)  # as in the trainer's G phase
    recipe.modules["G"].requires_grad_(True)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(32, 2, generator=gen)
    z = torch.randn(32, recipe.z_dim, generator=gen)

    got = _recipe_g_grads(trainer, x, z)
    want = _g_grads_by_hand(recipe.modules["G"], D, x, z, k, lr)
    plain = _g_grads_by_hand(recipe.modules["G"], D, x, z, 0, lr)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)
    # the look-ahead changes G's gradient well beyond the tolerance used above
    assert any(not torch.allclose(w, p, rtol=1e-2, atol=1e-4) for w, p in zip(want, plain))
    assert all(not p.requires_grad or p.grad is None for p in D.parameters())  # D itself untouched


@pytest.mark.parametrize("extra", [["model.d_spectral_norm=true", "recipe.loss=hinge"],
                                   ["model.d_minibatch=discrimination"], ["recipe.fm_weight=1"],
                                   ["model.d_norm=layer", "recipe.label_smoothing=random"]])
def test_unrolled_runs_with_d_options(tmp_path, extra):
    trainer = Trainer(tiny("ring-gan", tmp_path, "recipe.name=unrolled", "recipe.unroll_steps=2", *extra),
                      str(tmp_path / "r"))
    before = {n: p.detach().clone() for n, p in trainer.recipe.modules.named_parameters()}
    trainer.train_step()
    after = dict(trainer.recipe.modules.named_parameters())
    assert all(torch.isfinite(p).all() for p in after.values())
    assert {n.split(".")[0] for n, p in after.items() if not torch.equal(p, before[n])} == {"G", "D"}
