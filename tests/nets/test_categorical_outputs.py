"""Gumbel-softmax and softmax categorical outputs of the MLP generator: hand values, the
straight-through gradient, the Gumbel noise, config refusals, and a GAN that learns a toy's
category frequencies."""

import numpy as np
import pytest
import torch

from gankit.categorical import gumbel_softmax
from gankit.data.categorical_toy import categorical_probabilities, total_variation
from gankit.errors import ConfigError
from gankit.nets import NetSpec, build_networks, model_config
from gankit.nets.categorical_outputs import CategoricalOutputs
from gankit.presets import load_preset
from gankit.runs import load_run, train


def _np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_relaxed_draw_is_softmax_of_logits_plus_noise_over_tau():
    g = torch.Generator().manual_seed(0)
    logits, gumbels = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    y = gumbel_softmax(logits, tau=0.5, gumbels=gumbels)
    torch.testing.assert_close(y, torch.from_numpy(_np_softmax((logits.numpy() + gumbels.numpy()) / 0.5)))


def test_hard_draw_is_the_one_hot_argmax_with_the_relaxed_gradient():
    g = torch.Generator().manual_seed(1)
    logits, gumbels, weights = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g), torch.randn(6, 5)
    soft_in, hard_in = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    soft = gumbel_softmax(soft_in, tau=0.7, gumbels=gumbels)
    hard = gumbel_softmax(hard_in, tau=0.7, hard=True, gumbels=gumbels)
    expected = np.eye(5)[np.argmax(logits.numpy() + gumbels.numpy(), axis=1)]
    torch.testing.assert_close(hard.detach(), torch.from_numpy(expected).float())
    (soft * weights).sum().backward()
    (hard * weights).sum().backward()
    torch.testing.assert_close(hard_in.grad, soft_in.grad)
    assert soft_in.grad.abs().sum() > 0


def test_default_noise_is_gumbel_so_the_argmax_draws_softmax_frequencies():
    torch.manual_seed(0)
    p = torch.tensor([0.5, 0.3, 0.15, 0.05])
    draws = gumbel_softmax(p.log().expand(40_000, 4), tau=1.0, hard=True)  # Gumbel-max: argmax ~ p
    freq = draws.detach().mean(0)
    torch.testing.assert_close(freq, p, atol=0.01, rtol=0)
    with pytest.raises(ValueError, match="tau"):
        gumbel_softmax(p, tau=0.0)


def test_groups_softmax_then_linear_rest():
    x = torch.randn(3, 7)
    out = CategoricalOutputs((3, 2), 7, mode="softmax", tau=2.0)(x)
    a = x.numpy()
    expected = np.concatenate([_np_softmax(a[:, :3] / 2), _np_softmax(a[:, 3:5] / 2), a[:, 5:]], axis=1)
    torch.testing.assert_close(out, torch.from_numpy(expected))
    with pytest.raises(ConfigError, match="covers 8 outputs"):
        CategoricalOutputs((4, 4), 7)


def test_mlp_generator_option_and_refusals():
    cfg = model_config(arch="mlp", z_dim=3, g_width=8, d_width=8, categorical_outputs=(4, 3), gumbel_hard=True)
    G, _ = build_networks(cfg, NetSpec((9,)))
    x = G(torch.randn(10, 3))
    torch.testing.assert_close(x[:, :4].sum(1), torch.ones(10))
    torch.testing.assert_close(x[:, 4:7].sum(1), torch.ones(10))
    assert ((x[:, :7] == 0) | (x[:, :7] == 1)).all()
    with pytest.raises(ConfigError, match="images"):
        build_networks(model_config(arch="mlp", categorical_outputs=(4,)), NetSpec((1, 8, 8)))
    with pytest.raises(ConfigError, match="gumbel_tau"):
        model_config(arch="mlp", gumbel_tau=0.0)
    with pytest.raises(ConfigError, match=">= 2 categories"):
        model_config(arch="mlp", categorical_outputs=(1,))


def test_toy_draws_its_distribution():
    from gankit.config import DataConfig
    from gankit.data import build_dataset

    ds = build_dataset(DataConfig(name="categorical", n_samples=36_000))
    p = categorical_probabilities()
    torch.testing.assert_close(p, torch.arange(1, 9, dtype=torch.float64) / 36)
    assert ds.x.shape == (36_000, 8) and total_variation(ds.x, p) < 0.01


@pytest.mark.slow
def test_gumbel_gan_learns_the_category_frequencies(tmp_path):
    common = ["train.progress=false", f"train.out_dir={tmp_path}", "data.n_samples=4000"]
    p = categorical_probabilities()
    def run(steps: int):  # each run its own name: two runs in one second would share the timestamped one
        cfg = load_preset("categorical-gumbel", [*common, f"train.steps={steps}", f"train.run_name=steps{steps}"])
        return load_run(train(cfg).run_dir).sample(4000, 0)

    untrained, trained = run(1), run(300)
    assert ((trained == 0) | (trained == 1)).all()  # straight-through: exact one-hot rows
    assert total_variation(trained, p) < min(0.1, total_variation(untrained, p) / 2)


def test_resume_with_gumbel_noise_is_exact(tmp_path):
    from gankit.runs import resume
    from tests.train.test_resume import _assert_identical

    common = ["train.progress=false", f"train.out_dir={tmp_path}", "data.n_samples=256", "train.batch_size=16",
              "model.g_width=8", "model.d_width=8", "train.ema_decay=0.9", "train.log_every=2"]
    full = train(load_preset("categorical-gumbel", [*common, "train.steps=6", "train.run_name=full"]))
    part = train(load_preset("categorical-gumbel", [*common, "train.steps=3", "train.run_name=part"]))
    resumed = resume(part.run_dir, ["train.steps=6"])
    _assert_identical(full.run_dir, resumed.run_dir)
