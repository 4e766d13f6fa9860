"""CycleGAN's ResNet translator and SRResNet with the SRGAN D: shapes, layouts against the papers,
refusals of wrong inputs, determinism and state-dict round trips."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets import NetSpec, build_networks, model_config
from gankit.nets.patchgan import PatchGANDiscriminator
from gankit.nets.resnet_translator import ResidualBlock, ResnetTranslator, domain_discriminator
from gankit.nets.srresnet import SRGANDiscriminator, SRResNet


def _translator(ca=1, cb=1, size=28, **keys):
    keys = {"g_width": 4, "d_width": 4, "translator_blocks": 2, **keys}
    return build_networks(model_config(arch="resnet-translator", **keys),
                          NetSpec((cb, size, size), input_shape=(ca, size, size)))


def _sr(scale=4, size=7, channels=1, **keys):
    keys = {"g_width": 4, "d_width": 4, "sr_blocks": 2, **keys}
    return build_networks(model_config(arch="srresnet", **keys),
                          NetSpec((channels, size * scale, size * scale), input_shape=(channels, size, size)))


@pytest.mark.parametrize("size", [28, 32])
def test_translator_shapes_and_range(size):
    G, D = _translator(ca=1, cb=3, size=size)
    out = G(torch.randn(2, 1, size, size) * 3)
    assert out.shape == (2, 3, size, size) and out.abs().max() <= 1
    assert isinstance(D, PatchGANDiscriminator)
    assert D(out).logits.shape == (2, 1, size // 8 - 2, size // 8 - 2)  # the 70x70 PatchGAN


def test_translator_layout_follows_zhu_et_al():
    """c7s1-k, d2k, d4k, R(4k) x blocks, u2k, uk, c7s1-C: the down/up widths and the block count
    (catches a missing stage, a doubled width or blocks built but not used)."""
    G = ResnetTranslator(1, 1, (28, 28), width=8, blocks=5, downsamples=2)
    convs = [m for m in G.net if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (1, 8, 7, 1), (8, 16, 3, 2), (16, 32, 3, 2), (32, 16, 3, 2), (16, 8, 3, 2), (8, 1, 7, 1)]
    blocks = [m for m in G.net if isinstance(m, ResidualBlock)]
    assert len(blocks) == 5 and all(b.body[1].in_channels == 32 for b in blocks)
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in G.modules()) == 5 + 2 * 5  # c7s1, d, d, u, u + two per block


def test_residual_block_is_identity_plus_body():
    block = ResidualBlock(3)
    x = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(block(x), x + block.body(x))


def test_translator_refuses_wrong_inputs():
    G, _ = _translator()
    with pytest.raises(ShapeError, match=r"\(N, 1, 28, 28\)"):
        G(torch.randn(2, 1, 32, 32))
    with pytest.raises(ShapeError):
        G(torch.randn(2, 3, 28, 28))
    with pytest.raises(ConfigError, match="divisible by 4"):
        ResnetTranslator(1, 1, (30, 30))
    with pytest.raises(ShapeError, match="keeps the image size"):
        build_networks(model_config(arch="resnet-translator"), NetSpec((1, 28, 28), input_shape=(1, 14, 14)))
    with pytest.raises(ConfigError, match="side >= 24"):
        _translator(size=16)  # the default 70x70 PatchGAN has no output at 16 px
    G16, D16 = _translator(size=16, d_arch="patchgan", d_layers=1)
    assert D16(G16(torch.randn(1, 1, 16, 16))).logits.shape == (1, 1, 6, 6)


def test_domain_discriminator_judges_single_images():
    cfg = model_config(arch="unet", d_width=4, d_norm="instance")  # a family whose own D reads pairs
    D = domain_discriminator(cfg, NetSpec((3, 32, 32)))
    assert isinstance(D, PatchGANDiscriminator) and D.channels == 3


def test_srresnet_shapes_and_range():
    G, D = _sr()
    lr = torch.randn(3, 1, 7, 7)
    sr = G(lr)
    assert sr.shape == (3, 1, 28, 28) and sr.abs().max() <= 1
    assert isinstance(D, SRGANDiscriminator)
    out = D(sr)
    assert out.logits.shape == (3,) and out.features.shape == (3, 1024)
    G2, _ = _sr(scale=2, size=8, channels=3)
    assert G2(torch.randn(2, 3, 8, 8)).shape == (2, 3, 16, 16)


def test_srresnet_uses_pixel_shuffle_per_factor_of_two():
    """log2(scale) sub-pixel stages, each conv to 4k channels then PixelShuffle(2) (catches
    up-sampling by interpolation or one shuffle by 4)."""
    G = SRResNet(1, (7, 7), scale=4, width=8, blocks=3)
    shuffles = [m for m in G.upsample if isinstance(m, nn.PixelShuffle)]
    assert [s.upscale_factor for s in shuffles] == [2, 2]
    assert [m.out_channels for m in G.upsample if isinstance(m, nn.Conv2d)] == [32, 32]
    assert len(G.blocks) == 3 and sum(isinstance(m, nn.PReLU) for m in G.modules()) == 1 + 3 + 2


def test_srgan_discriminator_layout():
    """Ledig et al. Fig. 4: k, then k(s2), 2k, 2k(s2), 4k, 4k(s2), 8k, 8k(s2); Dense(1024), Dense(1)."""
    D = SRGANDiscriminator(1, (28, 28), width=4)
    convs = [m for m in D.body if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.stride[0]) for c in convs] == [
        (4, 1), (4, 2), (8, 1), (8, 2), (16, 1), (16, 2), (32, 1), (32, 2)]
    assert D.dense[0].in_features == 32 * 2 * 2  # 28 -> 14 -> 7 -> 4 -> 2


def test_sr_refuses_a_wrong_size_with_one_line():
    G, _ = _sr()
    with pytest.raises(ShapeError, match=r"x4 upscales images of shape \(N, 1, 7, 7\), got \(2, 1, 14, 14\)") as err:
        G(torch.randn(2, 1, 14, 14))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="power of two"):
        build_networks(model_config(arch="srresnet"), NetSpec((1, 21, 21), input_shape=(1, 7, 7)))
    with pytest.raises(ConfigError, match="low- and high-resolution"):
        build_networks(model_config(arch="srresnet"), NetSpec((1, 28, 28)))


@pytest.mark.parametrize("make, shape", [(_translator, (2, 1, 28, 28)), (_sr, (2, 1, 7, 7))])
def test_determinism_and_state_dict_round_trip(make, shape):
    torch.manual_seed(0)
    G1, D1 = make()
    torch.manual_seed(0)
    G2, D2 = make()
    x = torch.randn(shape)
    for a, b in ((G1, G2), (D1, D2)):
        a.eval(), b.eval()
    torch.testing.assert_close(G1(x), G2(x), rtol=0, atol=0)
    torch.manual_seed(1)
    G3, D3 = make()
    G3.load_state_dict(G1.state_dict())
    D3.load_state_dict(D1.state_dict())
    G3.eval(), D3.eval()
    torch.testing.assert_close(G3(x), G1(x), rtol=0, atol=0)
    y = G1(x)
    torch.testing.assert_close(D3(y).logits, D1(y).logits, rtol=0, atol=0)


def test_srresnet_long_skip_carries_the_first_features_past_the_blocks():
    """With the trunk's last BN zeroed, the up-sampler sees exactly the first conv's features u
    (catches a missing long skip, which would leave it zeros)."""
    G = SRResNet(1, (7, 7), scale=4, width=4, blocks=2).eval()
    with torch.no_grad():
        G.trunk_out[1].weight.zero_()
        G.trunk_out[1].bias.zero_()
        x = torch.randn(2, 1, 7, 7)
        torch.testing.assert_close(G(x), G.tail(G.upsample(G.head(x))))
