"""Relativistic losses (RSGAN, RaGAN, RpGAN) against values computed by hand in the test."""

import math

import pytest
import torch
from torch.testing import assert_close

from gankit.errors import ConfigError, ShapeError
from gankit.losses import LOSSES, ragan_d_loss, ragan_g_loss, rpgan_d_loss, rpgan_g_loss, rsgan_d_loss, rsgan_g_loss
from gankit.presets import load_preset

REAL = [1.0, -0.5, 2.0]
FAKE = [0.3, 0.7, -1.0]


def softplus(t: float) -> float:
    return math.log1p(math.exp(t))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_rpgan_on_paired_logits_equals_its_formula():
    # L_D = mean softplus(f_i - r_i), L_G = mean softplus(r_i - f_i), pair by pair
    want_d = mean(softplus(f - r) for r, f in zip(REAL, FAKE))
    want_g = mean(softplus(r - f) for r, f in zip(REAL, FAKE))
    assert_close(rpgan_d_loss(t(REAL), t(FAKE)), torch.tensor(want_d, dtype=torch.float64))
    assert_close(rpgan_g_loss(t(FAKE), t(REAL)), torch.tensor(want_g, dtype=torch.float64))
    # pairing matters: the same logits with the fakes permuted give another value
    permuted = [FAKE[1], FAKE[2], FAKE[0]]
    assert not torch.isclose(rpgan_d_loss(t(REAL), t(permuted)), torch.tensor(want_d, dtype=torch.float64))


def test_rsgan_is_the_paired_logistic_loss():
    assert_close(rsgan_d_loss(t(REAL), t(FAKE)), rpgan_d_loss(t(REAL), t(FAKE)))
    assert_close(rsgan_g_loss(t(FAKE), t(REAL)), rpgan_g_loss(t(FAKE), t(REAL)))


def test_ragan_against_the_batch_means_by_hand():
    mr, mf = mean(REAL), mean(FAKE)
    want_d = mean(softplus(-(r - mf)) for r in REAL) + mean(softplus(f - mr) for f in FAKE)
    want_g = mean(softplus(-(f - mr)) for f in FAKE) + mean(softplus(r - mf) for r in REAL)
    assert_close(ragan_d_loss(t(REAL), t(FAKE)), torch.tensor(want_d, dtype=torch.float64))
    assert_close(ragan_g_loss(t(FAKE), t(REAL)), torch.tensor(want_g, dtype=torch.float64))


def test_rpgan_gradient_of_a_real_logit():
    # d/dr_i mean softplus(f - r) = -sigmoid(f_i - r_i) / n
    real = t(REAL).requires_grad_(True)
    rpgan_d_loss(real, t(FAKE)).backward()
    want = [-1.0 / (1.0 + math.exp(-(f - r))) / 3 for r, f in zip(REAL, FAKE)]
    assert_close(real.grad, t(want))


def test_ragan_g_loss_reaches_g_through_the_fake_mean_of_its_real_term():
    fake = t(FAKE).requires_grad_(True)
    ragan_g_loss(fake, t(REAL)).backward()
    mr, mf = mean(REAL), mean(FAKE)
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731
    # d/df_j mean_i softplus(mr - f_i) = -sigmoid(mr - f_j) / n
    # d/df_j mean_i softplus(r_i - mf) = -mean_i sigmoid(r_i - mf) / n  (the real term, through mean f)
    want = [-sig(mr - f) / 3 - mean(sig(r - mf) for r in REAL) / 3 for f in FAKE]
    assert_close(fake.grad, t(want))


def test_registered_as_relativistic_and_classic_losses_unchanged():
    for name in ("rsgan", "ragan", "rpgan"):
        assert LOSSES.get(name).relativistic
    for name in ("minimax", "ns", "lsgan", "wgan", "hinge"):
        assert not LOSSES.get(name).relativistic


@pytest.mark.parametrize("g_loss", [rsgan_g_loss, ragan_g_loss, rpgan_g_loss])
def test_g_loss_without_real_logits_is_a_config_error(g_loss):
    with pytest.raises(ConfigError, match="relativistic"):
        g_loss(t(FAKE))


def test_paired_losses_refuse_unpaired_batches():
    with pytest.raises(ShapeError, match="sample by sample"):
        rpgan_d_loss(t(REAL), t(FAKE[:2]))
    ragan_d_loss(t(REAL), t(FAKE[:2]))  # the average needs no pairing


@pytest.mark.parametrize("recipe, preset", [("acgan", "mnist-acgan"), ("infogan", "mnist-infogan"),
                                            ("pix2pix", "edges2mnist-pix2pix"), ("cyclegan", "mnist2digits-cyclegan")])
def test_recipes_whose_g_loss_reads_only_fakes_refuse_relativistic_losses_at_parse_time(recipe, preset):
    with pytest.raises(ConfigError, match=f"recipe.loss=rpgan is relativistic .* which recipe {recipe} does not"):
        load_preset(preset, ["recipe.loss=rpgan"])
    assert load_preset("ring-gan", ["recipe.loss=rpgan"]).recipe.loss == "rpgan"  # the gan recipe computes it
