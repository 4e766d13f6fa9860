"""Recipe cogan (Liu & Tuzel 2016): shared layers are literally shared and get the sum of
both domains' gradients, one step changes every head/stem/shared part, batches are split
into unpaired halves, correspondence emerges only with sharing, exact resume, pair grids, the pair-mismatch
measure and the mnist-cogan preset."""

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from gankit.data.domains import edges
from gankit.errors import ConfigError
from gankit.presets import load_preset
from gankit.recipes import RECIPES
from gankit.recipes.base import StepContext
from gankit.recipes.coupled import pair_correspondence, pair_mismatch
from gankit.runs import load_run, resume, train
from gankit.runs.artifacts import save_samples
from gankit.train.loader import Batch
from gankit.train.trainer import Trainer
from tests.recipes.test_new_recipes import tiny_recipe
from tests.train.test_resume import _assert_identical

FAMILIES = {"dcgan": ["model.arch=dcgan"], "mlp": ["model.arch=mlp", "model.mlp_layers=2"]}


def _trainer(tmp_path, *extra, preset="digits-dcgan"):
    trainer = Trainer(tiny_recipe(preset, tmp_path, "cogan", *extra), str(tmp_path / "r"))
    stats = {}
    trainer.reporter = SimpleNamespace(
        report=lambda k, v: stats.setdefault(k, []).append(float(torch.as_tensor(v).detach())))
    return trainer, stats


def _part(name: str) -> str:
    """``G.separate.A.0.0.weight -> G.separate.A``, ``D.shared.0.0.weight -> D.shared``."""
    parts = name.split(".")
    return ".".join(parts[:3] if parts[1] == "separate" else parts[:2])


@pytest.mark.parametrize("family", FAMILIES)
def test_one_step_smoke(tmp_path, family):
    assert "cogan" in RECIPES.names()
    trainer, stats = _trainer(tmp_path, *FAMILIES[family])
    named = dict(trainer.recipe.modules.named_parameters())
    before = {n: p.detach().clone() for n, p in named.items()}
    trainer.train_step()
    assert set(stats) >= {"Loss/D/A", "Loss/D/B", "Loss/D", "Loss/G/A", "Loss/G/B", "Loss/G"}
    assert all(math.isfinite(v) for vs in stats.values() for v in vs)
    parts = {_part(n) for n in named}
    changed = {_part(n) for n, p in named.items() if not torch.equal(p, before[n])}
    assert parts == changed == {"G.shared", "G.separate.A", "G.separate.B", "D.separate.A", "D.separate.B", "D.shared"}
    z = torch.randn(5, trainer.recipe.z_dim)
    assert trainer.generate(z).shape == (5, *trainer.dataset.sample_shape)


@pytest.mark.parametrize("family", FAMILIES)
def test_shared_layers_are_the_same_modules(tmp_path, family):
    trainer, _ = _trainer(tmp_path, *FAMILIES[family])
    G, D = trainer.recipe.modules["G"], trainer.recipe.modules["D"]
    n = len(G.layers("A"))
    assert G.shared_layers == D.shared_layers == n - 1  # default -1: all but one layer
    for i in range(n):
        shared_g, shared_d = i < n - 1, i >= 1  # G: first layers shared; D: last layers shared
        assert (G.layers("A")[i] is G.layers("B")[i]) == shared_g
        assert (D.layers("A")[i] is D.layers("B")[i]) == shared_d
        pa, pb = list(G.layers("A")[i].parameters()), list(G.layers("B")[i].parameters())
        assert all((a is b) == shared_g for a, b in zip(pa, pb)) and pa
    params = list(trainer.recipe.modules.parameters())
    assert len(params) == len({id(p) for p in params})  # each shared parameter stored (and stepped) once


def _ns_d(real_logits, fake_logits):  # -log σ(real) - log(1 - σ(fake)), written out
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def _grads(module):
    return {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("phase", ["D", "G"])
def test_shared_parameters_get_the_sum_of_both_domains_gradients(tmp_path, phase):
    trainer, _ = _trainer(tmp_path)
    recipe = trainer.recipe
    G, D = recipe.modules["G"], recipe.modules["D"]
    x = trainer.loader.next().x  # (16, 1, 8, 8)
    xa, xb = x[:8], -x[8:]  # domain B = negative (the recipe's default)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        z = torch.randn(8, recipe.z_dim)

    def domain_loss(name, real):
        fake = G(z, domain=name)  # G_A or G_B on its own
        if phase == "D":
            return _ns_d(D(real, domain=name).logits, D(fake.detach(), domain=name).logits)
        return F.softplus(-D(fake, domain=name).logits).mean()

    module = D if phase == "D" else G
    per_domain = []
    for name, real in (("A", xa), ("B", xb)):
        recipe.modules.zero_grad(set_to_none=True)
        domain_loss(name, real).backward()
        per_domain.append(_grads(module))
    recipe.modules.zero_grad(set_to_none=True)
    with torch.random.fork_rng():
        torch.manual_seed(3)  # the recipe draws the same z
        ctx = StepContext(0, lambda *_: None, lambda loss: loss.backward())
        recipe.accumulate_gradients(phase, Batch(x), ctx)
    joint = _grads(module)
    shared = [n for n in joint if n.startswith("shared.")]
    assert shared
    for n in shared:  # a shared parameter gets gradient from both losses: their sum
        assert per_domain[0][n].abs().sum() > 0 and per_domain[1][n].abs().sum() > 0
        torch.testing.assert_close(joint[n], per_domain[0][n] + per_domain[1][n])
    for i, name in enumerate("AB"):  # a separate part only from its own domain's loss
        own = [n for n in joint if n.startswith(f"separate.{name}.")]
        assert own and all(n not in per_domain[1 - i] for n in own)
        for n in own:
            torch.testing.assert_close(joint[n], per_domain[i][n])


def test_batches_split_into_unpaired_halves(tmp_path):
    x = torch.rand(7, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1  # odd: the last is left out
    neg, _ = _trainer(tmp_path)
    xa, xb = neg.recipe.split_domains(x)
    torch.testing.assert_close(xa, x[:3], rtol=0, atol=0)
    torch.testing.assert_close(xb, -x[3:6], rtol=0, atol=0)
    edge, _ = _trainer(tmp_path, "recipe.domain_b=edges")
    xa, xb = edge.recipe.split_domains(x)
    torch.testing.assert_close(xa, x[:3], rtol=0, atol=0)
    torch.testing.assert_close(xb, edges(x[3:6]), rtol=0, atol=0)


def _pair_correlation(trainer) -> float:
    """Mean over pairs of <a_i, -b_i> / mean |a_i||b_i| with a, b the batch-centred G_A(z), G_B(z)."""
    z = torch.randn(512, trainer.recipe.z_dim, generator=torch.Generator().manual_seed(123))
    xa, xb = trainer.recipe.sample_pair(trainer.sampling_nets(use_ema=False), z)
    a, b = xa.flatten(1), -xb.flatten(1)
    a, b = a - a.mean(0), b - b.mean(0)
    return float((a * b).sum(1).mean() / (a.norm(dim=1) * b.norm(dim=1)).mean())


def test_shared_layers_make_corresponding_pairs(tmp_path):
    # domain B = -x: with shared layers G_B(z) ≈ -G_A(z) after 50 steps on 8x8 digits. Seeds 0-9:
    # shared 0.83-0.94; unshared -0.29-0.33 (independent nets correlate a little through |z| alone)
    extra = ["model.g_width=16", "model.d_width=16", "train.batch_size=32", "optim.lr_g=1e-3", "optim.lr_d=1e-3",
             "train.seed=0"]
    corr = {}
    for shared in (-1, 0):
        trainer, _ = _trainer(tmp_path, *extra, f"recipe.shared_layers={shared}")
        for _ in range(50):
            trainer.train_step()
        corr[shared] = _pair_correlation(trainer)
    assert corr[-1] > 0.7
    assert corr[-1] - corr[0] > 0.3


@pytest.mark.parametrize("extra, match", [
    (["model.conditional=true"], "model.conditional=false"),
    (["recipe.domain_b=rotate"], "unknown domain transform 'rotate'"),
    (["recipe.shared_layers=2"], r"recipe.shared_layers must be in \[-2, 1\]"),
    (["recipe.shared_layers=-3"], r"recipe.shared_layers must be in \[-2, 1\]"),
    (["model.d_arch=patchgan"], "model.d_arch=default"),
    (["train.batch_size=1", "data.limit=8"], "train.batch_size must be >= 2"),
])
def test_config_errors(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        Trainer(tiny_recipe("digits-dcgan", tmp_path, "cogan", *extra), str(tmp_path / "r"))


def test_edges_need_images(tmp_path):
    with pytest.raises(ConfigError, match="domain_b=edges needs images"):
        Trainer(tiny_recipe("ring-gan", tmp_path, "cogan", "recipe.domain_b=edges"), str(tmp_path / "r"))


def test_resume_is_exact(tmp_path):
    n, k = 6, 3
    extra = ["recipe.domain_b=edges", "recipe.n_critic=2", "train.ema_decay=0.9"]
    full = train(tiny_recipe("digits-dcgan", tmp_path, "cogan", f"train.steps={n}", "train.run_name=full", *extra))
    part = train(tiny_recipe("digits-dcgan", tmp_path, "cogan", f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_pair_grid_interleaves_the_domains(tmp_path):
    result = train(tiny_recipe("digits-dcgan", tmp_path, "cogan", "train.steps=2", "train.run_name=p",
                               "train.ema_decay=0.9"))
    run = load_run(result.run_dir)
    grid = run.pair_grid(3, seed=4)  # (6, 1, 8, 8): A0 B0 A1 B1 A2 B2
    assert grid.shape == (6, 1, 8, 8)
    torch.testing.assert_close(grid[0::2], run.sample(3, seed=4))  # domain A = what `gankit sample` draws
    G = run.nets()["G"].eval()
    z = run.recipe.latent(3, torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(grid[1::2], G(z, domain="B"))  # EMA G in eval mode
    save_samples(run, grid, str(tmp_path / "pairs.png"), nrow=2)
    assert (tmp_path / "pairs.png").stat().st_size > 0
    plain = load_run(train(tiny_recipe("digits-dcgan", tmp_path, "gan", "train.steps=1", "train.run_name=g")).run_dir)
    with pytest.raises(ConfigError, match=r"domain pairs need a run of a two-domain recipe \(cogan\)"):
        plain.pair_grid(3, seed=4)


def test_pair_mismatch_by_hand():
    a = torch.rand(5, 1, 3, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    noise = torch.randn(5, 1, 3, 3, generator=torch.Generator().manual_seed(1))
    assert pair_mismatch(a, -a, lambda x: -x) == 0.0  # every B is its partner's negative
    b = -a + 0.3 * noise
    an, bn = a.numpy().reshape(5, -1), b.numpy().reshape(5, -1)
    matched = ((-an - bn) ** 2).sum(1).mean()
    shifted = ((-an - bn[[1, 2, 3, 4, 0]]) ** 2).sum(1).mean()  # b_{i+1 mod 5}
    assert pair_mismatch(a, b, lambda x: -x) == pytest.approx(matched / shifted, rel=1e-6)
    e = edges(a)
    assert pair_mismatch(a, e, edges) == 0.0
    with pytest.raises(ConfigError, match="n >= 2 pairs"):
        pair_mismatch(a[:1], -a[:1], lambda x: -x)
    with pytest.raises(ConfigError, match="same shape"):
        pair_mismatch(a, -a[:4], lambda x: -x)


def test_pair_correspondence_of_a_run(tmp_path):
    result = train(tiny_recipe("digits-dcgan", tmp_path, "cogan", "train.steps=2", "train.run_name=p",
                               "recipe.domain_b=edges"))
    run = load_run(result.run_dir)
    grid = run.pair_grid(6, seed=4)  # the same latents, drawn in one batch
    expected = pair_mismatch(grid[0::2], grid[1::2], edges)
    assert pair_correspondence(run, 6, seed=4, batch=4) == pytest.approx(expected, rel=1e-5)
    plain = load_run(train(tiny_recipe("digits-dcgan", tmp_path, "gan", "train.steps=1", "train.run_name=g")).run_dir)
    with pytest.raises(ConfigError, match=r"domain pairs need a run of a two-domain recipe \(cogan\)"):
        pair_correspondence(plain, 6, seed=4)


def test_mnist_preset_trains(tmp_path, real_data):
    cfg = load_preset("mnist-cogan", [f"data.path={real_data}", "data.download=false", "data.limit=64",
                                      "train.batch_size=16", "train.steps=2", "train.progress=false",
                                      "train.sample_every=0", f"train.out_dir={tmp_path}", "train.run_name=m"])
    assert cfg.recipe.name == "cogan" and cfg.recipe.domain_b == "edges"
    result = train(cfg)
    assert result.steps == 2 and result.completed
