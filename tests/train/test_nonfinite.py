"""``train.on_nonfinite``: a NaN injected into one phase's loss (or gradient) at a chosen step,
and what each policy leaves behind, compared with runs computed without the guard's help."""

import contextlib
import io
import json
import math
import os

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from gankit.cli import main
from gankit.errors import ConfigError, NonFiniteError
from gankit.presets import load_preset
from gankit.recipes import RECIPES, StepContext
from gankit.runs import resume, train
from gankit.train import checkpoint as ckpt
from gankit.train.nonfinite import ROLLBACK_LR_FACTOR, all_finite, first_non_finite
from gankit.train.trainer import Trainer
from tests.helpers import TINY_RING, tiny

GAN = RECIPES.get("gan")
ORIGINAL = GAN.accumulate_gradients


def inject(monkeypatch, phase, step, how="loss", times=math.inf):
    """Make ``phase``'s update at the ``step``-th step (1-based, as stats.jsonl counts) non-finite,
    at most ``times`` times: ``loss`` multiplies the loss by NaN, ``grad`` puts an Inf into the
    first gradient after an ordinary backward, ``idle`` drops the backward (the trainer then
    treats the phase as idle: the reference of ``skip``). The recipe's random draws are unchanged."""
    hits = []

    def accumulate(self, name, batch, ctx):
        if name != phase or ctx.step != step - 1 or len(hits) >= times:
            return ORIGINAL(self, name, batch, ctx)
        hits.append(ctx.step)
        if how == "loss":
            backward = lambda loss: ctx.backward(loss * float("nan"))  # noqa: E731
        elif how == "grad":
            def backward(loss):
                ctx.backward(loss)
                next(self.modules[phase].parameters()).grad.view(-1)[0] = float("inf")
        else:
            backward = lambda loss: None  # noqa: E731
        return ORIGINAL(self, name, batch, StepContext(ctx.step, ctx.report, backward))

    monkeypatch.setattr(GAN, "accumulate_gradients", accumulate)
    return hits


def _checkpoint(run_dir):
    return ckpt.load_checkpoint(os.path.join(run_dir, ckpt.CHECKPOINT_NAME))


def _assert_same_tensors(a, b, prefixes=("modules/", "ema/", "optim/")):
    keys = sorted(k for k in a if k.startswith(prefixes))
    assert keys == sorted(k for k in b if k.startswith(prefixes)) and keys
    for key in keys:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=f"{key} differs")


def _cli(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, err.getvalue()


# ------------------------------------------------------------------ detection


@pytest.mark.parametrize("seed", range(5))
def test_all_finite_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=rng.integers(1, 6, size=2)).astype(np.float32) * 1e30 for _ in range(4)]
    for bad in (np.nan, np.inf, -np.inf):
        if rng.random() < 0.6:
            a = arrays[rng.integers(len(arrays))]
            a.flat[rng.integers(a.size)] = bad
    expected = all(np.isfinite(a).all() for a in arrays)
    tensors = [torch.from_numpy(a) for a in arrays]
    assert bool(all_finite(tensors)) == expected
    first = next((f"t{i}" for i, a in enumerate(arrays) if not np.isfinite(a).all()), None)
    assert first_non_finite({f"t{i}": t for i, t in enumerate(tensors)}) == first


def test_large_finite_values_are_not_flagged():
    big = torch.full((1000,), 3e38)  # its 2-norm overflows float32; its max |x| does not
    assert bool(all_finite([big, -big]))


@pytest.mark.parametrize("override", ["train.on_nonfinite=ignore", "train.max_rollbacks=0", "train.max_rollbacks=-1"])
def test_bad_policy_values_are_refused(override):
    with pytest.raises(ConfigError, match=override.split("=")[0].split(".")[1]):
        load_preset("ring-gan", [override])


# ------------------------------------------------------------------ stop


@pytest.mark.parametrize("how, quantity", [("loss", "loss of phase D"), ("grad", "gradient of phase D")])
def test_stop_exits_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, how, quantity):
    good = train(tiny("ring-gan", tmp_path, "train.steps=4", "train.run_name=good"))  # no NaN: the reference
    inject(monkeypatch, "D", 7, how)
    args = ["train", "--preset", "ring-gan", *TINY_RING, f"train.out_dir={tmp_path}", "train.run_name=bad",
            "train.steps=12", "train.checkpoint_every=4", "train.sample_every=2"]
    code, err = _cli(args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gankit: error: ")
    assert f"non-finite {quantity} at step 7" in err and "train.on_nonfinite=stop" in err
    bad_dir = tmp_path / "bad"
    tensors, meta = _checkpoint(bad_dir)
    assert meta["step"] == 4
    _assert_same_tensors(tensors, _checkpoint(good.run_dir)[0])
    assert sorted(os.listdir(bad_dir / "samples")) == [f"step_{s:06d}.png" for s in (2, 4, 6)]
    assert not (bad_dir / "README.md").exists() and not (bad_dir / "samples_final.png").exists()


def test_a_non_finite_checkpoint_is_never_written(tmp_path):
    trainer = Trainer(tiny("ring-gan", tmp_path), str(tmp_path / "r"))
    name, weight = next(trainer.recipe.modules["G"].named_parameters())
    with torch.no_grad():
        weight.view(-1)[0] = float("nan")
    with pytest.raises(NonFiniteError, match=f"modules/G/{name} is not finite"):
        trainer.save_checkpoint()
    assert not os.path.exists(trainer.checkpoint_path)


# ------------------------------------------------------------------ skip


@pytest.mark.parametrize("phase, how", [("D", "loss"), ("G", "grad")])
def test_skip_equals_a_run_without_that_update(tmp_path, monkeypatch, how, phase):
    k, n = 3, 6
    inject(monkeypatch, phase, k, "idle")
    reference = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=ref"))
    inject(monkeypatch, phase, k, how)
    skipped = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=skip", "train.on_nonfinite=skip"))
    monkeypatch.setattr(GAN, "accumulate_gradients", ORIGINAL)
    plain = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=plain"))
    ref, got, everything = (_checkpoint(r.run_dir)[0] for r in (reference, skipped, plain))
    _assert_same_tensors(got, ref)
    moved = next(k for k in got if k.startswith(f"modules/{phase}/") and k.endswith("weight"))
    assert not torch.equal(got[moved], everything[moved])  # the dropped update mattered
    records = [json.loads(line) for line in open(os.path.join(skipped.run_dir, "stats.jsonl"))]
    fraction = {r["step"]: r["NonFinite/skipped"] for r in records}
    assert fraction == {2: 0.0, 4: 0.25, 6: 0.0}  # 1 of the 4 updates (2 steps x D, G) in steps 3-4


# ------------------------------------------------------------------ rollback


def _set_nonfinite_state(run_dir, state):
    path = os.path.join(run_dir, ckpt.CHECKPOINT_NAME)
    with safe_open(path, framework="pt") as fh:
        meta = json.loads(fh.metadata()[ckpt.META_KEY])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    meta["nonfinite"] = state
    save_file(tensors, path, metadata={ckpt.META_KEY: json.dumps(meta)})


def test_rollback_reloads_the_checkpoint_with_half_the_learning_rate(tmp_path, monkeypatch):
    hits = inject(monkeypatch, "G", 6, "loss", times=1)
    rolled = train(tiny("ring-gan", tmp_path, "train.steps=10", "train.checkpoint_every=4", "train.run_name=rb",
                        "train.on_nonfinite=rollback"))
    assert rolled.completed and hits == [5]
    tensors, meta = _checkpoint(rolled.run_dir)
    assert meta["nonfinite"] == {"lr_scale": ROLLBACK_LR_FACTOR, "rollbacks": 1}
    assert all(bool(torch.isfinite(t).all()) for t in tensors.values() if t.is_floating_point())
    base = load_preset("ring-gan").optim.lr_d
    lrs = {g["lr"] for o in meta["optimizers"].values() for g in o["param_groups"]}
    assert lrs == {base * ROLLBACK_LR_FACTOR}
    steps = [json.loads(line)["step"] for line in open(os.path.join(rolled.run_dir, "stats.jsonl"))]
    assert steps == [2, 4, 6, 8, 10]  # the lines past the checkpoint were dropped and logged again
    # reference: a clean run to the checkpoint's step, its learning rate halved by hand, resumed
    monkeypatch.setattr(GAN, "accumulate_gradients", ORIGINAL)
    ref = train(tiny("ring-gan", tmp_path, "train.steps=4", "train.run_name=ref"))
    _set_nonfinite_state(ref.run_dir, {"lr_scale": 0.5, "rollbacks": 1})
    resume(ref.run_dir, ["train.steps=10"])
    _assert_same_tensors(tensors, _checkpoint(ref.run_dir)[0])


def test_rollbacks_are_bounded(tmp_path, monkeypatch):
    inject(monkeypatch, "D", 3, "loss")  # every time step 3 is reached
    cfg = tiny("ring-gan", tmp_path, "train.steps=8", "train.run_name=rb", "train.on_nonfinite=rollback",
               "train.max_rollbacks=2")
    with pytest.raises(NonFiniteError, match=r"loss of phase D at step 3 after 2 rollback\(s\)"):
        train(cfg)
    _, meta = _checkpoint(tmp_path / "rb")
    assert meta["step"] == 0  # no checkpoint before step 3: the one written when the run started
    assert meta["nonfinite"] == {"lr_scale": 0.25, "rollbacks": 2}


def test_a_damaged_rollback_state_is_a_checkpoint_error(tmp_path):
    run = train(tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=r"))
    _set_nonfinite_state(run.run_dir, {"lr_scale": float("nan"), "rollbacks": 0})
    code, err = _cli(["resume", run.run_dir, "train.steps=4"])
    assert code == 2 and "nonfinite.lr_scale" in err and err.count("\n") == 1


def test_a_non_finite_sample_grid_is_never_written(tmp_path):
    from gankit.runs.artifacts import RunArtifacts

    trainer = Trainer(tiny("digits-dcgan", tmp_path), str(tmp_path / "r"))
    artifacts = RunArtifacts(trainer)
    with torch.no_grad():
        for p in trainer.ema["G"].module.parameters():
            p.fill_(float("nan"))
    with pytest.raises(NonFiniteError, match="step_000000.png: the samples hold NaN"):
        artifacts.on_event("sample", trainer)
    assert not os.path.exists(tmp_path / "r" / "samples")
