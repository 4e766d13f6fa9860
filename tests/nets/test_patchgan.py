"""PatchGAN discriminator: output map shape, receptive field (recurrence over the actual
layers and the gradient's support), pix2pix widths, the generic network checks."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.testing import assert_close

from gankit.errors import ConfigError, ShapeError
from gankit.losses import hinge_d_loss
from gankit.nets import model_config
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.patchgan import PatchGANDiscriminator, build_patchgan_discriminator, patchgan_output_size


def _receptive_field(net: nn.Module) -> int:
    """Standard recurrence from the output back to the input: r <- (r - 1) * stride + kernel."""
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    r = 1
    for conv in reversed(convs):
        r = (r - 1) * conv.stride[0] + conv.kernel_size[0]
    return r


@pytest.mark.parametrize("n_layers, rf", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_by_recurrence(n_layers, rf):
    assert _receptive_field(PatchGANDiscriminator(3, width=4, n_layers=n_layers)) == rf


def test_receptive_field_of_one_logit_is_70_pixels_wide():
    """The gradient of one logit w.r.t. the input is non-zero on a 70×70 square exactly."""
    torch.manual_seed(0)
    d = PatchGANDiscriminator(1, width=2, n_layers=3, norm="none").double().eval()
    x = torch.randn(1, 1, 150, 150, dtype=torch.float64, requires_grad=True)
    logits = d(x).logits  # (1, 1, 16, 16)
    logits[0, 0, 8, 8].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().flatten()
    cols = x.grad[0, 0].abs().sum(0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70


@pytest.mark.parametrize("size, n_layers, out", [(256, 3, 30), (64, 3, 6), (32, 3, 2), (28, 2, 5), (70, 3, 6)])
def test_output_shape(size, n_layers, out):
    assert patchgan_output_size(size, n_layers) == out
    d = PatchGANDiscriminator(3, width=4, n_layers=n_layers)
    o = d(torch.randn(2, 3, size, size))
    assert isinstance(o, DOutput)
    assert o.logits.shape == (2, 1, out, out)
    assert o.features.shape[0] == 2 and o.features.dim() == 2


def test_pix2pix_widths_and_norm_layout():
    d = PatchGANDiscriminator(6, width=64, n_layers=3)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert [c.bias is not None for c in convs] == [True, False, False, False, True]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3  # none on the first conv
    wide = PatchGANDiscriminator(3, width=64, n_layers=5)
    assert [c.out_channels for c in wide.modules() if isinstance(c, nn.Conv2d)] == [64, 128, 256, 512, 512, 512, 1]


@pytest.mark.parametrize("norm", ["batch", "instance", "layer", "none"])
def test_determinism_and_state_dict_round_trip(norm, tmp_path):
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    a = PatchGANDiscriminator(3, width=4, norm=norm).eval()
    torch.manual_seed(0)
    b = PatchGANDiscriminator(3, width=4, norm=norm).eval()
    assert_close(a(x).logits, b(x).logits)
    save_file(a.state_dict(), tmp_path / "d.safetensors")
    torch.manual_seed(1)
    c = PatchGANDiscriminator(3, width=4, norm=norm).eval()
    c.load_state_dict(load_file(tmp_path / "d.safetensors"))
    assert_close(c(x).logits, a(x).logits)


def test_conditional_patchgan_and_losses_on_the_map():
    d = PatchGANDiscriminator(1, width=4, n_layers=2, num_classes=3, norm="none")
    x = torch.randn(4, 1, 28, 28)
    c = torch.tensor([0, 1, 2, 1])
    logits = d(x, c).logits  # (4, 1, 5, 5)
    assert logits.shape == (4, 1, 5, 5)
    other = d(x, torch.tensor([2, 1, 0, 1])).logits
    assert (logits[0] - other[0]).abs().max() > 0  # the label matters ...
    assert_close(logits[1], other[1])  # ... per sample
    loss = hinge_d_loss(logits, d(torch.randn(4, 1, 28, 28), c).logits)
    loss.backward()
    assert d.label.weight.grad is not None
    with pytest.raises(ShapeError):
        d(x)  # labels missing


def test_errors_and_builder():
    with pytest.raises(ShapeError):
        PatchGANDiscriminator(3, n_layers=3)(torch.zeros(1, 3, 16, 16))  # too small
    with pytest.raises(ShapeError):
        PatchGANDiscriminator(3)(torch.zeros(1, 1, 64, 64))  # wrong channels
    cfg = model_config(arch="dcgan", d_width=8, d_norm="layer")
    d = build_patchgan_discriminator(cfg, NetSpec((3, 64, 64)))
    assert d(torch.zeros(2, 3, 64, 64)).logits.shape == (2, 1, 6, 6)
    with pytest.raises(ConfigError):
        build_patchgan_discriminator(cfg, NetSpec((2,)))
    with pytest.raises(ConfigError):
        build_patchgan_discriminator(cfg, NetSpec((1, 16, 16)))
