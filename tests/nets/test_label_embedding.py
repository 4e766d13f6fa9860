"""The generator's label embedding: concatenated to z, optionally on the unit sphere (Liu et al. 2020)."""

import pytest
import torch

from gankit.nets import NetSpec, build_networks, model_config
from tests.helpers import mlp_only


@pytest.mark.parametrize("arch,shape", [("dcgan", (1, 8, 8)), ("mlp", (2,))])
@pytest.mark.parametrize("unit_norm", [False, True])
def test_generator_input_is_z_beside_the_embedding(arch, shape, unit_norm):
    cfg = model_config(arch=arch, z_dim=4, g_width=8, d_width=8, **mlp_only(arch, mlp_layers=2), conditional=True,
                      g_label_unit_norm=unit_norm)
    torch.manual_seed(0)
    g, _ = build_networks(cfg, NetSpec(shape, 3))
    z, c = torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0])
    table = g.label.embed.weight.detach()  # (3, L), N(0, 1) entries
    rows = table[c]
    expected = rows / torch.sqrt((rows**2).sum(1, keepdim=True)) if unit_norm else rows
    torch.testing.assert_close(g.label(z, c), torch.cat([z, expected], 1))
    if unit_norm:  # length 1 whatever the table's scale
        torch.testing.assert_close(g.label(z, c)[:, 4:].norm(dim=1), torch.ones(5))
