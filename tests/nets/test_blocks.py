"""Minibatch discrimination, minibatch stddev, spectral_norm_all, weight_norm_all and
GaussianNoise against explicit NumPy loops / SVD / hand-computed references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.errors import ShapeError
from gankit.nets.blocks import (
    GaussianNoise,
    MinibatchDiscrimination,
    MinibatchStdDev,
    spectral_norm_all,
    weight_norm_all,
)

F64 = torch.float64

# --------------------------------------------------------------------------- minibatch discrimination

FEATS = np.array([[1.0, -0.5], [0.2, 0.3], [-1.0, 2.0]])  # (N=3, A=2)
T = np.arange(8, dtype=np.float64).reshape(2, 2, 2) / 10.0 - 0.3  # (A=2, B=2, C=2)


def _np_minibatch_disc(f: np.ndarray, t: np.ndarray, exclude_self: bool) -> np.ndarray:
    n, a = f.shape
    _, b, c = t.shape
    m = np.zeros((n, b, c))
    for i in range(n):
        for bb in range(b):
            for cc in range(c):
                m[i, bb, cc] = sum(f[i, aa] * t[aa, bb, cc] for aa in range(a))
    o = np.zeros((n, b))
    for i in range(n):
        for bb in range(b):
            for j in range(n):
                if exclude_self and j == i:
                    continue
                o[i, bb] += np.exp(-np.sum(np.abs(m[i, bb] - m[j, bb])))
    return np.concatenate([f, o], axis=1)


@pytest.mark.parametrize("exclude_self", [False, True])
def test_minibatch_discrimination_against_loops(exclude_self):
    layer = MinibatchDiscrimination(2, 2, 2, exclude_self=exclude_self).double()
    with torch.no_grad():
        layer.T.copy_(torch.from_numpy(T))
    out = layer(torch.from_numpy(FEATS))
    assert out.shape == (3, 4) and layer.out_features == 4
    assert_close(out, torch.from_numpy(_np_minibatch_disc(FEATS, T, exclude_self)))


def test_minibatch_discrimination_depends_on_the_other_samples_and_backpropagates():
    layer = MinibatchDiscrimination(2, 2, 2).double()
    with torch.no_grad():
        layer.T.copy_(torch.from_numpy(T))
    f = torch.from_numpy(FEATS).clone()
    out = layer(f)
    f2 = f.clone()
    f2[2] = torch.tensor([0.9, -0.4], dtype=F64)  # move sample 2 next to sample 0
    out2 = layer(f2)
    assert (out2[0, 2:] - out[0, 2:]).abs().min() > 1e-3  # sample 0's statistic changed
    assert_close(out2[0, :2], out[0, :2])  # its own features did not
    x = f.clone().requires_grad_(True)
    layer(x).sum().backward()
    assert layer.T.grad is not None and x.grad is not None
    with pytest.raises(ShapeError):
        layer(torch.zeros(3, 5, dtype=F64))


def test_minibatch_discrimination_first_and_second_derivatives_match_finite_differences():
    # the layer's hand-written backward (cdist forward) against central differences, and its backward's own
    # derivative (gradient penalties, Unrolled GAN) likewise; random features keep every |M_i - M_j| off the kink
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(3, 4, 5).double()
    f = torch.randn(6, 3, dtype=F64, requires_grad=True)
    t = layer.T.detach().clone().requires_grad_(True)

    def fn(f, t):  # the layer as a function of its input and its tensor T
        return torch.func.functional_call(layer, {"T": t}, (f,))

    assert torch.autograd.gradcheck(fn, (f, t))
    assert torch.autograd.gradgradcheck(fn, (f, t))


# --------------------------------------------------------------------------- minibatch stddev


def _np_mbstd(x: np.ndarray, group: int) -> np.ndarray:
    n = x.shape[0]
    g = min(group, n)
    m = n // g
    stats = np.zeros(m)
    for grp in range(m):
        members = x[[i for i in range(n) if i % m == grp]]  # (G, ...)
        stats[grp] = np.mean(np.sqrt(np.std(members, axis=0) ** 2 + 1e-8))
    extra = np.stack([np.full(x.shape[2:], stats[i % m]) for i in range(n)])[:, None]  # (N, 1, ...)
    return np.concatenate([x, extra], axis=1)


@pytest.mark.parametrize("shape, group", [((8, 2, 3, 3), 4), ((6, 5), 2), ((3, 4), 4), ((4, 1, 2, 2), 1)])
def test_minibatch_stddev_equals_numpy_std_over_each_group(shape, group):
    x = np.random.default_rng(0).normal(size=shape)
    out = MinibatchStdDev(group)(torch.from_numpy(x))
    assert out.shape == (shape[0], shape[1] + 1, *shape[2:])
    assert_close(out, torch.from_numpy(_np_mbstd(x, group)))


def test_minibatch_stddev_groups_are_separate():
    x = torch.zeros(4, 3, dtype=F64)
    x[1] = 1.0  # group {1, 3} has spread, group {0, 2} has none (group size 2, strided)
    out = MinibatchStdDev(2)(x)[:, -1]
    assert_close(out[[0, 2]], torch.full((2,), 1e-4, dtype=F64))  # sqrt(0 + 1e-8)
    assert_close(out[[1, 3]], torch.full((2,), np.sqrt(0.25 + 1e-8), dtype=F64))
    with pytest.raises(ShapeError):
        MinibatchStdDev(4)(torch.zeros(6, 3))  # 6 not divisible by 4


# --------------------------------------------------------------------------- spectral norm


def test_spectral_norm_all_normalises_every_linear_and_conv():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(5, 7),
        nn.ReLU(),
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.ConvTranspose2d(4, 2, 4),
        nn.Sequential(nn.Linear(7, 3), nn.Embedding(4, 3)),
    )
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.mul_(5.0)  # far from norm 1 before normalisation
    spectral_norm_all(net)
    spectral_norm_all(net)  # idempotent: no second parametrization
    layers = [net[0], net[2], net[4], net[5][0]]
    for m in layers:
        assert len(m.parametrizations.weight) == 1
    assert not hasattr(net[5][1], "parametrizations") and not hasattr(net[3], "parametrizations")
    net.train()
    for _ in range(200):  # one power iteration per access in training mode
        for m in layers:
            _ = m.weight
    net.eval()
    for m in layers:
        w = m.weight.detach()
        if isinstance(m, nn.ConvTranspose2d):
            w = w.transpose(0, 1)  # torch normalises along dim 1 for transposed convs
        sigma = torch.linalg.svdvals(w.reshape(w.shape[0], -1)).max()
        assert_close(sigma, torch.tensor(1.0), rtol=0.0, atol=1e-4)


# --------------------------------------------------------------------------- weight norm


def test_weight_norm_all_keeps_the_function_and_factors_g_times_direction():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Conv2d(3, 4, 3), nn.ConvTranspose2d(4, 2, 4), nn.BatchNorm2d(2))
    before = {i: net[i].weight.detach().clone() for i in (0, 2, 3)}
    weight_norm_all(net)
    weight_norm_all(net)  # idempotent
    for i, w0 in before.items():
        m = net[i]
        assert len(m.parametrizations.weight) == 1
        assert_close(m.weight.detach(), w0)  # initialised so that W is unchanged
    assert not hasattr(net[4], "parametrizations")
    # W = g v / ||v|| per output unit: dim 0 for Linear/Conv, dim 1 (out channels) for ConvTranspose
    lin = net[0].parametrizations.weight
    with torch.no_grad():
        lin.original1.copy_(torch.arange(35, dtype=torch.float32).view(7, 5) - 17.0)  # v
        lin.original0.copy_(torch.full((7, 1), 3.0))  # g
    v = np.arange(35, dtype=np.float64).reshape(7, 5) - 17.0
    expected = 3.0 * v / np.linalg.norm(v, axis=1, keepdims=True)
    assert_close(net[0].weight.detach().double(), torch.from_numpy(expected), rtol=1e-6, atol=1e-6)
    tr = net[3].parametrizations.weight  # ConvTranspose2d weight (in 4, out 2, 4, 4): g per output channel
    assert tuple(tr.original0.shape) == (1, 2, 1, 1)
    norms = net[3].weight.detach().double().pow(2).sum(dim=(0, 2, 3)).sqrt()
    assert_close(norms, tr.original0.detach().double().flatten())


# --------------------------------------------------------------------------- Gaussian noise


def test_gaussian_noise_in_training_mode_only_with_its_std():
    torch.manual_seed(0)
    layer = GaussianNoise(0.5)
    x = torch.full((200_000,), 2.0)
    y = layer(x)
    noise = (y - x).double()
    # mean 0 and std 0.5 within ~5 standard errors of 200,000 draws
    assert_close(noise.mean(), torch.tensor(0.0, dtype=F64), atol=5 * 0.5 / 447, rtol=0)
    assert_close(noise.std(), torch.tensor(0.5, dtype=F64), atol=5 * 0.5 / 632, rtol=0)
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(GaussianNoise(0.0)(x), x)
    with pytest.raises(ValueError, match=">= 0"):
        GaussianNoise(-0.1)
