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
    cdf = torch.softmax(logits.float(), dim=-1).cumsum(dim=-1)  # (B, V)
    idx = torch.searchsorted(cdf, u.float().unsqueeze(1).contiguous(), right=True).squeeze(1)  # (B,)
    return idx.clamp_(max=logits.shape[-1] - 1)
