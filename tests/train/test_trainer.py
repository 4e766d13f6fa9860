import json

import pytest
import torch

from gankit.data.base import Dataset
from gankit.recipes import RECIPES
from gankit.train.ema import EMA
from gankit.train.loader import EpochLoader
from gankit.train.phases import Phase
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def test_n_critic_phases_and_requires_grad(tmp_path):
    """k D updates per G update, each on a fresh batch, with grads only on the stepped net."""
    cfg = tiny("ring-gan", tmp_path, "recipe.n_critic=3", "train.steps=2", "recipe.reuse_fake=false")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    calls = []
    original = trainer.recipe.accumulate_gradients

    def spy(phase, batch, ctx):
        g_grad = all(p.requires_grad for p in trainer.recipe.modules["G"].parameters())
        d_grad = all(p.requires_grad for p in trainer.recipe.modules["D"].parameters())
        calls.append((phase, g_grad, d_grad, batch.x[0].clone()))
        original(phase, batch, ctx)

    trainer.recipe.accumulate_gradients = spy
    trainer.train_step()
    trainer.train_step()
    assert [c[0] for c in calls] == ["D", "D", "D", "G"] * 2
    assert all(c[1:3] == (False, True) for c in calls if c[0] == "D")
    assert all(c[1:3] == (True, False) for c in calls if c[0] == "G")
    firsts = torch.stack([c[3] for c in calls])
    assert torch.unique(firsts, dim=0).shape[0] == len(calls)  # every update drew a new batch
    assert trainer.step == 2


def test_only_the_phase_network_changes(tmp_path):
    cfg = tiny("ring-gan", tmp_path, "train.ema_decay=0")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    g0 = [p.clone() for p in trainer.recipe.modules["G"].parameters()]
    d0 = [p.clone() for p in trainer.recipe.modules["D"].parameters()]
    trainer.phases = [trainer.phases[0]]  # D only
    trainer.train_step()
    assert all(torch.equal(a, b) for a, b in zip(g0, trainer.recipe.modules["G"].parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.recipe.modules["D"].parameters()))


def test_interval_phase_runs_on_schedule():
    p = Phase("reg", ("D",), "D", interval=4)
    assert [s for s in range(10) if p.runs_at(s)] == [0, 4, 8]
    with pytest.raises(ValueError):
        Phase("x", ("D",), "D", repeats=0)


def test_weight_clipping_is_applied_after_every_d_step(tmp_path):
    cfg = tiny("ring-gan", tmp_path, "recipe.loss=wgan", "recipe.clip_value=0.01", "optim.lr_d=0.1")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    trainer.train_step()
    d_params = torch.cat([p.flatten() for p in trainer.recipe.modules["D"].parameters()])
    assert d_params.abs().max().item() == pytest.approx(0.01)


def test_ema_update_matches_formula():
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 2)
    ema = EMA(net, decay=0.9)
    start = [p.clone() for p in ema.module.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    ema.update(step=100)  # beta = min(0.9, 101/110) = 0.9
    for e, s, p in zip(ema.module.parameters(), start, net.parameters()):
        torch.testing.assert_close(e, 0.9 * s + 0.1 * p)
    ema.update(step=0)  # warm-up: beta = min(0.9, 1/10) = 0.1
    prev = [p.clone() for p in ema.module.parameters()]
    ema.update(step=0)
    for e, s, p in zip(ema.module.parameters(), prev, net.parameters()):
        torch.testing.assert_close(e, 0.1 * s + 0.9 * p)


def test_loader_covers_each_epoch_once_and_reshuffles():
    ds = Dataset("t", torch.arange(10.0).reshape(10, 1), torch.arange(10))
    loader = EpochLoader(ds, batch_size=3, seed=5, device=torch.device("cpu"))
    epoch0 = torch.cat([loader.next().y for _ in range(3)])
    assert len(set(epoch0.tolist())) == 9  # 3 full batches, last example dropped
    epoch1 = torch.cat([loader.next().y for _ in range(3)])
    assert not torch.equal(epoch0, epoch1)
    state = loader.state_dict()
    nxt = loader.next().y
    other = EpochLoader(ds, batch_size=3, seed=0, device=torch.device("cpu"))
    other.load_state_dict(state)
    torch.testing.assert_close(other.next().y, nxt)


def test_stats_jsonl_records(tmp_path):
    from gankit.runs import train

    result = train(tiny("ring-gan", tmp_path, "train.steps=4", "train.log_every=2", "train.run_name=s"))
    lines = [json.loads(x) for x in open(f"{result.run_dir}/stats.jsonl")]
    assert [x["step"] for x in lines] == [2, 4]
    assert {"Loss/D", "Loss/G", "D/real", "D/fake"} <= set(lines[0])
    cfg = json.load(open(f"{result.run_dir}/config.json"))
    assert cfg["train"]["steps"] == 4 and cfg["recipe"]["name"] == "gan"


def test_phase_track_keeps_graph_for_a_later_phase(tmp_path):
    """A recipe can declare modules whose graph survives into a later phase (e.g. reusing
    the D step's fake batch for the G step) without the loop knowing why."""

    class Reuse(RECIPES.get("gan")):
        def phases(self):
            return [Phase("D", ("D",), "D", track=("G",)), Phase("G", ("G",), "G")]

        def accumulate_gradients(self, phase, batch, ctx):
            G, D = self.modules["G"], self.modules["D"]
            if phase == "D":
                self.fake = G(torch.randn(batch.x.shape[0], self.z_dim))
                assert self.fake.requires_grad
                ctx.backward(self.loss.d_loss(D(batch.x).logits, D(self.fake.detach()).logits))
            else:
                ctx.backward(self.loss.g_loss(D(self.fake).logits))

    cfg = tiny("ring-gan", tmp_path)
    trainer = Trainer(cfg, str(tmp_path / "run"))
    trainer.recipe.__class__ = Reuse
    trainer.phases = trainer.recipe.phases()
    g0 = [p.clone() for p in trainer.recipe.modules["G"].parameters()]
    trainer.train_step()
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.recipe.modules["G"].parameters()))


def test_amp_on_cpu_uses_bfloat16_autocast(tmp_path):
    cfg = tiny("digits-dcgan", tmp_path, "train.amp=true")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    seen = []
    D = trainer.recipe.modules["D"]
    D.register_forward_hook(lambda m, i, o: seen.append(o.logits.dtype))
    d0 = [p.clone() for p in D.parameters()]
    trainer.train_step()
    assert torch.bfloat16 in seen
    assert all(p.dtype == torch.float32 for p in D.parameters())  # master weights stay fp32
    assert any(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))
    assert all(torch.isfinite(p).all() for p in D.parameters())
