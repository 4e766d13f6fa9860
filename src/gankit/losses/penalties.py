"""Discriminator regularizers: WGAN weight clipping, WGAN-GP gradient penalty, R1 and R2 penalties.

All are pure functions of a critic callable and data tensors. The penalties differentiate
w.r.t. *copies* of the inputs (``detach().requires_grad_()``), so the caller's tensors keep
their ``requires_grad`` flag, and use ``create_graph=True`` so the penalty can be
backpropagated into the critic's parameters.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Literal, Optional

import torch
from torch import Tensor, nn

from gankit.errors import ShapeError
from gankit.sharding import draw_rows

__all__ = ["clip_weights_", "gradient_penalty", "r1_penalty", "r2_penalty", "gamma_at"]

Critic = Callable[..., Tensor]


def clip_weights_(module: nn.Module, clip_value: float) -> None:
    """Clamp every parameter of ``module`` in place to ``[-c, c]`` (WGAN, Arjovsky et al. 2017).

    The original Lipschitz constraint of the Wasserstein GAN critic (Algorithm 1, c = 0.01).
    """
    if not clip_value > 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value}")
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-clip_value, clip_value)


def check_batch(name: str, x: Tensor) -> None:
    """A tensor with a non-empty batch dimension, else ``ShapeError``."""
    if x.dim() < 1 or x.shape[0] == 0:
        raise ShapeError(
            f"{name} must have a non-empty batch dimension, got shape {tuple(x.shape)}"
        )


def input_grad(critic: Critic, x: Tensor, c: Optional[Any]) -> Tensor:
    """``d(sum of critic logits)/dx`` with a graph, so the result can be backpropagated."""
    logits = critic(x) if c is None else critic(x, c)  # [N], [N,1] or [N,1,H,W]
    (grad,) = torch.autograd.grad(outputs=logits.sum(), inputs=x, create_graph=True)
    return grad  # same shape as x


def gradient_penalty(
    critic: Critic,
    real: Tensor,
    fake: Tensor,
    *,
    target: float = 1.0,
    generator: Optional[torch.Generator] = None,
    c: Optional[Any] = None,
) -> Tensor:
    """WGAN-GP gradient penalty (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs").

    ::

        x_hat = eps * real + (1 - eps) * fake,   eps ~ U[0, 1] per sample
        GP    = E_{x_hat}[(||grad_{x_hat} D(x_hat)||_2 - target)^2]

    The norm is taken **per sample** (each sample flattened), then averaged over the batch;
    the caller multiplies by lambda (10 in the paper). ``eps`` is drawn from ``generator``
    and broadcast over non-batch dimensions. ``real`` and ``fake`` are detached (the
    penalty regularises the critic only). ``c`` (conditioning) is passed as
    ``critic(x_hat, c)`` when not None; it must describe both real and fake samples.
    The result keeps a graph (``create_graph=True``) so ``.backward()`` reaches the critic.
    """
    check_batch("real", real)
    if real.shape != fake.shape:
        raise ShapeError(
            "real and fake must have the same shape, "
            f"got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    n = real.shape[0]
    # this process's rows of the global batch's draw (the plain draw in one process)
    eps = draw_rows(lambda m: torch.rand(m, generator=generator, dtype=real.dtype, device=real.device), n)  # (N,)
    eps = eps.view(n, *([1] * (real.dim() - 1)))  # (N, 1, ..., 1)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)  # like real
    grad = input_grad(critic, x_hat, c)  # like real
    grad_norm = grad.flatten(1).norm(2, dim=1)  # (N,)
    return (grad_norm - target).square().mean()


def r1_penalty(critic: Critic, real: Tensor, c: Optional[Any] = None) -> Tensor:
    """R1 penalty on real data (Mescheder et al. 2018, "Which Training Methods for GANs do
    actually Converge?").

    ``R1 = E_{x ~ p_data}[||grad_x D(x)||_2^2]`` with the squared norm per sample, averaged
    over the batch. Returns the bare penalty: the caller multiplies by ``gamma / 2``.
    ``c`` is passed as ``critic(x, c)`` when not None. Keeps a graph for ``.backward()``.
    """
    check_batch("real", real)
    x = real.detach().requires_grad_(True)  # like real
    grad = input_grad(critic, x, c)  # like real
    return grad.flatten(1).square().sum(dim=1).mean()


def r2_penalty(critic: Critic, fake: Tensor, c: Optional[Any] = None) -> Tensor:
    """R2 penalty on generated data (Mescheder et al. 2018, eq. 9; Huang et al. 2024, R3GAN,
    which needs R1 and R2 together for RpGAN to converge locally).

    ``R2 = E_{x ~ p_G}[||grad_x D(x)||_2^2]``: the zero-centred gradient penalty of R1 taken at
    the (detached) fake samples, squared norm per sample, averaged over the batch. Returns the
    bare penalty: the caller multiplies by ``gamma / 2``. Keeps a graph for ``.backward()``.
    """
    check_batch("fake", fake)
    x = fake.detach().requires_grad_(True)  # like fake
    grad = input_grad(critic, x, c)  # like fake
    return grad.flatten(1).square().sum(dim=1).mean()


def gamma_at(gamma: float, step: int, total: int, schedule: Literal["constant", "cosine"] = "constant",
             final_ratio: float = 0.1) -> float:
    """The R1/R2 weight at ``step`` of ``total``: ``gamma`` (constant), or a cosine decay from
    ``gamma`` to ``final_ratio · gamma`` (R3GAN, Huang et al. 2024, decays γ over training)::

        γ(t) = γ · (r + (1 − r) · (1 + cos(π · min(t, T) / T)) / 2)
    """
    if schedule == "constant" or total <= 0:
        return gamma
    t = min(step, total) / total
    return gamma * (final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * t)))
