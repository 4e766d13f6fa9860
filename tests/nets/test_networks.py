"""The generic network test (DESIGN.md item 8), applied to every family and size, plus
hand-checked structure of the DCGAN nets and the projection-discriminator identity."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets import (
    NETWORKS,
    DCGANDiscriminator,
    DCGANGenerator,
    DOutput,
    MLPDiscriminator,
    MLPGenerator,
    NetSpec,
    build_networks,
    dcgan_geometry,
    model_config,
)
from gankit.nets.base import mixes_samples
from tests.helpers import mlp_only

N = 4  # batch size of every test forward (> 1 so BatchNorm can train)
Z_DIM = 8


@dataclass(frozen=True)
class Case:
    arch: str
    sample_shape: tuple[int, ...]
    num_classes: int = 0
    d_norm: str = "batch"
    fc: int = 0  # DCGAN: fully connected layer in G and D (model.g_fc, model.d_fc)

    @property
    def id(self) -> str:
        shape = "x".join(map(str, self.sample_shape))
        cond = f"-cond{self.num_classes}" if self.num_classes else ""
        fc = f"-fc{self.fc}" if self.fc else ""
        return f"{self.arch}-{shape}-{self.d_norm}{cond}{fc}"

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3

    def cfg(self) -> object:
        return model_config(
            arch=self.arch, z_dim=Z_DIM, g_width=4, d_width=4, d_norm=self.d_norm, conditional=self.num_classes > 0,
            **mlp_only(self.arch, mlp_layers=2), **(dict(g_fc=self.fc, d_fc=self.fc) if self.arch == "dcgan" else {}),
        )

    def spec(self) -> NetSpec:
        return NetSpec(self.sample_shape, self.num_classes)

    def build(self, seed: int = 0) -> tuple[nn.Module, nn.Module]:
        torch.manual_seed(seed)
        return build_networks(self.cfg(), self.spec())

    def inputs(self, seed: int = 123) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(N, Z_DIM, generator=gen)  # (N, z_dim)
        x = torch.rand(N, *self.sample_shape, generator=gen) * 2 - 1  # (N, *sample_shape)
        c = torch.arange(N) % self.num_classes if self.num_classes else None  # (N,)
        return z, x, c


CASES = [
    Case("mlp", (2,)),
    Case("mlp", (1, 8, 8), d_norm="layer"),
    *[Case("dcgan", (ch, r, r)) for r in (8, 16, 28, 32, 64) for ch in (1, 3)],
    Case("dcgan", (1, 16, 16), d_norm="layer"),
    Case("dcgan", (3, 8, 8), d_norm="none"),
    # conditional variants of both families
    Case("mlp", (2,), num_classes=3, d_norm="none"),
    Case("mlp", (1, 8, 8), num_classes=10),
    Case("dcgan", (1, 28, 28), num_classes=10),
    Case("dcgan", (3, 32, 32), num_classes=5, d_norm="layer"),
    # fully connected layers between z / features and the convolutions (InfoGAN's MNIST nets)
    Case("dcgan", (1, 28, 28), fc=16),
    Case("dcgan", (1, 16, 16), d_norm="none", fc=8),
    Case("dcgan", (1, 16, 16), num_classes=3, d_norm="layer", fc=8),
]
COND_CASES = [c for c in CASES if c.num_classes]
UNCOND_CASES = [c for c in CASES if not c.num_classes]


def params(cases: list[Case]):
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


def outputs(g: nn.Module, d: nn.Module, case: Case) -> tuple[torch.Tensor, DOutput]:
    z, x, c = case.inputs()
    with torch.no_grad():
        return g(z, c), d(x, c)


# --------------------------------------------------------------------------- generic test


@params(CASES)
def test_output_shapes_and_range(case: Case) -> None:
    g, d = case.build()
    assert g.z_dim == Z_DIM and g.num_classes == case.num_classes
    assert tuple(g.sample_shape) == case.sample_shape
    for mode in (True, False):  # train and eval
        g.train(mode), d.train(mode)
        fake, out = outputs(g, d, case)
        assert fake.shape == (N, *case.sample_shape) and fake.dtype == torch.float32
        assert isinstance(out, DOutput)
        assert out.logits.shape == (N,)
        assert out.features is not None and out.features.dim() == 2
        assert out.features.shape[0] == N and out.features.shape[1] > 0
        assert torch.isfinite(fake).all() and torch.isfinite(out.logits).all()
        if case.is_image:
            assert fake.min() >= -1 and fake.max() <= 1
    # D accepts G's output directly, and gradients reach every parameter of both nets
    g.train(), d.train()
    z, _, c = case.inputs()
    d(g(z, c), c).logits.sum().backward()
    for name, p in [*g.named_parameters(), *d.named_parameters()]:
        assert p.grad is not None, name


@params(CASES)
def test_determinism_under_seed(case: Case) -> None:
    g1, d1 = case.build(seed=0)
    g2, d2 = case.build(seed=0)
    g3, d3 = case.build(seed=1)
    for a, b in ((g1, g2), (d1, d2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            torch.testing.assert_close(sa[k], sb[k], rtol=0, atol=0)
    fake1, out1 = outputs(g1, d1, case)
    fake2, out2 = outputs(g2, d2, case)
    torch.testing.assert_close(fake1, fake2, rtol=0, atol=0)
    torch.testing.assert_close(out1.logits, out2.logits, rtol=0, atol=0)
    for a, b in ((g1, g3), (d1, d3)):
        assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    fake3, out3 = outputs(g3, d3, case)
    assert not torch.equal(fake1, fake3) and not torch.equal(out1.logits, out3.logits)


@params(CASES)
def test_state_dict_safetensors_roundtrip(case: Case, tmp_path) -> None:
    g, d = case.build(seed=0)
    z, x, c = case.inputs()
    with torch.no_grad():  # one train-mode pass so BatchNorm running stats are non-trivial
        d(g(z, c), c)
    for name, net in (("g", g), ("d", d)):
        save_file(net.state_dict(), str(tmp_path / f"{name}.safetensors"))
    g2, d2 = case.build(seed=7)  # fresh nets with different weights
    g2.load_state_dict(load_file(str(tmp_path / "g.safetensors")))
    d2.load_state_dict(load_file(str(tmp_path / "d.safetensors")))
    for net in (g, d, g2, d2):
        net.eval()
    fake, out = outputs(g, d, case)
    fake2, out2 = outputs(g2, d2, case)
    torch.testing.assert_close(fake2, fake, rtol=0, atol=0)
    torch.testing.assert_close(out2.logits, out.logits, rtol=0, atol=0)
    torch.testing.assert_close(out2.features, out.features, rtol=0, atol=0)


@params(CASES)
def test_shape_errors_at_the_boundary(case: Case) -> None:
    g, d = case.build()
    z, x, c = case.inputs()
    bad_x = [
        x[0],  # no batch dimension
        x.flatten(1)[:, :-1] if not case.is_image else x[..., :-1],  # wrong last dim
        x.unsqueeze(1),  # one dimension too many
    ]
    for bx in bad_x:
        with pytest.raises(ShapeError, match="x must have shape"):
            d(bx, c)
    for bz in (z[:, :-1], z[0], z[:, :, None]):
        with pytest.raises(ShapeError, match="z must have shape"):
            g(bz, c)
    if case.num_classes:
        with pytest.raises(ShapeError, match="conditional"):
            g(z)
        with pytest.raises(ShapeError, match="conditional"):
            d(x)
        with pytest.raises(ShapeError, match=r"c must have shape \(4,\)"):
            d(x, c[:-1])
        with pytest.raises(ShapeError, match="integer"):
            g(z, c.float())
    else:
        labels = torch.zeros(N, dtype=torch.long)
        with pytest.raises(ShapeError, match="unconditional"):
            g(z, labels)
        with pytest.raises(ShapeError, match="unconditional"):
            d(x, labels)
        empty = torch.zeros(0, dtype=torch.long)  # an empty c means "no labels"
        g(z, empty), d(x, empty)


# --------------------------------------------------------------------------- conditioning


@params(COND_CASES)
def test_changing_c_changes_outputs(case: Case) -> None:
    g, d = case.build()
    g.eval(), d.eval()  # per-sample outputs, so only the labels differ
    z, x, c = case.inputs()
    c2 = (c + 1) % case.num_classes
    with torch.no_grad():
        fake_a, fake_b = g(z, c), g(z, c2)
        out_a, out_b = d(x, c), d(x, c2)
    for i in range(N):
        assert not torch.equal(fake_a[i], fake_b[i])
        assert out_a.logits[i] != out_b.logits[i]
    torch.testing.assert_close(out_a.features, out_b.features)  # labels act only on the head


@params(COND_CASES)
def test_projection_discriminator_identity(case: Case) -> None:
    """D(x, c) = ψ(φ(x)) + ⟨E[c], φ(x)⟩ (Miyato & Koyama 2018, eq. 3), from D's own weights."""
    _, d = case.build()
    d.eval()
    _, x, c = case.inputs()
    with torch.no_grad():
        out = d(x, c)
    phi = out.features  # (N, F)
    w = d.head.weight.reshape(-1)  # the head (Linear or kernel-s0 conv) is linear in φ
    unconditional = phi @ w + d.head.bias  # (N,)
    embed = d.projection.embed.weight  # (K, F)
    assert embed.shape == (case.num_classes, phi.shape[1])
    projection = (embed[c] * phi).sum(dim=1)  # (N,)
    torch.testing.assert_close(out.logits, unconditional + projection, rtol=1e-5, atol=1e-5)
    assert projection.abs().max() > 0


def test_unconditional_config_ignores_labels_of_the_data() -> None:
    cfg = model_config(arch="mlp", z_dim=Z_DIM, conditional=False)
    g, d = build_networks(cfg, NetSpec((2,), 10))
    assert g.num_classes == 0 and d.num_classes == 0


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_conditional_config_needs_labelled_data(arch: str) -> None:
    with pytest.raises(ConfigError, match="class labels"):
        build_networks(model_config(arch=arch, conditional=True), NetSpec((1, 8, 8), 0))


def test_per_sample_norms_do_not_mix_the_batch() -> None:
    """"layer" (GroupNorm(1, C) / LayerNorm) and "none" keep D per-sample in train mode, as
    gradient penalties require; "batch" and the minibatch layers do not; ``mixes_samples``
    says which, as measured here on the outputs."""
    for arch, shape in (("dcgan", (1, 16, 16)), ("mlp", (2,))):
        for norm, minibatch, per_sample in (("layer", "none", True), ("none", "none", True),
                                            ("batch", "none", False), ("none", "stddev", False),
                                            ("none", "discrimination", False)):
            torch.manual_seed(0)
            cfg = dataclasses.replace(Case(arch, shape, d_norm=norm).cfg(), d_minibatch=minibatch)
            _, d = build_networks(cfg, NetSpec(shape))
            x = torch.randn(N, *shape)
            with torch.no_grad():
                same = torch.allclose(d(x).logits[:2], d(x[:2]).logits, atol=1e-6)
            assert same == per_sample, (arch, norm, minibatch)
            assert mixes_samples(d) == (not per_sample), (arch, norm, minibatch)


# --------------------------------------------------------------------------- structure


def test_registry_and_builders() -> None:
    assert {"mlp", "dcgan"} <= set(NETWORKS.names())
    g, d = build_networks(model_config(arch="mlp", z_dim=3), NetSpec((2,)))
    assert isinstance(g, MLPGenerator) and isinstance(d, MLPDiscriminator)
    cfg = model_config(arch="dcgan", z_dim=3, g_width=2, d_width=2)
    g, d = build_networks(cfg, NetSpec((1, 8, 8)))
    assert isinstance(g, DCGANGenerator) and isinstance(d, DCGANDiscriminator)


def test_dcgan_resolution_rule() -> None:
    expected = {6: (3, 1), 8: (4, 1), 12: (3, 2), 16: (4, 2), 28: (7, 2), 32: (4, 3),
                56: (7, 3), 64: (4, 4), 96: (3, 5), 128: (4, 5)}
    for r, (s0, k) in expected.items():
        assert dcgan_geometry(r) == (s0, k)
        assert s0 * 2**k == r
    for r in (1, 2, 4, 5, 7, 9, 18, 36, 100):
        with pytest.raises(ConfigError, match="resolution"):
            dcgan_geometry(r)
        with pytest.raises(ConfigError):
            build_networks(model_config(arch="dcgan"), NetSpec((1, r, r)))
    for shape in ((2,), (1, 16, 32), (16, 16)):
        with pytest.raises(ConfigError):
            build_networks(model_config(arch="dcgan"), NetSpec(shape))
    with pytest.raises(ConfigError):
        build_networks(model_config(arch="mlp"), NetSpec((4, 4)))


def conv_list(module: nn.Module, kind: type) -> list[tuple]:
    return [
        (m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0])
        for m in module.modules() if type(m) is kind
    ]


def spatial_sizes(net: nn.Module, kind: type, x: torch.Tensor, c=None) -> list[int]:
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: sizes.append(o.shape[-1]))
             for m in net.modules() if type(m) is kind]
    with torch.no_grad():
        net(x, c)
    for h in hooks:
        h.remove()
    return sizes


def test_dcgan28_layers_by_hand() -> None:
    """MNIST-size DCGAN: 28 = 7·2², width 64, z 100, 1 channel."""
    g = DCGANGenerator(z_dim=100, resolution=28, channels=1, width=64)
    d = DCGANDiscriminator(resolution=28, channels=1, width=64)
    # (in, out, kernel, stride, padding)
    assert conv_list(g, nn.ConvTranspose2d) == [
        (100, 128, 7, 1, 0),  # (N, 100, 1, 1) -> (N, 128, 7, 7)
        (128, 64, 4, 2, 1),  # -> (N, 64, 14, 14)
        (64, 1, 4, 2, 1),  # -> (N, 1, 28, 28)
    ]
    assert conv_list(d, nn.Conv2d) == [
        (1, 64, 4, 2, 1),  # (N, 1, 28, 28) -> (N, 64, 14, 14)
        (64, 128, 4, 2, 1),  # -> (N, 128, 7, 7) = features
        (128, 1, 7, 1, 0),  # -> (N, 1, 1, 1) = logit
    ]
    assert spatial_sizes(g, nn.ConvTranspose2d, torch.randn(2, 100)) == [7, 14, 28]
    assert spatial_sizes(d, nn.Conv2d, torch.randn(2, 1, 28, 28)) == [14, 7, 1]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 1  # none on layer 1
    assert d.feature_dim == 128 * 7 * 7


def test_dcgan64_layers_by_hand() -> None:
    """The paper's 64×64 net (Radford et al. 2016, Fig. 1): 1024 at 4×4 there, width 128; ours
    with width 64 has 512 at 4×4 as in the reference PyTorch implementation."""
    g = DCGANGenerator(z_dim=100, resolution=64, channels=3, width=64)
    d = DCGANDiscriminator(resolution=64, channels=3, width=64)
    assert conv_list(g, nn.ConvTranspose2d) == [
        (100, 512, 4, 1, 0),  # -> (N, 512, 4, 4)
        (512, 256, 4, 2, 1),  # -> (N, 256, 8, 8)
        (256, 128, 4, 2, 1),  # -> (N, 128, 16, 16)
        (128, 64, 4, 2, 1),  # -> (N, 64, 32, 32)
        (64, 3, 4, 2, 1),  # -> (N, 3, 64, 64)
    ]
    assert conv_list(d, nn.Conv2d) == [
        (3, 64, 4, 2, 1),  # -> (N, 64, 32, 32)
        (64, 128, 4, 2, 1),  # -> (N, 128, 16, 16)
        (128, 256, 4, 2, 1),  # -> (N, 256, 8, 8)
        (256, 512, 4, 2, 1),  # -> (N, 512, 4, 4) = features
        (512, 1, 4, 1, 0),  # -> (N, 1, 1, 1)
    ]
    assert spatial_sizes(g, nn.ConvTranspose2d, torch.randn(2, 100)) == [4, 8, 16, 32, 64]
    assert spatial_sizes(d, nn.Conv2d, torch.randn(2, 3, 64, 64)) == [32, 16, 8, 4, 1]
    assert isinstance(g.net[-1], nn.Tanh)
    assert [type(m) for m in d.body[:2]] == [nn.Conv2d, nn.LeakyReLU]  # no norm on layer 1
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, nn.LeakyReLU))


def test_infogan_mnist_layers_by_hand() -> None:
    """Chen et al. 2016, App. C, MNIST: G = FC 1024 → FC 7·7·128 → upconv 64 → upconv 1; D = conv 64 →
    conv 128 → FC 1024 (= features) → 1 logit. DCGAN width 64 with g_fc = d_fc = 1024, z = 74."""
    g = DCGANGenerator(z_dim=74, resolution=28, channels=1, width=64, fc=1024)
    d = DCGANDiscriminator(resolution=28, channels=1, width=64, fc=1024)

    def linears(net: nn.Module) -> list[tuple[int, int]]:
        return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]

    assert linears(g) == [(74, 1024), (1024, 128 * 7 * 7)]
    assert conv_list(g, nn.ConvTranspose2d) == [(128, 64, 4, 2, 1), (64, 1, 4, 2, 1)]
    assert spatial_sizes(g, nn.ConvTranspose2d, torch.randn(2, 74)) == [14, 28]
    assert conv_list(d, nn.Conv2d) == [(1, 64, 4, 2, 1), (64, 128, 4, 2, 1)]
    assert linears(d) == [(128 * 7 * 7, 1024), (1024, 1)]
    assert d.feature_dim == 1024 and d(torch.randn(3, 1, 28, 28)).features.shape == (3, 1024)
    # G: 74·1024 + BN 2·1024 + 1024·6272 + BN 2·6272 + 128·64·16 + BN 2·64 + 64·16 + 1
    assert n_params(g) == 75_776 + 2_048 + 6_422_528 + 12_544 + 131_072 + 128 + 1_025 == 6_645_121
    # D: 1·64·16 + 64 + 64·128·16 + BN 2·128 + 6272·1024 + BN 2·1024 + 1024 + 1
    assert n_params(d) == 1_088 + 131_072 + 256 + 6_422_528 + 2_048 + 1_025 == 6_558_017


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_parameter_counts_by_hand() -> None:
    # DCGAN, z=4, resolution 16 = 4·2² (s0=4, k=2), 1 channel, width 2, BatchNorm D.
    # G: ConvT(4->4, 4x4, no bias)  4·4·16      = 256   + BN(4) 2·4 = 8
    #    ConvT(4->2, 4x4, no bias)  4·2·16      = 128   + BN(2) 2·2 = 4
    #    ConvT(2->1, 4x4, bias)     2·1·16 + 1  = 33                       total 429
    # D: Conv(1->2, 4x4, bias)      1·2·16 + 2  = 34
    #    Conv(2->4, 4x4, no bias)   2·4·16      = 128   + BN(4) 2·4 = 8
    #    head Conv(4->1, 4x4, bias) 4·16 + 1    = 65                       total 235
    g = DCGANGenerator(z_dim=4, resolution=16, channels=1, width=2)
    d = DCGANDiscriminator(resolution=16, channels=1, width=2, norm="batch")
    assert n_params(g) == 429 and n_params(d) == 235
    # conditional, K=3 classes: G embedding 3·3 = 9 and the first ConvT sees 4+3 = 7 inputs
    # (7·4·16 = 448 instead of 256); D adds a 3 × F projection table, F = 4·4·4 = 64.
    g = DCGANGenerator(z_dim=4, resolution=16, channels=1, width=2, num_classes=3)
    d = DCGANDiscriminator(resolution=16, channels=1, width=2, num_classes=3, norm="batch")
    assert n_params(g) == 429 - 256 + 448 + 9 == 630
    assert n_params(d) == 235 + 3 * 64 == 427
    # norm "none": D's second conv gets a bias (4) and loses the BN (8): 235 - 8 + 4
    assert n_params(DCGANDiscriminator(16, 1, 2, norm="none")) == 231
    # MLP, z=3, hidden 5, 2 hidden layers, vectors (2,):
    # G: (3·5+5) + (5·5+5) + (5·2+2) = 20 + 30 + 12 = 62
    # D, norm none: (2·5+5) + (5·5+5) + (5+1) = 15 + 30 + 6 = 51
    assert n_params(MLPGenerator(3, (2,), hidden=5, layers=2)) == 62
    assert n_params(MLPDiscriminator((2,), hidden=5, layers=2)) == 51
    # generic formula for the DCGAN generator, checked at a second size (z, R, C, w) = (5, 28, 3, 3)
    z, C, w, (s0, k) = 5, 3, 3, dcgan_geometry(28)
    chans = [w * 2 ** (k - 1 - i) for i in range(k)]  # [6, 3]
    expected = z * chans[0] * s0**2 + 2 * chans[0]
    expected += sum(a * b * 16 + 2 * b for a, b in zip(chans, chans[1:]))
    expected += chans[-1] * C * 16 + C
    assert expected == 5 * 6 * 49 + 12 + 6 * 3 * 16 + 6 + 3 * 3 * 16 + 3
    assert n_params(DCGANGenerator(z, 28, C, w)) == expected


def test_dcgan_init_statistics() -> None:
    """N(0, 0.02) conv weights, N(1, 0.02) BN scales, zero biases (Radford et al. 2016)."""
    torch.manual_seed(0)
    g = DCGANGenerator(z_dim=100, resolution=32, channels=3, width=32)
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    bn = torch.cat([m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(bn.mean().item() - 1.0) < 0.01
    for m in g.modules():
        if getattr(m, "bias", None) is not None:
            assert torch.count_nonzero(m.bias) == 0
    assert math.isclose(g.net[0].weight.std().item(), 0.02, rel_tol=0.05)
