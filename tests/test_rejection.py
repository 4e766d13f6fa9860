"""Discriminator rejection sampling: the DRS score by hand, the packed per-sample logit by hand,
Platt scaling recovering a known slope, rejection turning N(0, 1) proposals into N(0, 0.8²)
under the exact log density ratio, a trained run reweighted by a known critic, and the CLI."""

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from gankit.cli import main
from gankit.errors import ConfigError, ShapeError
from gankit.nets import DOutput
from gankit.rejection import RejectionSampler, drs_score, gan_rejection_sampler, per_sample_logits, platt_scale
from gankit.runs import load_run, train
from tests.helpers import tiny


def test_drs_score_by_hand():
    r = torch.tensor([-2.0, 0.0, 1.0])
    f = drs_score(r, 1.0, gamma=0.0)  # delta = -3, -1, 0
    eps = 1e-6
    expected = torch.tensor([d - np.log1p(-np.exp(d - eps)) for d in (-3.0, -1.0, 0.0)], dtype=torch.float64)
    torch.testing.assert_close(f, expected)
    # at gamma = 0, sigma(F) is textbook rejection sampling's exp(D - D_M)
    torch.testing.assert_close(torch.sigmoid(f[:2]), torch.exp(torch.tensor([-3.0, -1.0], dtype=torch.float64)),
                               rtol=1e-5, atol=0)
    torch.testing.assert_close(drs_score(r, 1.0, gamma=0.5), expected - 0.5)


def test_per_sample_logits_of_a_packed_critic_by_hand():
    def critic(packed):
        return packed.sum(dim=1)  # (n/2, 2) -> x_1 + x_2: an additive packed log ratio

    x = torch.zeros(10, 1)
    x[3] = 1.0
    est = per_sample_logits(critic, x, pack=2, partners=7, generator=torch.Generator().manual_seed(0))
    # sample 3 always scores its own 1 (its partners are 0); every packing gives one other sample
    # +1 as sample 3's partner, so the others' estimates sum to 7 partners · 1 / 7 = 1
    torch.testing.assert_close(est[3], torch.tensor(1.0))
    torch.testing.assert_close(est[torch.arange(10) != 3].sum(), torch.tensor(1.0))
    # an unpacked critic is read as it is
    torch.testing.assert_close(per_sample_logits(lambda v: 3 * v[:, 0], x), 3 * x[:, 0])
    with pytest.raises(ShapeError, match="packs of 3"):
        per_sample_logits(critic, x, pack=3)


def test_per_sample_logits_average_over_positions():
    def critic(packed):
        return 2 * packed[:, 0] + packed[:, 1]  # position 1 counts double

    x = torch.zeros(4000, 1)
    x[0] = 1.0
    est = per_sample_logits(critic, x, pack=2, partners=400, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(est[0], torch.tensor(1.5), atol=0.08, rtol=0)  # half the time each position


def test_platt_scale_recovers_the_log_ratio_of_two_gaussians():
    # logits l ~ N(+1, 1) for real, N(-1, 1) for fake: log N(l; 1, 1)/N(l; -1, 1) = 2·l
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(40_000, generator=gen) + 1, torch.randn(40_000, generator=gen) - 1
    a, b = platt_scale(real, fake)
    np.testing.assert_allclose([a, b], [2.0, 0.0], atol=0.05)
    with pytest.raises(ConfigError, match="at least 2"):
        platt_scale(real[:1], fake)


def test_rejection_with_the_true_ratio_samples_the_target():
    # proposals N(0, 1), target N(0, 0.8²): log ratio r(x) = log(1/0.8) - x²/(2·0.64) + x²/2, max at x = 0
    def log_ratio(x):
        return (np.log(1 / 0.8) - x[:, 0] ** 2 / 1.28 + x[:, 0] ** 2 / 2).double()

    sampler = RejectionSampler(lambda n, g: torch.randn(n, 1, generator=g), log_ratio, percentile=None,
                               batch=5000, burn_in=20_000)
    x, info = sampler.sample(20_000, torch.Generator().manual_seed(0))
    assert x.shape == (20_000, 1)
    assert stats.kstest(x[:, 0].numpy(), stats.norm(scale=0.8).cdf).pvalue > 0.01
    assert stats.kstest(x[:, 0].numpy(), stats.norm(scale=1.0).cdf).pvalue < 1e-6
    # acceptance = E_p[p_d/(M p_g)] = 1/M = 0.8; the burn-in's max log ratio is just under log 1.25
    np.testing.assert_allclose([info["acceptance"], info["log_ratio_max"]], [0.8, np.log(1.25)], atol=0.01)
    assert info["gamma"] == 0.0


def test_gamma_loosens_a_strict_envelope_and_tightens_a_loose_one():
    def propose(n, g):
        return torch.randn(n, 1, generator=g)

    def run(log_ratio, percentile):
        return RejectionSampler(propose, log_ratio, percentile).sample(200, torch.Generator().manual_seed(0))[1]

    def strict(x):
        return 2 * x[:, 0].double()  # exact acceptance E[exp(2x)] / max exp(2x) ≈ e^2 / e^7.6: ~0.4 %

    exact, drs = run(strict, None), run(strict, 95)
    assert drs["gamma"] < 0 and drs["acceptance"] > 10 * exact["acceptance"]
    def loose(x):
        return -(x[:, 0] ** 2).double()  # exact acceptance E[exp(-x²)] = 1/√3: 58 %

    exact, drs = run(loose, None), run(loose, 50)
    np.testing.assert_allclose(exact["acceptance"], 1 / np.sqrt(3), atol=0.03)
    assert drs["gamma"] > 0 and drs["acceptance"] < exact["acceptance"]
    with pytest.raises(ConfigError, match="percentile"):
        RejectionSampler(propose, loose, percentile=101)
    with pytest.raises(ConfigError, match="too strict"):
        RejectionSampler(propose, lambda x: 100 * x[:, 0].double(), percentile=None,
                         max_proposals=3000).sample(10, torch.Generator().manual_seed(0))


class MeanCritic(nn.Module):
    """A discriminator whose logit is 20 · the mean pixel: brighter samples look more real."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(20.0))

    def forward(self, x, c=None):
        return DOutput(logits=self.scale * x.flatten(1).mean(dim=1))


def test_gan_rejection_sampler_reweights_a_trained_generator_by_its_calibrated_critic(tmp_path):
    result = train(tiny("digits-dcgan", tmp_path, "train.steps=3"))
    run = load_run(result.run_dir)
    run.recipe.modules["D"] = MeanCritic()
    nets = run.nets()
    proposals = run.sample(4000, seed=1)  # (4000, 1, 8, 8)
    real = proposals[:2000] + 0.05 * torch.randn(2000, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    real = real + 0.1  # brighter than the generator: a positive Platt slope
    sampler = gan_rejection_sampler(run.recipe, nets, real, percentile=None, generator=torch.Generator().manual_seed(3))
    x, info = sampler.sample(3000, torch.Generator().manual_seed(4))
    a = info["platt_slope"]
    real_logits, fake_logits = 20 * real.flatten(1).mean(1), 20 * run.sample(2000, seed=9).flatten(1).mean(1)
    assert a > 0 and a == pytest.approx(platt_scale(real_logits, fake_logits)[0], rel=0.2)
    # exact rejection keeps x with probability ∝ exp(a·s(x)): E[s] under the accepted law, by importance weights
    s = 20 * run.sample(50_000, seed=5).flatten(1).mean(1).double()
    w = torch.exp(a * (s - s.max()))
    expected = float((w * s).sum() / w.sum())
    got = 20 * x.flatten(1).mean(1).double()
    torch.testing.assert_close(got.mean().item(), expected, atol=4 * float(got.std()) / 3000**0.5, rtol=0)
    assert got.mean() > s.mean() + 2 * float(s.std()) / 3000**0.5  # it did move the samples


def test_cli_samples_a_packed_run_through_drs_and_refuses_what_drs_cannot_do(tmp_path, capsys):
    run = train(tiny("digits-dcgan", tmp_path, "train.steps=60", "recipe.pack=2")).run_dir
    out = tmp_path / "drs.npz"
    assert main(["sample", run, "--drs", "--n", "40", "--out", str(out), "--split", "train"]) == 0
    assert np.load(out)["samples"].shape == (40, 1, 8, 8)
    assert "DRS: accepted" in capsys.readouterr().err
    assert main(["sample", run, "--drs", "--class", "1", "--out", str(tmp_path / "c.png")]) == 2
    cond = train(tiny("digits-dcgan", tmp_path, "train.steps=1", "model.conditional=true", "train.run_name=c")).run_dir
    assert main(["sample", cond, "--drs", "--n", "8", "--out", str(tmp_path / "d.png"), "--split", "train"]) == 2
    assert "unconditional" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists() and not (tmp_path / "d.png").exists()


def test_drs_refuses_a_conditional_run_before_loading_calibration_data(tmp_path, monkeypatch):
    cond = load_run(train(tiny("digits-dcgan", tmp_path, "train.steps=1", "model.conditional=true")).run_dir)
    monkeypatch.setattr(type(cond), "dataset", lambda *a, **k: pytest.fail("calibration data loaded"))
    with pytest.raises(ConfigError, match="unconditional run of recipe gan"):
        cond.rejection_sample(8, seed=0, split="train")
