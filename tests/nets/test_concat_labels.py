"""The original cGAN discriminator: one-hot labels concatenated to D's input."""

import pytest
import torch

from gankit.errors import ConfigError, ShapeError
from gankit.nets import NetSpec, build_networks, model_config
from gankit.nets.conditioning import ConcatLabels
from tests.helpers import mlp_only


@pytest.mark.parametrize("arch,shape", [("dcgan", (1, 8, 8)), ("mlp", (2,))])
def test_d_sees_the_label_planes(arch, shape):
    cfg = model_config(
        arch=arch, z_dim=4, g_width=8, d_width=8, conditional=True, d_concat_labels=True, **mlp_only(arch, mlp_layers=2)
    )
    torch.manual_seed(0)
    _, d = build_networks(cfg, NetSpec(shape, 3))
    assert isinstance(d, ConcatLabels) and getattr(d.inner, "projection", None) is None
    d.eval()
    x = torch.randn(5, *shape)
    c = torch.tensor([0, 1, 2, 1, 0])
    onehot = torch.eye(3)[c]
    widened = torch.cat([x, onehot[:, :, None, None].expand(-1, -1, *shape[1:]) if len(shape) == 3 else onehot], 1)
    torch.testing.assert_close(d(x, c).logits, d.inner(widened).logits)
    assert not torch.allclose(d(x, c).logits, d(x, (c + 1) % 3).logits)  # the label matters
    with pytest.raises(ShapeError):
        d(x)  # labels required


def test_autoencoder_d_cannot_concat():
    cfg = model_config(arch="mlp", conditional=True, d_concat_labels=True, d_arch="autoencoder", d_norm="none")
    with pytest.raises(ConfigError, match="d_concat_labels"):
        build_networks(cfg, NetSpec((2,), 3))
