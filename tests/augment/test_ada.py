"""ADA: the pipeline (identity at p = 0, differentiable) and the controller of p."""

import pytest
import torch
from torch.testing import assert_close

from gankit.augment import AdaptiveAugment, ada_pipeline
from gankit.errors import CheckpointError, ConfigError

BATCH = 16


def test_pipeline_is_the_identity_at_p_zero_and_changes_images_at_p_one():
    x = torch.randn(8, 3, 8, 8)
    assert torch.equal(ada_pipeline(x, 0.0, torch.Generator().manual_seed(0)), x)
    out = ada_pipeline(x, 1.0, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and not torch.allclose(out, x)


def test_pipeline_is_differentiable():
    x = torch.randn(4, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    fixed = lambda v: ada_pipeline(v, 0.7, torch.Generator().manual_seed(1))  # noqa: E731
    assert torch.autograd.gradcheck(fixed, (x,), eps=1e-6, atol=1e-5)


def test_pipeline_keeps_greyscale_and_non_square_shapes():
    assert ada_pipeline(torch.randn(2, 1, 28, 28), 0.5).shape == (2, 1, 28, 28)
    assert ada_pipeline(torch.randn(2, 1, 8, 12), 0.5).shape == (2, 1, 8, 12)  # no 90° turns then


def test_p_rises_when_d_overfits_and_falls_otherwise():
    step = BATCH * 4 / (2.0 * 1000)  # batch · interval / (kimg · 1000)
    ada = AdaptiveAugment(target=0.6, interval=4, kimg=2.0)
    overfit = torch.tensor([3.0] * 15 + [-1.0])  # r_t = (15 - 1) / 16 = 0.875 > 0.6
    for i in range(8):
        r_t = ada.observe(overfit, BATCH)
        assert (r_t is None) == (i % 4 != 3)
    assert_close(r_t, torch.tensor(0.875, dtype=torch.float64))
    assert_close(ada.p, torch.tensor(2 * step, dtype=torch.float64))
    healthy = torch.tensor([1.0] * 8 + [-1.0] * 8)  # r_t = 0 < 0.6: D does not overfit
    for _ in range(4):
        ada.observe(healthy, BATCH)
    assert_close(ada.p, torch.tensor(step, dtype=torch.float64))
    for _ in range(40):
        ada.observe(healthy, BATCH)
    assert float(ada.p) == 0.0  # clamped at 0


def test_p_rises_on_a_d_that_memorised_a_tiny_set():
    # a linear D trained to separate 8 real points from noise: its real logits turn positive
    torch.manual_seed(0)
    real = torch.randn(8, 4) + 3.0
    d = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(d.parameters(), lr=0.1)
    ada = AdaptiveAugment(target=0.6, interval=1, kimg=0.1)
    for _ in range(30):
        fake = torch.randn(8, 4)
        loss = torch.nn.functional.softplus(-d(real)).mean() + torch.nn.functional.softplus(d(fake)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ada.observe(d(real).squeeze(1), 8)
    assert float(ada.p) > 0.5


def test_state_round_trip_and_bad_state():
    ada = AdaptiveAugment(interval=4, kimg=1.0)
    for _ in range(6):
        ada.observe(torch.ones(4), 4)
    other = AdaptiveAugment(interval=4, kimg=1.0)
    other.load_state_dict(ada.state_dict())
    other.load_state_tensors(ada.state_tensors())
    for a, b in ((ada, other),):
        assert a.images == b.images == 8 and a.d_steps == b.d_steps == 2
        assert_close(a.p, b.p)
        assert_close(a.sign_sum, b.sign_sum)
    with pytest.raises(CheckpointError, match="'p'"):
        other.load_state_tensors({"sign_sum": torch.zeros(()), "count": torch.zeros(())})


@pytest.mark.parametrize("kwargs", [dict(target=1.2), dict(interval=0), dict(kimg=0.0), dict(p=2.0)])
def test_bad_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        AdaptiveAugment(**kwargs)
