"""U-Net generator and the conditional pair discriminator: shapes at 28 and 32 px, skip
connections that carry information past the bottleneck, receptive fields measured by gradients,
determinism and state-dict round trips."""

from __future__ import annotations

import pytest
import torch

from gankit.errors import ConfigError, ShapeError
from gankit.nets import NetSpec, build_networks, model_config
from gankit.nets.pair_discriminator import PairDiscriminator
from gankit.nets.unet import UNetGenerator, unet_padded_side


def _nets(size: int = 28, ca: int = 1, cb: int = 1, **keys):
    cfg = model_config(arch="unet", g_width=4, d_width=4, **keys)
    return build_networks(cfg, NetSpec((cb, size, size), 10, input_shape=(ca, size, size)))


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("field", ["pixel", "patch", "image"])
def test_shapes(size, field):
    G, D = _nets(size, ca=1, cb=3, d_field=field)
    a = torch.rand(2, 1, size, size) * 2 - 1
    b = G(a)
    assert b.shape == (2, 3, size, size) and b.abs().max() <= 1
    logits = D(torch.cat([a, b], 1)).logits
    want = {"pixel": (2, 1, size, size), "patch": (2, 1, size // 2 - 2, size // 2 - 2), "image": (2,)}[field]
    assert tuple(logits.shape) == want


def test_depth_follows_the_resolution():
    assert [unet_padded_side(s, s) for s in (8, 28, 32, 33)] == [8, 32, 32, 64]
    assert UNetGenerator(1, 1, (28, 28), 4).depth == 5  # 32 -> 1x1
    assert UNetGenerator(1, 1, (28, 28), 4, depth=3).depth == 3
    with pytest.raises(ConfigError, match="unet_depth"):
        UNetGenerator(1, 1, (28, 28), 4, depth=6)


def _zero_bottleneck(G):
    return G.down[-1].register_forward_hook(lambda m, i, out: torch.zeros_like(out))


def test_skips_carry_the_input_past_the_bottleneck():
    """With the bottleneck zeroed, the U-Net still sees its input through the skips; the
    encoder-decoder ablation then outputs the same image for every input (catches skips that are
    built but not concatenated, or concatenated in the ablation)."""
    torch.manual_seed(0)
    a1, a2 = torch.randn(2, 1, 28, 28), torch.randn(2, 1, 28, 28)
    for skips, differs in ((True, True), (False, False)):
        G = UNetGenerator(1, 1, (28, 28), 4, skips=skips, dropout=0.0).eval()
        handle = _zero_bottleneck(G)
        out1, out2 = G(a1), G(a2)
        handle.remove()
        assert (not torch.allclose(out1, out2)) == differs


def _support(D: PairDiscriminator, size: int, index: tuple) -> tuple[int, int]:
    """Rows and columns of the input that one logit depends on (non-zero gradient)."""
    x = torch.randn(1, D.channels, size, size, requires_grad=True)
    D.eval()(x).logits[index].backward()
    g = x.grad.abs().sum(dim=(0, 1))  # (H, W)
    rows, cols = g.sum(1).nonzero(), g.sum(0).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_receptive_fields():
    """1x1 for the PixelGAN, 16 px for a one-layer PatchGAN, 34 for two (the k4 s2/s1/s1 chain:
    1 + 3 + 3 + 3·3 = 16; 34 for two), the whole image for the ImageGAN."""
    torch.manual_seed(0)
    assert _support(PairDiscriminator(2, (28, 28), 4, "pixel"), 28, (0, 0, 10, 10)) == (1, 1)
    assert _support(PairDiscriminator(2, (28, 28), 4, "patch", 1), 28, (0, 0, 6, 6)) == (16, 16)
    assert _support(PairDiscriminator(2, (64, 64), 4, "patch", 2), 64, (0, 0, 6, 6)) == (34, 34)
    assert _support(PairDiscriminator(2, (28, 28), 4, "image"), 28, (0,)) == (28, 28)


def test_determinism_and_state_dict_round_trip():
    torch.manual_seed(3)
    G1, D1 = _nets(28, d_field="patch")
    torch.manual_seed(3)
    G2, D2 = _nets(28, d_field="patch")
    a = torch.randn(3, 1, 28, 28)
    G1.eval(), G2.eval(), D1.eval(), D2.eval()
    torch.testing.assert_close(G1(a), G2(a), rtol=0, atol=0)
    torch.manual_seed(4)
    G3, D3 = _nets(28, d_field="patch")
    G3.load_state_dict(G1.state_dict())
    D3.load_state_dict(D1.state_dict())
    G3.eval(), D3.eval()
    torch.testing.assert_close(G3(a), G1(a), rtol=0, atol=0)
    x = torch.cat([a, G1(a)], 1)
    torch.testing.assert_close(D3(x).logits, D1(x).logits, rtol=0, atol=0)


def test_dropout_at_test_is_noise_in_eval_mode():
    a = torch.randn(2, 1, 32, 32)
    G = UNetGenerator(1, 1, (32, 32), 4, dropout_at_test=True).eval()
    assert not torch.allclose(G(a), G(a))
    G = UNetGenerator(1, 1, (32, 32), 4).eval()
    torch.testing.assert_close(G(a), G(a), rtol=0, atol=0)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ConfigError, match="paired data"):
        build_networks(model_config(arch="unet"), NetSpec((1, 28, 28)))
    with pytest.raises(ConfigError, match="same size"):
        build_networks(model_config(arch="unet"), NetSpec((1, 28, 28), input_shape=(1, 7, 7)))
    G, D = _nets(28)
    with pytest.raises(ShapeError, match=r"\(N, 1, 28, 28\)"):
        G(torch.randn(2, 3, 28, 28))
    with pytest.raises(ShapeError, match="cat"):
        D(torch.randn(2, 1, 28, 28))
