"""Discriminator building blocks against mode collapse and for Lipschitz control:
minibatch discrimination (Salimans et al. 2016), minibatch standard deviation (Karras et
al. 2018), spectral normalisation (Miyato et al. 2018) or weight normalisation (Salimans &
Kingma 2016) of every layer, and Gaussian noise on hidden activations."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from gankit.errors import ShapeError
from gankit.nets.init import WEIGHTED_LAYERS
from gankit.sharding import draw_rows

__all__ = ["GaussianNoise", "MinibatchDiscrimination", "MinibatchStdDev", "spectral_norm_all", "weight_norm_all"]

MBD_INIT_STD = 0.05  # init scale of the tensor T (improved-GAN code: Normal(0.05))
STD_EPS = 1e-8  # inside the sqrt of the minibatch std (Karras et al. 2018)


class _PairwiseL1(torch.autograd.Function):
    """``d[b, i, j] = ||x[b, i] - x[b, j]||_1`` for ``x`` ``(B, N, C)``: ``torch.cdist`` forward (no
    ``(B, N, N, C)`` intermediate) with a backward written in differentiable ops, since cdist's own
    has no double backward, which Unrolled GAN and gradient penalties need. d is symmetric in
    (i, j) and ``∂d[b, i, j] / ∂x[b, i, c] = sign(x[b, i, c] - x[b, j, c])``, so
    ``∂L / ∂x[b, i, c] = Σ_j (g + gᵀ)[b, i, j] · sign(x[b, i, c] - x[b, j, c])``."""

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return torch.cdist(x, x, p=1)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        sym = grad + grad.transpose(1, 2)
        # one kernel coordinate at a time: (B, N, N) temporaries instead of one (B, N, N, C)
        per_coord = [(torch.sign(xc[:, :, None] - xc[:, None, :]) * sym).sum(dim=2) for xc in x.unbind(dim=2)]
        return torch.stack(per_coord, dim=2)


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training
    GANs", §3.2).

    With features ``f(x_i) ∈ R^A`` and a learned tensor ``T ∈ R^{A×B×C}``::

        M_i       = f(x_i) · T                            ∈ R^{B×C}
        c_b(i, j) = exp(-|| M_{i,b} - M_{j,b} ||_L1)
        o(x_i)_b  = sum_{j=1}^{n} c_b(i, j)               ∈ R^B

    and the layer returns ``[f(x_i), o(x_i)]`` of width ``A + B``. As in the paper the sum
    runs over the whole batch, ``j = i`` included (a constant 1); ``exclude_self=True``
    drops that term. ``(N, A) -> (N, A + B)``.
    """

    def __init__(
        self, in_features: int, num_kernels: int, kernel_dim: int, *, exclude_self: bool = False
    ) -> None:
        super().__init__()
        if min(in_features, num_kernels, kernel_dim) <= 0:
            raise ValueError("MinibatchDiscrimination needs positive in_features, num_kernels, kernel_dim")
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.exclude_self = exclude_self
        self.T = nn.Parameter(torch.randn(in_features, num_kernels, kernel_dim) * MBD_INIT_STD)  # (A, B, C)

    @property
    def out_features(self) -> int:
        return self.in_features + self.num_kernels

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if f.dim() != 2 or f.shape[1] != self.in_features:
            raise ShapeError(f"MinibatchDiscrimination expects (N, {self.in_features}), got {tuple(f.shape)}")
        m = torch.einsum("na,abc->nbc", f, self.T)  # (N, B, C)
        l1 = _PairwiseL1.apply(m.transpose(0, 1).contiguous())  # (B, N, N): ||M_i,b - M_j,b||_1
        o = torch.exp(-l1).sum(dim=2).T  # (N, B)
        if self.exclude_self:
            o = o - 1.0
        return torch.cat([f, o], dim=1)  # (N, A + B)


class MinibatchStdDev(nn.Module):
    """Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", §3).

    Splits the batch into groups of ``G = min(group_size, N)`` samples, takes the standard
    deviation of every feature (and pixel) over each group (population std,
    ``sqrt(var + 1e-8)``), averages it to one number per group and appends it as one extra
    constant channel (images ``(N, C, H, W) -> (N, C + 1, H, W)``) or feature
    (``(N, F) -> (N, F + 1)``). As in the reference code, group members are strided:
    sample ``n`` belongs to group ``n mod (N / G)``. ``N`` must be divisible by ``G``.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if group_size < 1:
            raise ValueError(f"group_size must be >= 1, got {group_size}")
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 4):
            raise ShapeError(f"MinibatchStdDev expects (N, F) or (N, C, H, W), got {tuple(x.shape)}")
        n = x.shape[0]
        g = min(self.group_size, n)
        if n % g != 0:
            raise ShapeError(f"MinibatchStdDev: batch size {n} is not divisible by the group size {g}")
        y = x.reshape(g, n // g, *x.shape[1:])  # (G, M, ...): sample n = i*M + m is in group m
        y = y - y.mean(dim=0, keepdim=True)  # (G, M, ...)
        std = torch.sqrt(y.square().mean(dim=0) + STD_EPS)  # (M, ...)
        s = std.flatten(1).mean(dim=1)  # (M,): one value per group
        s = s.repeat(g)  # (N,): sample n gets s[n mod M]
        shape = (n, 1, *x.shape[2:])  # (N, 1[, H, W])
        return torch.cat([x, s.view(n, *([1] * (x.dim() - 1))).expand(shape).to(x.dtype)], dim=1)


def spectral_norm_all(module: nn.Module, n_power_iterations: int = 1, eps: float = 1e-12) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018, "Spectral Normalization for GANs") of every
    ``Linear`` / ``Conv*`` / ``ConvTranspose*`` weight in ``module``, in place, with
    ``torch.nn.utils.parametrizations.spectral_norm``: ``W -> W / sigma(W)`` where
    ``sigma`` is the largest singular value of the weight reshaped to
    ``(out_channels, -1)`` (``dim = 1`` for transposed convs), estimated by
    ``n_power_iterations`` power iterations per training forward. Layers that already carry
    a weight parametrization are left alone. Embeddings and norms are not touched.
    Returns ``module``.
    """
    for m in list(module.modules()):
        if isinstance(m, WEIGHTED_LAYERS) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m, n_power_iterations=n_power_iterations, eps=eps)
    return module


def weight_norm_all(module: nn.Module) -> nn.Module:
    """Weight normalisation (Salimans & Kingma 2016, "Weight Normalization") of every
    ``Linear`` / ``Conv*`` / ``ConvTranspose*`` weight in ``module``, in place, with
    ``torch.nn.utils.parametrizations.weight_norm``: ``W = g · v / ||v||``, the norm taken per
    output unit (``dim = 0``; ``dim = 1`` for transposed convs, whose output channels are the
    weight's second axis), ``g`` and ``v`` both trained and initialised so that ``W`` is
    unchanged. Layers that already carry a weight parametrization are left alone. Returns ``module``.
    """
    for m in list(module.modules()):
        if isinstance(m, WEIGHTED_LAYERS) and not parametrize.is_parametrized(m, "weight"):
            transposed = isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
            weight_norm(m, dim=1 if transposed else 0)
    return module


class GaussianNoise(nn.Module):
    """``x + ε``, ``ε ~ N(0, std²)`` elementwise, in training mode only (identity in eval mode
    or with ``std = 0``): the noise layers of Salimans et al.'s (2016) semi-supervised MNIST
    discriminator (0.5 after every hidden layer)."""

    def __init__(self, std: float) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"noise std must be >= 0, got {std}")
        self.std = float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.std == 0:
            return x
        # this process's rows of the global batch's noise (all of it in one process)
        noise = draw_rows(lambda m: torch.randn((m, *x.shape[1:]), dtype=x.dtype, device=x.device), x.shape[0])
        return x + self.std * noise

    def extra_repr(self) -> str:
        return f"std={self.std}"
