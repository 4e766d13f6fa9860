"""Recipe ``tabgan``: G's output activations (tanh, Gumbel-softmax with masked modes) against a
hand-written reference, samples as the Gumbel-max of G's logits, the WGAN-GP critic loss by hand,
refusals, CSV samples with the original column types (and ``--condition``), exact resume."""

import csv
import math

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.errors import ConfigError
from gankit.losses.penalties import gradient_penalty
from gankit.presets import load_preset
from gankit.recipes import RECIPES, DataInfo
from gankit.runs import load_run, resume, train
from tests.train.test_resume import _assert_identical

TINY = ["model.z_dim=4", "model.g_dims=[16]", "model.d_dims=[16]", "train.batch_size=20", "train.log_every=1",
        "train.checkpoint_every=0", "train.progress=false", "recipe.max_modes=3"]


def _csv(tmp_path, n=60):
    rng = np.random.default_rng(0)
    path = tmp_path / "t.csv"
    with open(path, "w") as fh:
        fh.write("age,score,group\n")
        for i in range(n):
            fh.write(f"{int(rng.integers(20, 60))},{rng.normal():.4f},{'abc'[i % 3]}\n")
    return path


def _cfg(tmp_path, *extra):
    path = _csv(tmp_path)
    return load_preset("diabetes-tabgan", [*TINY, "data.name=csv", f"data.path={path}",
                                           "data.columns=age:continuous,score:continuous,group:categorical",
                                           f"train.out_dir={tmp_path}", *extra])


def _recipe(tmp_path, *extra):
    from gankit.data import build_dataset

    cfg = _cfg(tmp_path, *extra)
    ds = build_dataset(cfg.data)
    info = DataInfo(ds.sample_shape, 0, len(ds), ds, fields=ds.field_specs(), meta=ds.meta)
    return RECIPES.get("tabgan")(cfg, info)


def test_activation_is_tanh_and_gumbel_softmax_with_masked_modes(tmp_path):
    recipe = _recipe(tmp_path)
    enc = recipe.encoder
    raw = torch.randn(5, enc.width)
    torch.manual_seed(3)
    got = recipe.activate(raw)
    torch.manual_seed(3)  # reference: tanh, then torch's Gumbel-softmax block by block, masked slots at -inf
    want = []
    for s in enc.spans:
        block = raw[:, s.start: s.start + s.width].clone()
        if s.kind == "alpha":
            want.append(torch.tanh(block))
            continue
        block[:, s.valid:] = -math.inf
        gumbel = -torch.empty_like(block).exponential_().log()
        want.append(torch.softmax((block + gumbel) / 0.2, dim=1))
    torch.testing.assert_close(got, torch.cat(want, dim=1))
    assert torch.all(got[:, enc.mode_mask()] == 0)


def test_samples_are_the_gumbel_max_of_g_logits(tmp_path):
    recipe = _recipe(tmp_path)
    nets = dict(recipe.modules.items())
    z = recipe.latent(6, torch.Generator().manual_seed(0))
    rows = recipe.generate_rows(nets, z)
    k = recipe.cfg.model.z_dim + recipe.sampler.width
    with torch.no_grad():
        raw = nets["G"](z[:, :k])
    u = z[:, k:]
    for s in recipe.encoder.spans:
        if s.kind == "alpha":
            torch.testing.assert_close(rows[:, s.start], torch.tanh(raw[:, s.start]))
        else:
            scores = raw[:, s.start: s.start + s.valid] - torch.log(-torch.log(u[:, s.start: s.start + s.valid]))
            assert torch.equal(rows[:, s.start: s.start + s.width].argmax(1), scores.argmax(1))
            assert torch.equal(rows[:, s.start: s.start + s.width].sum(1), torch.ones(6))


def test_critic_loss_is_wgan_gp_on_packed_rows(tmp_path):
    recipe = _recipe(tmp_path, "recipe.pack=5")
    D = recipe.modules["D"]
    D.eval()  # no dropout: the same D in both computations
    real = torch.randn(20, recipe.encoder.width + recipe.sampler.width)
    fake = torch.randn_like(real)
    packed_r, packed_f = real.reshape(4, -1), fake.reshape(4, -1)  # 5 consecutive rows per D input
    torch.testing.assert_close(recipe._critic(real[:, :recipe.encoder.width], real[:, recipe.encoder.width:]),
                               D(packed_r))
    eps = torch.rand(4, generator=torch.Generator().manual_seed(1))
    x_hat = (eps[:, None] * packed_r + (1 - eps[:, None]) * packed_f).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat)
    want = ((grad.norm(dim=1) - 1) ** 2).mean()
    got = gradient_penalty(D, packed_r, packed_f, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(got, want)


def test_refusals(tmp_path):
    with pytest.raises(ConfigError, match="not a multiple of recipe.pack"):
        _recipe(tmp_path, "train.batch_size=25")
    with pytest.raises(ConfigError, match="model.arch=tabular"):
        load_preset("diabetes-tabgan", ["model.arch=mlp"])


def test_needs_a_table(tmp_path):
    cfg = _cfg(tmp_path)
    with pytest.raises(ConfigError, match="table dataset"):
        RECIPES.get("tabgan")(cfg, DataInfo((3,), 0, fields={}, meta={}))


def test_resume_is_exact(tmp_path):
    n, k = 5, 2
    full = train(_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", "train.ema_decay=0.9"))
    part = train(_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", "train.ema_decay=0.9"))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_csv_samples_keep_column_types_and_condition(tmp_path, capsys):
    run = train(_cfg(tmp_path, "train.steps=3", "train.run_name=r"))
    out = tmp_path / "rows.csv"
    assert main(["sample", run.run_dir, "--n", "40", "--seed", "2", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 40 and list(rows[0]) == ["age", "score", "group"]
    assert all(r["age"].lstrip("-").isdigit() and r["group"] in "abc" for r in rows)  # whole-number column stays int
    float(rows[0]["score"])
    loaded = load_run(run.run_dir)
    again = loaded.recipe.sample_table(loaded.nets(), 40, 2)
    assert [str(v) for v in again["age"]] == [r["age"] for r in rows]  # the seed fixes the rows
    cond = tmp_path / "b.csv"
    assert main(["sample", run.run_dir, "--n", "10", "--out", str(cond), "--condition", "group=b"]) == 0
    assert [r["group"] for r in csv.DictReader(open(cond))] == ["b"] * 10
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    for condition in ("group=q", "age=3", "nogroup"):
        assert main(["sample", run.run_dir, "--out", str(bad), "--condition", condition]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "error" in err
    assert not bad.exists()


def test_png_or_condition_on_another_recipe_refused(tmp_path, capsys):
    run = train(_cfg(tmp_path, "train.steps=1", "train.run_name=r"))
    assert main(["sample", run.run_dir, "--out", str(tmp_path / "x.png"), "--condition", "group=a"]) == 2
    assert "must end in .csv" in capsys.readouterr().err


def test_eval_on_a_table_run_against_scipy(tmp_path, capsys):
    import json

    from scipy.stats import ks_2samp

    run = train(_cfg(tmp_path, "train.steps=2", "train.run_name=e"))
    assert main(["eval", run.run_dir, "--n", "30", "--seed", "1", "--target", "group"]) == 0
    got = json.load(open(f"{run.run_dir}/table_metrics.json"))
    loaded = load_run(run.run_dir)
    fake = loaded.recipe.sample_table(loaded.nets(), 30, 1)
    real = list(csv.DictReader(open(tmp_path / "t.csv")))
    ks_age = ks_2samp([int(r["age"]) for r in real], fake["age"]).statistic
    ks_score = ks_2samp([float(r["score"]) for r in real], fake["score"]).statistic
    assert got["distances"]["age"] == pytest.approx(ks_age) and got["distances"]["score"] == pytest.approx(ks_score,
                                                                                                         abs=1e-3)
    share = {k: sum(r["group"] == k for r in real) / 60 - fake["group"].count(k) / 30 for k in "abc"}
    assert got["mean_tv"] == pytest.approx(0.5 * sum(abs(v) for v in share.values()))
    assert got["ml_efficacy"]["target"] == "group" and 0 <= got["ml_efficacy"]["f1"] <= 1
    capsys.readouterr()
    assert main(["eval", run.run_dir, "--target", "age"]) == 2
    assert "not a categorical column" in capsys.readouterr().err
