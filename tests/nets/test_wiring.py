"""ModelConfig's discriminator options wired through the family builders."""

import pytest
import torch
from torch.nn.utils import parametrize

from gankit.errors import ConfigError
from gankit.nets import (
    D_ARCHS,
    DCGANDiscriminator,
    DCGANGenerator,
    NetSpec,
    build_networks,
    model_config,
)
from gankit.nets.autoencoder import AEDiscriminator
from gankit.nets.blocks import MinibatchDiscrimination, MinibatchStdDev
from gankit.nets.patchgan import PatchGANDiscriminator

MLP = dict(arch="mlp", z_dim=2, g_width=16, d_width=16, mlp_layers=2, d_norm="none")
DC = dict(arch="dcgan", z_dim=8, g_width=8, d_width=8)

# state_dict of the default discriminators as they were before the options existed
OLD_MLP_D = {"body.0.weight": (16, 2), "body.0.bias": (16,), "body.3.weight": (16, 16), "body.3.bias": (16,),
             "head.weight": (1, 16), "head.bias": (1,)}
OLD_DCGAN_D = {"body.0.weight": (8, 1, 4, 4), "body.0.bias": (8,), "body.2.weight": (16, 8, 4, 4),
               "body.3.weight": (16,), "body.3.bias": (16,), "body.3.running_mean": (16,),
               "body.3.running_var": (16,), "body.3.num_batches_tracked": (), "head.weight": (1, 16, 4, 4),
               "head.bias": (1,)}


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("kw, spec, old", [(MLP, NetSpec((2,)), OLD_MLP_D), (DC, NetSpec((1, 16, 16)), OLD_DCGAN_D)])
def test_default_discriminator_keeps_its_state_dict(kw, spec, old):
    _, d = build_networks(model_config(**kw), spec)
    assert _shapes(d) == old


def test_default_build_draws_the_same_weights_as_the_plain_constructors():
    torch.manual_seed(3)
    g, d = build_networks(model_config(**DC), NetSpec((1, 16, 16)))
    torch.manual_seed(3)
    g0, d0 = DCGANGenerator(8, 16, 1, 8), DCGANDiscriminator(16, 1, 8)
    for a, b in ((g, g0), (d, d0)):
        for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
            assert ka == kb
            torch.testing.assert_close(va, vb, rtol=0, atol=0)


@pytest.mark.parametrize("arch, cls", [("patchgan", PatchGANDiscriminator), ("autoencoder", AEDiscriminator)])
def test_d_arch_selects_the_discriminator(arch, cls):
    own = {"patchgan": {"d_layers": 1}, "autoencoder": {"ae_code_dim": 5, "ae_energy": "l1"}}[arch]
    cfg = model_config(**DC, d_arch=arch, **own)
    g, d = build_networks(cfg, NetSpec((1, 16, 16)))
    assert isinstance(d, cls) and isinstance(g, DCGANGenerator)
    out = d(torch.randn(2, 1, 16, 16))
    if arch == "patchgan":
        assert d.n_layers == 1 and out.logits.shape == (2, 1, 6, 6)  # floor(16/2) - 2
    else:
        assert d.code_dim == 5 and d.energy == "l1" and out.features.shape == (2, 5)
    assert set(D_ARCHS.names()) >= {"default", "patchgan", "autoencoder"}


def test_unknown_d_arch_is_a_config_error():
    with pytest.raises(ConfigError, match="discriminator architecture"):
        build_networks(model_config(**MLP, d_arch="nope"), NetSpec((2,)))


def test_spectral_norm_parametrizes_every_weight_and_bounds_sigma():
    _, d = build_networks(model_config(**MLP, d_spectral_norm=True), NetSpec((2,)))
    linears = [m for m in d.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3 and all(parametrize.is_parametrized(m, "weight") for m in linears)
    d.train()
    for _ in range(30):  # power iterations converge
        d(torch.randn(4, 2))
    d.eval()
    sigma = torch.linalg.matrix_norm(linears[1].weight.detach(), ord=2)
    torch.testing.assert_close(sigma, torch.tensor(1.0), atol=2e-2, rtol=0)


@pytest.mark.parametrize("kw, spec, x_shape", [(MLP, NetSpec((2,)), (8, 2)), (DC, NetSpec((1, 8, 8)), (8, 1, 8, 8))])
def test_minibatch_stddev_adds_a_weighted_group_std(kw, spec, x_shape):
    cfg = model_config(**{**kw, "d_norm": "none"}, d_minibatch="stddev", mbstd_group=4)
    _, d = build_networks(cfg, spec)
    assert isinstance(d.minibatch.layer, MinibatchStdDev)
    d.eval()
    x = torch.randn(x_shape)
    out = d(x)
    f = out.features  # (8, F)
    # by hand: groups are samples {m, m+2, m+4, m+6}, population std per feature, averaged
    groups = f.reshape(4, 2, -1)  # (G, M, F)
    s = (groups.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=1)  # (M,)
    w = d.minibatch.head.weight.reshape(())
    base = d.head(f if kw is MLP else f.reshape(8, -1, *d.body(x).shape[2:])).flatten()
    torch.testing.assert_close(out.logits, base + w * s.repeat(4))


def test_minibatch_discrimination_in_mlp_uses_the_paper_layer():
    cfg = model_config(**MLP, d_minibatch="discrimination", mbd_kernels=3, mbd_kernel_dim=2)
    _, d = build_networks(cfg, NetSpec((2,)))
    layer = d.minibatch.layer
    assert isinstance(layer, MinibatchDiscrimination) and layer.T.shape == (16, 3, 2)
    x = torch.randn(5, 2)
    out = d(x)
    f = out.features
    m = torch.einsum("na,abc->nbc", f, layer.T)
    o = torch.exp(-(m[:, None] - m[None]).abs().sum(3)).sum(1)  # (5, 3)
    torch.testing.assert_close(out.logits, d.head(f).squeeze(1) + o @ d.minibatch.head.weight[0])


def test_minibatch_changes_d_only_and_needs_the_default_arch():
    with pytest.raises(ConfigError, match="d_minibatch"):
        model_config(**{"d_minibatch": "stddev", "d_arch": "patchgan"})
    with pytest.raises(ConfigError, match="mbd_kernels"):
        model_config(**{"mbd_kernels": 0})


@pytest.mark.parametrize("kw, shape, packed", [(MLP, (2,), (6,)), (DC, (1, 8, 8), (3, 8, 8))])
def test_pack_multiplies_d_input_channels(kw, shape, packed):
    spec = NetSpec(shape, pack=3)
    assert spec.d_sample_shape == packed
    g, d = build_networks(model_config(**kw), spec)
    assert d(torch.randn(2, *packed)).logits.shape == (2,)
    assert g(torch.randn(2, kw["z_dim"])).shape == (2, *shape)  # G is not packed
    with pytest.raises(ConfigError, match="unconditional"):
        build_networks(model_config(**kw, conditional=True), NetSpec(shape, 10, pack=2))


def test_weight_norm_parametrizes_every_d_weight_and_excludes_spectral_norm():
    _, d = build_networks(model_config(**MLP, d_weight_norm=True, d_class_head=3), NetSpec((2,)))
    linears = [m for m in d.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 4 and all(hasattr(m.parametrizations.weight, "original0") for m in linears)
    with pytest.raises(ConfigError, match="exclude each other"):
        model_config(**{**MLP, "d_weight_norm": True, "d_spectral_norm": True})


def test_hidden_noise_follows_the_authors_placement():
    """Noise after every hidden layer in training mode; ``features`` are the last hidden layer
    before its noise, the logit and the class head read the noisy copy; none in eval mode."""
    torch.manual_seed(0)
    _, d = build_networks(model_config(**MLP, d_hidden_noise=0.5, d_class_head=3), NetSpec((2,)))
    x = torch.randn(5, 2)
    lin1, lin2 = d.body[0], d.body[4]  # Linear, Identity norm, LeakyReLU, GaussianNoise, Linear, ...
    act = torch.nn.functional.leaky_relu
    torch.manual_seed(1)
    out = d(x)
    torch.manual_seed(1)  # the same draws, in the same order, by hand
    h1 = act(lin1(x), 0.2)
    feats = act(lin2(h1 + 0.5 * torch.randn_like(h1)), 0.2)
    noisy = feats + 0.5 * torch.randn_like(feats)
    torch.testing.assert_close(out.features, feats)
    torch.testing.assert_close(out.logits, d.head(noisy).squeeze(1))
    torch.testing.assert_close(out.class_logits, d.aux.classes(noisy))
    d.eval()
    clean = d(x)
    torch.testing.assert_close(clean.logits, d.head(act(lin2(act(lin1(x), 0.2)), 0.2)).squeeze(1))
    with pytest.raises(ConfigError, match="unknown key model.d_hidden_noise for model.arch='dcgan'"):
        model_config(**{**MLP, "arch": "dcgan", "d_hidden_noise": 0.5})
    with pytest.raises(ConfigError, match=">= 0"):
        model_config(**{**MLP, "d_hidden_noise": -1.0})


def test_mlp_discriminator_relu_option():
    """``mlp_d_activation=relu``: every hidden layer is max(0, Wx + b) (by hand); LeakyReLU stays the default."""
    torch.manual_seed(0)
    _, d = build_networks(model_config(**MLP, mlp_d_activation="relu"), NetSpec((2,)))
    x = torch.randn(64, 2)
    lin1, lin2 = d.body[0], d.body[3]  # Linear, Identity norm, ReLU, Linear, ...
    feats = lin2(lin1(x).clamp(min=0)).clamp(min=0)
    out = d(x)
    torch.testing.assert_close(out.features, feats)
    torch.testing.assert_close(out.logits, d.head(feats).squeeze(1))
    assert (out.features == 0).any()  # ReLU's zeros, which LeakyReLU(0.2) would not give
    _, leaky = build_networks(model_config(**MLP), NetSpec((2,)))
    assert isinstance(leaky.body[2], torch.nn.LeakyReLU) and leaky.body[2].negative_slope == 0.2
    with pytest.raises(ConfigError, match="unknown key model.mlp_d_activation for model.arch='dcgan'"):
        model_config(**{**MLP, "arch": "dcgan", "mlp_d_activation": "relu"})
    with pytest.raises(ConfigError, match="mlp_d_activation is an option of the MLP discriminator"):
        model_config(**{**MLP, "d_arch": "patchgan", "mlp_d_activation": "relu"})
    with pytest.raises(ConfigError, match="mlp_d_activation"):
        model_config(**{**MLP, "mlp_d_activation": "tanh"})


def test_mlp_generator_batch_norm_option():
    g, _ = build_networks(model_config(**MLP, mlp_g_norm="batch"), NetSpec((2,)))
    kinds = [type(m).__name__ for m in g.body]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU"] * 2 and g.body[0].bias is None
    g.train()
    z = torch.randn(64, 2)
    h = g.body[1](g.body[0](z)).detach()  # batch statistics: mean 0, std 1 per unit (BN's affine at init)
    torch.testing.assert_close(h.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    torch.testing.assert_close(h.var(0, unbiased=False), torch.ones(16), atol=1e-3, rtol=0)
    plain, _ = build_networks(model_config(**MLP), NetSpec((2,)))
    assert [type(m).__name__ for m in plain.body] == ["Linear", "ReLU"] * 2  # checkpoint keys unchanged
