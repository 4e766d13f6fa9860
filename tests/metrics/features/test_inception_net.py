"""The FID Inception network: pytorch-fid's state-dict layout, shapes, fusion, errors."""

import pytest
import torch

from gankit.errors import MetricError, ShapeError
from gankit.metrics.features.inception import (
    NO_LOGITS_MESSAGE,
    BasicConv2d,
    FIDInceptionV3,
    fuse_conv_bn,
)

SMALL = 107  # small input the network still accepts (final map 2x2): fast tests


def _randomise_bn(model: FIDInceptionV3, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=g)
            m.bias.data = 0.2 * torch.randn(n, generator=g)
            m.running_mean.data = 0.2 * torch.randn(n, generator=g)
            m.running_var.data = 0.5 + torch.rand(n, generator=g)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = FIDInceptionV3().eval()
    _randomise_bn(m, 1)
    return m


def test_state_dict_has_pytorch_fid_layout(model):
    sd = model.state_dict()
    expected_shapes = {
        "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
        "Conv2d_1a_3x3.bn.running_var": (32,),
        "Conv2d_2a_3x3.conv.weight": (32, 32, 3, 3),
        "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
        "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
        "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
        "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
        "Mixed_5c.branch5x5_2.conv.weight": (64, 48, 5, 5),
        "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
        "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
        "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
        "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
        "Mixed_7b.branch3x3_2b.conv.weight": (384, 384, 3, 1),
        "Mixed_7c.branch3x3dbl_3a.conv.weight": (384, 384, 1, 3),
        "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
        "fc.weight": (1008, 2048),
        "fc.bias": (1008,),
    }
    for key, shape in expected_shapes.items():
        assert tuple(sd[key].shape) == shape, key
    convs = [m for m in model.modules() if isinstance(m, BasicConv2d)]
    assert len(convs) == 94  # Inception-v3 without its auxiliary head
    # every BasicConv2d: conv (no bias) + bn (eps 0.001), 5 tensors + num_batches_tracked
    assert all(c.conv.bias is None and c.bn.eps == 1e-3 for c in convs)
    assert len(sd) == 94 * 6 + 2
    assert not any(k.startswith("AuxLogits") for k in sd)
    without_fc = FIDInceptionV3(with_fc=False).state_dict()
    assert set(sd) - set(without_fc) == {"fc.weight", "fc.bias"}


def test_output_shapes_and_logits(model):
    x = torch.rand(2, 3, SMALL, SMALL) * 2 - 1
    with torch.inference_mode():
        out = model(x)
        feats = model.pool_features(x)
        logits = model.fc(feats)
    assert out.features.shape == (2, 2048) and out.logits.shape == (2, 1008)
    torch.testing.assert_close(out.features, feats, rtol=0, atol=0)
    torch.testing.assert_close(out.logits, logits, rtol=0, atol=0)


def test_fused_conv_bn_equals_unfused_and_channels_last_too(model):
    torch.manual_seed(3)
    x = torch.rand(2, 3, SMALL, SMALL) * 2 - 1
    fused = fuse_conv_bn(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # original untouched
    fused_cl = fuse_conv_bn(model).to(memory_format=torch.channels_last)
    with torch.inference_mode():
        ref = model(x)
        got = fused(x)
        got_cl = fused_cl(x.contiguous(memory_format=torch.channels_last))
    scale = ref.features.abs().max().item()
    assert scale > 1e-3  # the comparison is not between zeros
    for out in (got, got_cl):
        diff = (out.features - ref.features).abs().max().item()
        assert diff <= 1e-5 * max(1.0, scale), diff
        logit_diff = (out.logits - ref.logits).abs().max().item()
        assert logit_diff <= 1e-5 * max(1.0, ref.logits.abs().max().item()), logit_diff


def test_no_fc_means_no_logits():
    m = FIDInceptionV3(with_fc=False).eval()
    assert not m.has_logits
    with torch.inference_mode():
        out = m(torch.zeros(1, 3, 75, 75))
    assert out.logits is None and out.features.shape == (1, 2048)
    with pytest.raises(MetricError) as err:
        m.classify(out.features)
    assert str(err.value) == NO_LOGITS_MESSAGE
    assert "Inception Score needs pytorch-fid's pt_inception-2015-12-05 weights" in str(err.value)
    assert "GANKIT_INCEPTION" in str(err.value)


def test_wrong_channels_is_a_shape_error(model):
    with pytest.raises(ShapeError, match=r"\(N, 3, H, W\)"):
        model(torch.zeros(1, 1, SMALL, SMALL))
