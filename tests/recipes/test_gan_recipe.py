import pytest
import torch

from gankit.errors import ConfigError
from gankit.losses import LOSSES
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def _count_forwards(module):
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("reuse, n_critic, expected", [(True, 1, 1), (False, 1, 2), (True, 3, 3), (False, 3, 4)])
def test_reuse_fake_saves_one_generator_forward(tmp_path, reuse, n_critic, expected):
    cfg = tiny("ring-gan", tmp_path, f"recipe.reuse_fake={str(reuse).lower()}", f"recipe.n_critic={n_critic}")
    trainer = Trainer(cfg, str(tmp_path / "r"))
    calls = _count_forwards(trainer.recipe.modules["G"])
    trainer.train_step()
    assert len(calls) == expected


def test_g_step_with_reuse_gets_the_gradient_of_the_d_step_fake(tmp_path):
    """With reuse, the G update equals one computed by hand from the D step's z and the
    updated D: grad_G of g_loss(D_new(G(z)))."""
    cfg = tiny("ring-gan", tmp_path, "train.ema_decay=0", "optim.fused=false")
    trainer = Trainer(cfg, str(tmp_path / "r"))
    G, D = trainer.recipe.modules["G"], trainer.recipe.modules["D"]
    rng = torch.get_rng_state()
    z = torch.randn(cfg.train.batch_size, cfg.model.z_dim)  # the z the D phase will draw
    torch.set_rng_state(rng)
    grads = {}
    opt_g = trainer.optimizers["G"]
    original_step = opt_g.step

    def capture(*a, **k):
        grads.update({n: p.grad.clone() for n, p in G.named_parameters()})
        return original_step(*a, **k)

    opt_g.step = capture
    g_before = {n: p.detach().clone() for n, p in G.named_parameters()}
    trainer.train_step()
    # reference: G as it was (unchanged by the D step), D after its update
    ref_g = type(G)(G.z_dim, G.sample_shape, cfg.model.g_width, cfg.model.mlp_layers)
    ref_g.load_state_dict(g_before)
    loss = LOSSES.get(cfg.recipe.loss).g_loss(D(ref_g(z)).logits)
    ref = torch.autograd.grad(loss, list(ref_g.parameters()))
    for (name, _), r in zip(G.named_parameters(), ref):
        torch.testing.assert_close(grads[name], r)


@pytest.mark.parametrize("reuse", [True, False])
def test_g_steps_updates_g_on_fresh_fakes(tmp_path, reuse):
    """recipe.g_steps=2: one D update then two G updates per step; with reuse the first G update
    takes the D step's fake and the second draws a new one (G forwards 2 with reuse, 3 without)."""
    cfg = tiny("ring-gan", tmp_path, "recipe.g_steps=2", f"recipe.reuse_fake={str(reuse).lower()}")
    trainer = Trainer(cfg, str(tmp_path / "r"))
    phases = []
    original = trainer.recipe.accumulate_gradients
    trainer.recipe.accumulate_gradients = lambda phase, batch, ctx: (phases.append(phase), original(phase, batch, ctx))
    calls = _count_forwards(trainer.recipe.modules["G"])
    trainer.train_step()
    assert phases == ["D", "G", "G"]
    assert len(calls) == (2 if reuse else 3)
    assert trainer.optimizers["G"].state_dict()["state"][0]["step"].item() == 2  # Adam stepped twice
    assert trainer.optimizers["D"].state_dict()["state"][0]["step"].item() == 1


def test_g_steps_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="g_steps"):
        tiny("ring-gan", tmp_path, "recipe.g_steps=0")
