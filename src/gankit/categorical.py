"""Categorical draws by the inverse CDF: ``y = min{i : sum_{j<=i} p_j > u}``, ``u ~ U[0, 1)``.

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
