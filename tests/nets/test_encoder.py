"""Encoders: shapes per family, the (mu, logvar) split by hand, the DCGAN encoder's trunk is
the DCGAN discriminator's, state_dict round trip, MRGAN's MLP encoder keys, config errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.testing import assert_close

from gankit.errors import ConfigError
from gankit.nets import model_config
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.encoder import DCGANEncoder, GaussianEncoder, MLPEncoder, build_gaussian_encoder
from tests.helpers import mlp_only

CASES = [("mlp", (2,)), ("mlp", (1, 8, 8)), ("dcgan", (1, 8, 8)), ("dcgan", (1, 28, 28)), ("dcgan", (3, 16, 16))]


def _cfg(arch, **kw):
    return model_config(arch=arch, z_dim=3, d_width=4, **mlp_only(arch, mlp_layers=2), **kw)


def _x(shape, n=4):
    return torch.randn(n, *shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("arch, shape", CASES)
def test_shapes_and_state_dict_round_trip(tmp_path, arch, shape):
    torch.manual_seed(0)
    enc = build_gaussian_encoder(_cfg(arch), shape).eval()
    mu, logvar = enc(_x(shape))
    assert mu.shape == logvar.shape == (4, 3)
    save_file(enc.state_dict(), str(tmp_path / "e.safetensors"))
    torch.manual_seed(1)
    other = build_gaussian_encoder(_cfg(arch), shape).eval()
    other.load_state_dict(load_file(str(tmp_path / "e.safetensors")))
    for a, b in zip(enc(_x(shape)), other(_x(shape))):
        assert_close(a, b, rtol=0, atol=0)


def test_split_into_mu_and_logvar_by_hand():
    net = nn.Linear(2, 4)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]]))
        net.bias.copy_(torch.tensor([0.0, 0.5, -1.0, 0.0]))
    mu, logvar = GaussianEncoder(net, 2)(torch.tensor([[1.0, 2.0]]))
    assert_close(mu, torch.tensor([[1.0, 2.5]]))
    assert_close(logvar, torch.tensor([[2.0, 0.0]]))


def test_dcgan_trunk_is_the_discriminators():
    torch.manual_seed(0)
    d = DCGANDiscriminator(16, 1, 4, norm="layer")
    enc = DCGANEncoder(16, 1, 4, out_dim=6, norm="layer")
    assert [p.shape for p in enc.body.parameters()] == [p.shape for p in d.body.parameters()]
    enc.body.load_state_dict(d.body.state_dict())
    x = _x((1, 16, 16))
    with torch.no_grad():
        enc.head.weight.zero_()
        enc.head.bias.copy_(torch.arange(6.0))
        assert_close(enc.body(x).flatten(1), d(x).features)
        assert_close(enc(x), torch.arange(6.0).expand(4, 6))  # a zero head reads out its bias


def test_mlp_encoder_keeps_mrgans_parameter_names():
    enc = MLPEncoder((2,), hidden=5, layers=2, out_dim=3)
    assert list(enc.state_dict()) == ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                                      "out.weight", "out.bias"]
    assert enc(_x((2,))).shape == (4, 3)


def test_config_errors():
    with pytest.raises(ConfigError, match="no encoder for model.arch"):
        build_gaussian_encoder(dataclasses.replace(_cfg("mlp"), arch="resnet"), (1, 8, 8))
    with pytest.raises(ConfigError, match="square images"):
        build_gaussian_encoder(_cfg("dcgan"), (2,))
    with pytest.raises(ConfigError, match="DCGAN cannot make resolution"):
        build_gaussian_encoder(_cfg("dcgan"), (1, 18, 18))
