"""Data-dependent init of weight-normalised layers (Salimans & Kingma 2016, §3) against
NumPy statistics of the layers' outputs."""

from __future__ import annotations

import torch
from torch import nn
from torch.testing import assert_close

from gankit.nets.blocks import weight_norm_all
from gankit.nets.init import weight_norm_data_init_


def _standardised(t: torch.Tensor, channel_axes: tuple[int, ...]) -> None:
    """Every output channel of ``t`` has mean 0 and (biased) std 1 over the other axes (NumPy)."""
    a = t.detach().double().numpy()
    assert_close(torch.from_numpy(a.mean(axis=channel_axes)), torch.zeros(a.shape[1], dtype=torch.float64),
                 atol=1e-5, rtol=0)
    assert_close(torch.from_numpy(a.std(axis=channel_axes)), torch.ones(a.shape[1], dtype=torch.float64),
                 atol=1e-4, rtol=0)


def test_every_weight_normalised_layer_outputs_zero_mean_unit_variance_on_the_init_batch():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5), nn.ReLU(),
                        nn.Linear(5, 4, bias=False), nn.Dropout(0.5))
    weight_norm_all(net)
    x = 3.0 * torch.randn(64, 2, 6, 6) + 1.0
    directions = [m.parametrizations.weight.original1.clone() for m in (net[0], net[3], net[5])]
    net.train()
    weight_norm_data_init_(net, x)
    assert net.training  # mode restored
    net.eval()
    h0 = net[0](x)
    _standardised(h0, (0, 2, 3))  # per channel over batch and positions
    h3 = net[3](net[2](net[1](h0)))
    _standardised(h3, (0,))
    h5 = net[5](net[4](h3))  # no bias: std 1 per unit, mean left alone
    assert_close(torch.from_numpy(h5.detach().double().numpy().std(axis=0)), torch.ones(4, dtype=torch.float64),
                 atol=1e-4, rtol=0)
    for m, v in zip((net[0], net[3], net[5]), directions):
        assert torch.equal(m.parametrizations.weight.original1, v)  # only g and b change


def test_layers_without_weight_norm_are_untouched():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    weight_norm_all(net[2])
    w0, b0 = net[0].weight.clone(), net[0].bias.clone()
    x = torch.randn(32, 3)
    weight_norm_data_init_(net, x)
    assert torch.equal(net[0].weight, w0) and torch.equal(net[0].bias, b0)
    with torch.no_grad():
        _standardised(net(x), (0,))  # the weight-normalised layer after it is standardised
