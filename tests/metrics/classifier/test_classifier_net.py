"""DomainClassifier shapes, resizing and input checks (randomly initialised nets)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import ShapeError
from gankit.metrics.classifier import DomainClassifier


def test_shapes_and_parameter_budget():
    torch.manual_seed(0)
    net = DomainClassifier().eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert net(x).shape == (5, 10)
    assert net.features(x).shape == (5, 128)
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params * 4 < 1_500_000
    rgb = DomainClassifier(channels=3, resolution=32, num_classes=7, width=8, feature_dim=16).eval()
    assert rgb(torch.zeros(2, 3, 32, 32)).shape == (2, 7)
    assert rgb.features(torch.zeros(2, 3, 32, 32)).shape == (2, 16)


def test_resize_matches_explicit_bilinear():
    torch.manual_seed(0)
    net = DomainClassifier(resolution=28).eval()
    x32 = torch.rand(4, 1, 32, 32) * 2 - 1
    x28 = F.interpolate(x32, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        torch.testing.assert_close(net(x32), net(x28.clamp(-1, 1)))
        small = torch.rand(4, 1, 16, 16) * 2 - 1
        up = F.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
        torch.testing.assert_close(net(small), net(up.clamp(-1, 1)))


def test_input_checks():
    net = DomainClassifier()
    with pytest.raises(ShapeError):
        net(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ShapeError):
        net(torch.zeros(2, 28, 28))
    with pytest.raises(ValueError):
        DomainClassifier(resolution=4)
