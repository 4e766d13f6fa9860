"""The ResNet family (SNGAN CIFAR-style G and D, SAGAN attention, conditional BN, projection):
the generic network test plus hand-checked structure."""

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch.testing import assert_close

from gankit.errors import ConfigError
from gankit.nets import NetSpec, build_networks, model_config
from gankit.nets.resnet_blocks import CondBatchNorm2d, DBlock, GBlock, R3Block, SelfAttention

N, Z = 4, 8
CASES = [  # (channels, resolution, classes, attn_res, g_norm)
    (1, 28, 0, 0, "batch"),
    (3, 32, 0, 8, "batch"),
    (3, 32, 10, 16, "batch"),
    (1, 28, 10, 14, "none"),
    (3, 16, 0, 0, "none"),
]
IDS = [f"{c}x{r}-cls{k}-attn{a}-{g}" for c, r, k, a, g in CASES]


def build(channels, resolution, classes, attn, g_norm, seed=0, **extra):
    torch.manual_seed(seed)
    cfg = model_config(arch="resnet", z_dim=Z, g_width=8, d_width=8, conditional=classes > 0, attn_res=attn,
                       g_norm=g_norm, **extra)
    return build_networks(cfg, NetSpec((channels, resolution, resolution), classes))


def inputs(channels, resolution, classes):
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(N, Z, generator=gen)  # (N, z)
    x = torch.rand(N, channels, resolution, resolution, generator=gen) * 2 - 1  # (N, C, R, R)
    c = torch.arange(N) % classes if classes else None  # (N,)
    return z, x, c


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes(case):
    channels, resolution, classes = case[:3]
    G, D = build(*case)
    z, x, c = inputs(channels, resolution, classes)
    fake = G(z, c)
    assert fake.shape == (N, channels, resolution, resolution)
    assert fake.abs().max() <= 1
    out = D(x, c)
    assert out.logits.shape == (N,) and out.features.shape == (N, 8)


@pytest.mark.parametrize("case", CASES[:3], ids=IDS[:3])
def test_deterministic_under_a_seed_and_state_dict_round_trip(case, tmp_path):
    channels, resolution, classes = case[:3]
    z, x, c = inputs(channels, resolution, classes)
    G1, D1 = build(*case, seed=3)
    G2, D2 = build(*case, seed=3)
    for a, b in ((G1, G2), (D1, D2)):
        a.eval(), b.eval()
    assert_close(G1(z, c), G2(z, c), rtol=0, atol=0)
    assert_close(D1(x, c).logits, D2(x, c).logits, rtol=0, atol=0)
    G3, D3 = build(*case, seed=4)
    save_file(G1.state_dict(), tmp_path / "g.safetensors")
    save_file(D1.state_dict(), tmp_path / "d.safetensors")
    G3.load_state_dict(load_file(tmp_path / "g.safetensors"))
    D3.load_state_dict(load_file(tmp_path / "d.safetensors"))
    G3.eval(), D3.eval()
    assert_close(G3(z, c), G1(z, c), rtol=0, atol=0)
    assert_close(D3(x, c).logits, D1(x, c).logits, rtol=0, atol=0)


def test_d_downsamples_like_sngan():
    # 32 px: optimized block 32 -> 16, one block 16 -> 8, then two blocks at 8 (SNGAN CIFAR D)
    _, D = build(3, 32, 0, 0, "batch")
    blocks = [m for m in D.body if isinstance(m, DBlock)]
    assert [b.down for b in blocks] == [True, True, False, False] and blocks[0].first
    h = torch.randn(2, 3, 32, 32)
    sides = []
    for b in blocks:
        h = b(h)
        sides.append(h.shape[-1])
    assert sides == [16, 8, 8, 8]


def test_gblock_by_hand_with_zero_branch():
    # with the branch's last conv zeroed a block is its shortcut: nearest upsampling (+ 1x1 conv)
    block = GBlock(2, 2, norm=False, zero_init=True)
    x = torch.randn(1, 2, 3, 3)
    assert_close(block(x), x.repeat_interleave(2, 2).repeat_interleave(2, 3))


def test_dblock_shortcut_is_pooled_1x1_conv():
    block = DBlock(2, 3, down=True, first=True, zero_init=True)
    x = torch.randn(1, 2, 4, 4)
    pooled = x.view(1, 2, 2, 2, 2, 2).mean(dim=(3, 5))  # 2x2 average pooling by hand
    want = torch.nn.functional.conv2d(pooled, block.shortcut.weight, block.shortcut.bias)
    assert_close(block(x), want)


def test_attention_starts_as_identity_and_attends_once_gamma_moves():
    attn = SelfAttention(8)
    x = torch.randn(2, 8, 4, 4)
    assert_close(attn(x), x)
    with torch.no_grad():
        attn.gamma.fill_(1.0)
    # position i's output mixes the values of every position: changing one far pixel changes it
    y = x.clone()
    y[:, :, 3, 3] += 1.0
    assert not torch.allclose(attn(x)[:, :, 0, 0], attn(y)[:, :, 0, 0])


def test_conditional_batch_norm_scales_per_class():
    norm = CondBatchNorm2d(2, num_classes=3)
    with torch.no_grad():
        norm.gamma.weight.copy_(torch.tensor([[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]]))
        norm.beta.weight.copy_(torch.tensor([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]))
    x = torch.randn(6, 2, 3, 3)
    c = torch.tensor([0, 1, 2, 0, 1, 2])
    plain = torch.nn.functional.batch_norm(x, None, None, training=True)
    out = norm(x, c)
    assert_close(out[0], plain[0])
    assert_close(out[1], 2 * plain[1])
    assert_close(out[2], plain[2] + 5)


def test_generator_learns_per_class_norms():
    # conditional BN starts at gamma = 1, beta = 0 for every class (G starts class-blind, as SNGAN);
    # the gradient reaches only the rows of the classes in the batch
    G, _ = build(1, 28, 10, 0, "batch")
    G(torch.randn(N, Z), torch.tensor([0, 0, 3, 3])).sum().backward()
    rows = G.blocks[0].norm1.beta.weight.grad.abs().sum(dim=1)  # (10,)
    assert rows[0] > 0 and rows[3] > 0 and rows[[1, 2, 4, 5, 6, 7, 8, 9]].sum() == 0


def test_bad_attention_resolution_is_a_config_error():
    with pytest.raises(ConfigError, match="attn_res=32"):
        build(3, 32, 0, 32, "batch")


def test_spectral_norm_and_pack_through_the_shared_d_builder():
    torch.manual_seed(0)
    cfg = model_config(arch="resnet", z_dim=Z, g_width=8, d_width=8, d_spectral_norm=True)
    _, D = build_networks(cfg, NetSpec((1, 28, 28), 0, pack=2))
    assert D(torch.randn(3, 2, 28, 28)).logits.shape == (3,)
    assert any("parametrizations" in name for name, _ in D.named_parameters())


def test_zero_init_with_a_normalised_d_is_refused():
    # W / sigma(W) with W = 0 is NaN: the first forward of such a D would poison training
    with pytest.raises(ConfigError, match="res_zero_init"):
        model_config(arch="resnet", res_zero_init=True, d_spectral_norm=True)


def test_r3gan_blocks_shapes_and_identity_start():
    G, D = build(3, 32, 10, 8, "none", res_block="r3gan")
    z, x, c = inputs(3, 32, 10)
    assert G(z, c).shape == (N, 3, 32, 32) and D(x, c).logits.shape == (N,)
    block = R3Block(16, expansion=2, group_size=8, total_blocks=4)
    assert block.conv2.groups == 4  # 32 hidden channels in groups of 8
    h = torch.randn(2, 16, 5, 5)
    assert_close(block(h), h)  # last conv zero: the block starts as the identity
    with torch.no_grad():
        block.conv3.weight.fill_(0.01)
    assert not torch.allclose(block(h), h)
    # Fix-up-like scaling: He-initialised weights shrunk by L^(-1/4) (L = 16 blocks: by 1/2)
    torch.manual_seed(0)
    big = R3Block(64, total_blocks=16)
    fan_in = big.conv1.weight[0].numel()
    he_std = (2.0 / (1 + 0.2**2) / fan_in) ** 0.5
    assert big.conv1.weight.std().item() == pytest.approx(0.5 * he_std, rel=0.1)


def test_r3gan_blocks_need_a_normalisation_free_g_and_plain_d():
    with pytest.raises(ConfigError, match="g_norm=none"):
        model_config(arch="resnet", res_block="r3gan")
    with pytest.raises(ConfigError, match="spectral"):
        model_config(arch="resnet", res_block="r3gan", g_norm="none", d_spectral_norm=True)
