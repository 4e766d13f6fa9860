"""PSNR, SSIM and L1 of translated outputs vs their targets: hand values, an independent SSIM
written here with SciPy (Wang et al. 2004), and the registry's refusal of unpaired samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.errors import MetricError, ShapeError
from gankit.metrics.evaluate import evaluate
from gankit.metrics.sources import SampleSet
from gankit.metrics.statistics.paired import paired_l1, psnr, ssim


def test_psnr_and_l1_by_hand():
    g = torch.Generator().manual_seed(0)
    target = torch.rand(3, 1, 8, 8, generator=g) * 2 - 1
    shift = torch.tensor([0.1, 0.2, 0.4])[:, None, None, None]  # one error per image
    fake = target + shift
    want = np.mean([10 * math.log10(4.0 / s**2) for s in (0.1, 0.2, 0.4)])  # R = 2: per-image, then the mean
    assert psnr(fake, target) == pytest.approx(want, rel=1e-6)
    assert paired_l1(fake, target) == pytest.approx((0.1 + 0.2 + 0.4) / 3, rel=1e-6)


def test_ssim_of_constant_images_is_the_luminance_term():
    """Constant x = 0.2, y = -0.4: σ = 0 everywhere, so SSIM = (2 μx μy + C1) / (μx² + μy² + C1),
    C1 = (0.01 · 2)²."""
    x, y = torch.full((2, 1, 16, 16), 0.2), torch.full((2, 1, 16, 16), -0.4)
    c1 = (0.01 * 2) ** 2
    assert ssim(x, y) == pytest.approx((2 * 0.2 * -0.4 + c1) / (0.04 + 0.16 + c1), rel=1e-6)
    assert ssim(x, x) == pytest.approx(1.0)


def _ssim_scipy(x: np.ndarray, y: np.ndarray, r: float = 2.0) -> float:
    """Wang et al. 2004 with an 11x11 Gaussian window (σ 1.5) at every pixel, the image mirrored at
    its borders (torch's "reflect" is SciPy's "mirror"), averaged over pixels, then images."""
    from scipy.ndimage import gaussian_filter

    c1, c2 = (0.01 * r) ** 2, (0.03 * r) ** 2
    out = []
    for a, b in zip(x[:, 0], y[:, 0]):
        f = lambda t: gaussian_filter(t, 1.5, mode="mirror", truncate=5 / 1.5)  # noqa: E731  (radius 5: 11 taps)
        mx, my = f(a), f(b)
        vx, vy, cxy = f(a * a) - mx**2, f(b * b) - my**2, f(a * b) - mx * my
        m = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        out.append(m.mean())
    return float(np.mean(out))


def test_ssim_matches_an_independent_implementation():
    g = torch.Generator().manual_seed(1)
    target = torch.rand(4, 1, 28, 28, generator=g) * 2 - 1
    fake = (target + 0.3 * torch.randn(4, 1, 28, 28, generator=g)).clamp(-1, 1)
    want = _ssim_scipy(fake.double().numpy(), target.double().numpy())
    assert ssim(fake, target) == pytest.approx(want, abs=1e-6)
    assert ssim(fake, target) < ssim((target + 0.05 * (fake - target)), target) < 1.0  # closer: more similar


def test_shapes_are_checked():
    with pytest.raises(ShapeError, match="one shape"):
        psnr(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 7, 7))


def _samples(with_targets: bool) -> SampleSet:
    x = torch.zeros(6, 1, 16, 16)
    extra = {"targets": x + 0.5} if with_targets else {}
    return SampleSet(x=x, name="t", kind="array", identity={"kind": "array"}, extra=extra)


def test_registered_metrics_need_targets():
    res = evaluate(fake=_samples(True), metrics=["psnr", "l1", "ssim"])
    assert res["psnr"] == pytest.approx(10 * math.log10(4 / 0.25))
    assert res["l1"] == pytest.approx(0.5)
    with pytest.raises(MetricError, match="own target"):
        evaluate(fake=_samples(False), metrics=["psnr"])
    with pytest.raises(MetricError, match="line up"):
        evaluate(fake=_samples(True), metrics=["psnr"], n=4)  # a random subset of x, not of the targets
