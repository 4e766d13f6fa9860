"""Categorical draws: by the inverse CDF, ``y = min{i : sum_{j<=i} p_j > u}``, ``u ~ U[0, 1)``, and
the Gumbel-softmax relaxation of a draw (``gumbel_softmax``).

Given uniforms, a draw is a deterministic function of the probabilities, so a batch of
uniforms is a latent that fixes a sampled token sequence (``gankit.nets.recurrent``), and one
``torch.rand`` per step replaces ``torch.multinomial`` (much slower over large vocabularies).
"""

from __future__ import annotations

import torch


def inverse_cdf(logits: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Draws ``(B,)`` from ``softmax(logits)`` ``(B, V)`` with uniforms ``u`` ``(B,)`` in [0, 1):
    the first id whose cumulative probability exceeds ``u``; ids of probability 0 never."""
    z = logits.float()
    cdf = (z - z.amax(dim=-1, keepdim=True)).exp_().cumsum_(dim=-1)  # (B, V) unnormalised: one pass fewer
    target = (u.float() * cdf[:, -1]).unsqueeze(1).contiguous()  # (B, 1)
    idx = torch.searchsorted(cdf, target, right=True).squeeze(1)  # (B,)
    return idx.clamp_(max=logits.shape[-1] - 1)


def gumbel_softmax(logits: torch.Tensor, tau: float = 1.0, hard: bool = False,
                   gumbels: torch.Tensor | None = None) -> torch.Tensor:
    """Gumbel-softmax draws ``(..., K)`` from ``logits`` ``(..., K)`` over the last axis (Jang, Gu &
    Poole 2017; Maddison, Mnih & Teh 2017):

        y = softmax((logits + g) / tau),   g = -log(-log u),  u ~ U(0, 1)

    ``gumbels``: the noise ``g`` (default: drawn from the global generator). ``hard``: the
    straight-through estimator, ``one_hot(argmax y) - sg(y) + y``: a one-hot value whose
    gradient is that of the relaxed ``y``."""
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    if gumbels is None:
        gumbels = -torch.empty_like(logits).exponential_().log()  # -log(Exp(1)) is Gumbel(0, 1)
    y = torch.softmax((logits + gumbels) / tau, dim=-1)
    if not hard:
        return y
    one_hot = torch.zeros_like(y).scatter_(-1, y.argmax(dim=-1, keepdim=True), 1.0)
    return one_hot - y.detach() + y
