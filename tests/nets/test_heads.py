"""Auxiliary D heads (nets/heads.py): ACGAN class logits and the InfoGAN Q head, wired into
the MLP and DCGAN discriminators; a D without heads is exactly today's D."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gankit.errors import ConfigError
from gankit.nets import NetSpec, build_networks, model_config
from tests.helpers import mlp_only

N = 4
CASES = [("mlp", (1, 8, 8)), ("mlp", (2,)), ("dcgan", (1, 8, 8)), ("dcgan", (3, 16, 16))]
HEADS = dict(d_class_head=5, q_categorical=3, q_continuous=2)


def _cfg(arch, **kw):
    return model_config(arch=arch, z_dim=8, g_width=4, d_width=4, **mlp_only(arch, mlp_layers=2), **kw)


def _d(cfg, shape, num_classes=0, seed=0):
    torch.manual_seed(seed)
    return build_networks(cfg, NetSpec(shape, num_classes))[1]


def _x(shape, seed=1):
    return torch.rand(N, *shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("arch, shape", CASES)
def test_default_d_is_unchanged_by_the_head_options(arch, shape):
    plain = _d(_cfg(arch), shape)
    heads = _d(_cfg(arch, **HEADS), shape)
    sd_plain, sd_heads = plain.state_dict(), heads.state_dict()
    assert not any(k.startswith("aux") for k in sd_plain)
    # the heads add parameters under aux.* only; everything else has the same keys and shapes
    assert sorted(sd_plain) == sorted(k for k in sd_heads if not k.startswith("aux."))
    assert {k: v.shape for k, v in sd_plain.items()} == {k: sd_heads[k].shape for k in sd_plain}
    # the heads are built last, so under one seed the shared trunk starts identical
    for k, v in sd_plain.items():
        torch.testing.assert_close(v, sd_heads[k], rtol=0, atol=0)
    plain.eval(), heads.eval()
    x = _x(shape)
    out_plain, out_heads = plain(x), heads(x)
    assert out_plain.class_logits is None and out_plain.extra == {}
    torch.testing.assert_close(out_plain.logits, out_heads.logits, rtol=0, atol=0)


def test_default_d_keys_are_todays():
    d = _d(_cfg("mlp"), (2,))  # 2 hidden layers, BatchNorm: Linear (no bias), BN, LeakyReLU, ...
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    expected = ["body.0.weight", "body.3.weight", "head.weight", "head.bias"]
    expected += [f"body.{i}.{p}" for i in (1, 4) for p in bn]
    assert sorted(d.state_dict()) == sorted(expected)


@pytest.mark.parametrize("arch, shape", CASES)
def test_head_shapes_and_values_are_linear_readouts_of_the_features(arch, shape):
    d = _d(_cfg(arch, **HEADS), shape).eval()
    out = d(_x(shape))
    f = out.features.detach()  # (N, F)
    assert f.shape == (N, d.aux.classes.linear.in_features)
    assert out.class_logits.shape == (N, 5)
    assert out.extra["q_categorical"].shape == (N, 3)
    assert out.extra["q_mean"].shape == out.extra["q_logstd"].shape == (N, 2)
    wc, bc = d.aux.classes.linear.weight.detach(), d.aux.classes.linear.bias.detach()  # (5, F), (5,)
    torch.testing.assert_close(out.class_logits.detach(), f @ wc.T + bc)
    wq, bq = d.aux.q.linear.weight.detach(), d.aux.q.linear.bias.detach()  # (3 + 2·2, F)
    q = f @ wq.T + bq  # (N, 7): categorical logits, means, log-stds
    torch.testing.assert_close(out.extra["q_categorical"].detach(), q[:, :3])
    torch.testing.assert_close(out.extra["q_mean"].detach(), q[:, 3:5])
    torch.testing.assert_close(out.extra["q_logstd"].detach(), q[:, 5:7])


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_q_hidden_layer_by_hand(arch):
    """model.q_hidden: Q = Linear(LeakyReLU_0.1(BN(W_h φ))) (the hidden layer of Chen et al.'s Q),
    recomputed from the layer's parameters in eval mode (BN with its running statistics)."""
    d = _d(_cfg(arch, q_categorical=3, q_continuous=2, q_hidden=6), (1, 8, 8))
    q = d.aux.q
    with torch.no_grad():  # non-trivial running statistics, so the eval-mode BN is not the identity
        q.hidden[1].running_mean.uniform_(-1, 1), q.hidden[1].running_var.uniform_(0.5, 2)
        q.hidden[1].weight.uniform_(0.5, 1.5), q.hidden[1].bias.uniform_(-0.5, 0.5)
    out = d.eval()(_x((1, 8, 8)))
    f = out.features.detach().double()  # (N, F)
    bn = q.hidden[1]
    h = f @ q.hidden[0].weight.detach().double().T  # (N, 6), no bias
    h = (h - bn.running_mean.double()) / torch.sqrt(bn.running_var.double() + bn.eps)
    h = h * bn.weight.detach().double() + bn.bias.detach().double()
    h = torch.where(h > 0, h, 0.1 * h)
    o = h @ q.linear.weight.detach().double().T + q.linear.bias.detach().double()  # (N, 3 + 2·2)
    torch.testing.assert_close(out.extra["q_categorical"].detach().double(), o[:, :3])
    torch.testing.assert_close(out.extra["q_mean"].detach().double(), o[:, 3:5])
    torch.testing.assert_close(out.extra["q_logstd"].detach().double(), o[:, 5:])


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_only_the_requested_heads_exist(arch):
    d = _d(_cfg(arch, d_class_head=4), (1, 8, 8))
    out = d.eval()(_x((1, 8, 8)))
    assert out.class_logits.shape == (N, 4) and out.extra == {}
    d = _d(_cfg(arch, q_continuous=3), (1, 8, 8))
    out = d.eval()(_x((1, 8, 8)))
    assert out.class_logits is None and sorted(out.extra) == ["q_logstd", "q_mean"]


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_conditional_d_without_projection_ignores_labels(arch):
    cfg = _cfg(arch, conditional=True, d_projection=False, d_class_head=10)
    g, d = build_networks(cfg, NetSpec((1, 8, 8), 10))
    assert d.projection is None and d.num_classes == 0 and g.num_classes == 10
    assert d(_x((1, 8, 8))).class_logits.shape == (N, 10)
    with_proj = build_networks(dataclasses.replace(cfg, d_projection=True), NetSpec((1, 8, 8), 10))[1]
    assert with_proj.projection is not None


@pytest.mark.parametrize("kw", [dict(d_class_head=-1), dict(q_continuous=-2), dict(q_hidden=-1), dict(g_fc=-1),
                                dict(d_class_head=3, d_arch="patchgan"), dict(d_projection=False, d_arch="patchgan"),
                                dict(arch="mlp", g_fc=8), dict(arch="mlp", d_fc=8), dict(d_fc=8, d_arch="patchgan")])
def test_bad_head_options_are_config_errors(kw):
    with pytest.raises(ConfigError):
        model_config(**kw).validate()
