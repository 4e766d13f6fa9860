"""Autoencoder discriminator: energy = per-sample reconstruction error (hand values with a
zeroed decoder), shapes for MLP and conv, the generic network checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.testing import assert_close

from gankit.errors import ConfigError, ShapeError
from gankit.losses.energy import ebgan_d_loss, pulling_away_term
from gankit.nets import model_config
from gankit.nets.autoencoder import AEDiscriminator, build_autoencoder_discriminator
from gankit.nets.base import DOutput, NetSpec

CASES = [((2,), "mlp"), ((1, 8, 8), "mlp"), ((1, 8, 8), "conv"), ((3, 16, 16), "conv"), ((1, 28, 28), "conv")]


def _x(shape, n=4, seed=0):
    return torch.randn(n, *shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape, arch", CASES)
def test_shapes(shape, arch):
    torch.manual_seed(0)
    d = AEDiscriminator(shape, width=4, code_dim=3, arch=arch)
    out = d(_x(shape))
    assert isinstance(out, DOutput)
    assert out.logits.shape == (4,)
    assert out.features.shape == (4, 3)
    assert out.extra["reconstruction"].shape == (4, *shape)
    assert bool((out.logits >= 0).all())


def _zero_last_layer(d: AEDiscriminator) -> None:
    last = [m for m in d.decoder.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d))][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()


@pytest.mark.parametrize("energy", ["l2", "l1"])
@pytest.mark.parametrize("shape, arch", CASES)
def test_energy_hand_values_with_a_zero_reconstruction(shape, arch, energy):
    """Zeroed output layer -> reconstruction 0 -> energy = mean x^2 (l2) / mean |x| (l1)."""
    d = AEDiscriminator(shape, width=4, code_dim=3, arch=arch, energy=energy).double()
    _zero_last_layer(d)
    x = _x(shape).double()
    xn = x.numpy().reshape(4, -1)
    expected = (xn**2).mean(1) if energy == "l2" else np.abs(xn).mean(1)  # per sample
    assert_close(d(x).logits, torch.from_numpy(expected))


def test_energy_is_the_per_sample_error_of_the_returned_reconstruction():
    torch.manual_seed(0)
    d = AEDiscriminator((1, 8, 8), width=4, code_dim=5, arch="conv").double()
    x = _x((1, 8, 8)).double()
    out = d(x)
    rec = out.extra["reconstruction"].detach().numpy()
    expected = ((x.numpy() - rec) ** 2).reshape(4, -1).mean(1)
    assert_close(out.logits.detach(), torch.from_numpy(expected))
    # per sample and batch-independent without batch norm: one sample alone gives the same
    assert_close(d(x[1:2]).logits[0], out.logits[1])


def test_energy_losses_train_the_autoencoder():
    torch.manual_seed(0)
    d = AEDiscriminator((2,), width=8, code_dim=2)
    real, fake = _x((2,), 8, 1), _x((2,), 8, 2)
    out_real, out_fake = d(real), d(fake)
    loss = ebgan_d_loss(out_real.logits, out_fake.logits, margin=1.0) + pulling_away_term(out_fake.features)
    loss.backward()
    assert all(p.grad is not None for p in d.parameters())


@pytest.mark.parametrize("shape, arch", CASES[:3])
def test_determinism_and_state_dict_round_trip(shape, arch, tmp_path):
    x = _x(shape)
    torch.manual_seed(0)
    a = AEDiscriminator(shape, width=4, code_dim=3, arch=arch)
    torch.manual_seed(0)
    b = AEDiscriminator(shape, width=4, code_dim=3, arch=arch)
    assert_close(a(x).logits, b(x).logits)
    save_file(a.state_dict(), tmp_path / "ae.safetensors")
    torch.manual_seed(1)
    c = AEDiscriminator(shape, width=4, code_dim=3, arch=arch)
    c.load_state_dict(load_file(tmp_path / "ae.safetensors"))
    assert_close(c(x).logits, a(x).logits)


def test_errors_and_builder():
    with pytest.raises(ConfigError):
        AEDiscriminator((2,), arch="conv")
    with pytest.raises(ConfigError):
        AEDiscriminator((1, 18, 18), arch="conv")  # not an s0·2^k resolution
    with pytest.raises(ConfigError):
        AEDiscriminator((2,), energy="l3")  # type: ignore[arg-type]
    d = AEDiscriminator((2,), width=4, code_dim=1)
    with pytest.raises(ShapeError):
        d(torch.zeros(3, 3))
    with pytest.raises(ShapeError):
        d(torch.zeros(3, 2), torch.tensor([0, 1, 0]))  # unconditional
    conv = build_autoencoder_discriminator(model_config(arch="dcgan", d_width=4, d_norm="batch"), NetSpec((1, 8, 8)))
    assert conv.arch == "conv"
    mlp = build_autoencoder_discriminator(model_config(arch="mlp", d_width=4, d_norm="none"), NetSpec((2,)), code_dim=1)
    assert mlp.arch == "mlp" and mlp(torch.zeros(3, 2)).features.shape == (3, 1)
    with pytest.raises(ConfigError):
        build_autoencoder_discriminator(model_config(conditional=True), NetSpec((1, 8, 8), 10))
