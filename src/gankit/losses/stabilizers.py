"""Training stabilisers as pure functions: DRAGAN's gradient penalty,
feature matching, one-sided label smoothing and instance noise.

Network-side stabilisers (minibatch discrimination, minibatch standard deviation,
spectral normalisation) live in :mod:`gankit.nets.blocks`; PatchGAN in
:mod:`gankit.nets.patchgan`. Randomness comes from an optional ``torch.Generator``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ShapeError
from gankit.losses.checks import check_pair
from gankit.losses.penalties import Critic, check_batch, input_grad
from gankit.sharding import draw_rows, global_std

__all__ = [
    "dragan_perturb",
    "dragan_penalty",
    "feature_matching_loss",
    "fixed_real_targets",
    "random_real_targets",
    "bce_d_loss_with_targets",
    "instance_noise_std",
    "add_instance_noise",
]

DraganNoise = Literal["uniform", "gaussian"]


# --------------------------------------------------------------------------- DRAGAN


def dragan_perturb(
    real: Tensor,
    *,
    scale: float = 0.5,
    noise: DraganNoise = "uniform",
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Points near the data at which DRAGAN evaluates the gradient (Kodali et al. 2017).

    ``"uniform"`` (the authors' released code, the common form)::

        x_p     = x + scale * std(x) * u,    u ~ U[0, 1)^shape,  std over the whole batch
        x_tilde = x + alpha (x_p - x),       alpha ~ U[0, 1] per sample

    ``"gaussian"`` (the paper's text, ``delta ~ N(0, cI)``): ``x_tilde = x + scale * e``
    with ``e ~ N(0, I)``, i.e. ``scale = sqrt(c)``. ``std`` is the population std
    (``ddof = 0``) of all entries of ``real``. Returns a detached tensor shaped like ``real``.
    """
    check_batch("real", real)
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    x = real.detach()
    if noise == "gaussian":
        eps = draw_rows(lambda m: torch.randn((m, *x.shape[1:]), generator=generator, dtype=x.dtype,
                                              device=x.device), x.shape[0])  # like x
        return x + scale * eps
    if noise != "uniform":
        raise ValueError(f"unknown DRAGAN noise {noise!r} (known: uniform, gaussian)")
    u = draw_rows(lambda m: torch.rand((m, *x.shape[1:]), generator=generator, dtype=x.dtype, device=x.device),
                  x.shape[0])  # like x
    x_p = x + scale * global_std(x) * u  # like x
    alpha = draw_rows(lambda m: torch.rand(m, generator=generator, dtype=x.dtype, device=x.device), x.shape[0])  # (N,)
    alpha = alpha.view(-1, *([1] * (x.dim() - 1)))  # (N, 1, ..., 1)
    return x + alpha * (x_p - x)


def dragan_penalty(
    critic: Critic,
    real: Tensor,
    *,
    scale: float = 0.5,
    noise: DraganNoise = "uniform",
    target: float = 1.0,
    generator: Optional[torch.Generator] = None,
    c: Optional[Any] = None,
) -> Tensor:
    """DRAGAN gradient penalty (Kodali et al. 2017, "On Convergence and Stability of GANs")::

        P = E_{x_tilde}[(||grad D(x_tilde)||_2 - target)^2]

    at points ``x_tilde`` around the *real* data (:func:`dragan_perturb`). The norm is
    taken **per sample**, then averaged; the caller multiplies by lambda (10 in the paper).
    ``c`` is passed as ``critic(x, c)`` when not None. Keeps a graph for ``.backward()``.
    """
    x_tilde = dragan_perturb(real, scale=scale, noise=noise, generator=generator).requires_grad_(True)
    grad = input_grad(critic, x_tilde, c)  # like real
    grad_norm = grad.flatten(1).norm(2, dim=1)  # (N,)
    return (grad_norm - target).square().mean()


# --------------------------------------------------------------------------- feature matching


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """Feature matching (Salimans et al. 2016, "Improved Techniques for Training GANs", §3.1)::

        L_G = || E_x[f(x)] - E_z[f(G(z))] ||_2^2

    ``f`` is an intermediate discriminator layer (``DOutput.features``), ``(N, ...)``
    flattened per sample. The batch means are matched (not per-sample distances); the
    squared norm is a sum over features. Real features are a fixed target (detached).
    """
    check_batch("real_features", real_features)
    check_batch("fake_features", fake_features)
    if real_features.shape[1:] != fake_features.shape[1:]:
        raise ShapeError(
            "real_features and fake_features must match after the batch dimension, got "
            f"{tuple(real_features.shape)} and {tuple(fake_features.shape)}"
        )
    mean_real = real_features.detach().flatten(1).mean(dim=0)  # (F,)
    mean_fake = fake_features.flatten(1).mean(dim=0)  # (F,)
    return (mean_real - mean_fake).square().sum()


# --------------------------------------------------------------------------- label smoothing


def fixed_real_targets(
    n: int, value: float = 0.9, *, dtype: torch.dtype = torch.float32, device: Any = None
) -> Tensor:
    """One-sided label smoothing with a fixed value (Salimans et al. 2016, §3.4): ``(n,)``
    real targets all equal to ``value`` (0.9 is common). Fake targets stay 0."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"value must be in [0, 1], got {value}")
    return torch.full((n,), float(value), dtype=dtype, device=device)


def random_real_targets(
    n: int,
    low: float = 0.8,
    high: float = 1.0,
    *,
    generator: Optional[torch.Generator] = None,
    dtype: torch.dtype = torch.float32,
    device: Any = None,
) -> Tensor:
    """Random one-sided label smoothing (Salimans et al. 2016, §3.4, with a random target):
    real label 1 replaced by a random number in ``[low, high]`` (default ``U[0.8, 1.0]``),
    drawn **per sample**: ``(n,)``."""
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"need 0 <= low <= high <= 1, got low={low}, high={high}")
    u = draw_rows(lambda m: torch.rand(m, generator=generator, dtype=dtype, device=device), n)  # (n,)
    return low + (high - low) * u


def bce_d_loss_with_targets(real_logits: Tensor, fake_logits: Tensor, real_targets: Tensor) -> Tensor:
    """Discriminator BCE with per-sample real targets ``t`` (one-sided label smoothing)::

        L_D = E_x[t * softplus(-r) + (1 - t) * softplus(r)] + E_z[softplus(f)]

    ``= -E[t log D(x) + (1 - t) log(1 - D(x))] - E[log(1 - D(G(z)))]`` with ``D = sigmoid``.
    ``real_targets``: ``(N,)`` (broadcast over the non-batch dims of PatchGAN maps) or the
    shape of ``real_logits``. With ``t = 1`` this is ``losses.ns_d_loss``.
    """
    check_pair(real_logits, fake_logits)
    n = real_logits.shape[0]
    if real_targets.shape == (n,):
        t = real_targets.view(n, *([1] * (real_logits.dim() - 1)))  # (N, 1, ...)
    elif real_targets.shape == real_logits.shape:
        t = real_targets
    else:
        raise ShapeError(
            f"real_targets must have shape ({n},) or {tuple(real_logits.shape)}, "
            f"got {tuple(real_targets.shape)}"
        )
    t = t.to(real_logits.dtype)
    real_term = t * F.softplus(-real_logits) + (1.0 - t) * F.softplus(real_logits)  # like real_logits
    return real_term.mean() + F.softplus(fake_logits).mean()


# --------------------------------------------------------------------------- instance noise


def instance_noise_std(step: int, sigma0: float, anneal_steps: int) -> float:
    """Annealed instance-noise level (Sønderby et al. 2016, "Amortised MAP Inference for
    Image Super-resolution"; Arjovsky & Bottou 2017)::

        sigma(step) = sigma0 * max(0, 1 - step / anneal_steps)      (linear to 0)

    ``anneal_steps = 0`` keeps ``sigma0`` constant.
    """
    if sigma0 < 0 or anneal_steps < 0 or step < 0:
        raise ValueError("instance noise needs sigma0 >= 0, anneal_steps >= 0, step >= 0")
    if anneal_steps == 0:
        return float(sigma0)
    return float(sigma0) * max(0.0, 1.0 - step / anneal_steps)


def add_instance_noise(x: Tensor, sigma: float, *, generator: Optional[torch.Generator] = None) -> Tensor:
    """``x + sigma * e``, ``e ~ N(0, I)``: instance noise (Sønderby et al. 2016). Apply it to
    **both** the real and the fake discriminator inputs (independent draws). ``sigma = 0``
    returns ``x`` itself. Gradients flow through ``x`` (the generator still learns)."""
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return x
    eps = draw_rows(lambda m: torch.randn((m, *x.shape[1:]), generator=generator, dtype=x.dtype, device=x.device),
                    x.shape[0])  # like x
    return x + sigma * eps
