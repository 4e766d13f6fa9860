"""Losses of token-sequence generators: teacher-forced cross-entropy and REINFORCE.

* MLE (teacher forcing): ``L = -(1/(B T)) sum_{b, t} log G_theta(y_{b,t} | y_{b,<t})``, the
  cross-entropy of the next token given the true prefix (the pre-training of SeqGAN, Yu et al. 2017).
* REINFORCE with per-step rewards (Williams 1992; SeqGAN's eq. 6-8, baseline-free as in the
  paper): ``L = -(1/B) sum_{b, t} Q_{b,t} log G_theta(y_{b,t} | y_{b,<t})`` whose gradient is the
  Monte-Carlo estimate of ``-grad J(theta)``; the rewards ``Q`` are constants (no gradient).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.errors import ShapeError


def sequence_cross_entropy(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of teacher-forced ``logits`` ``(B, T, V)`` against ``tokens`` ``(B, T)``."""
    if logits.shape[:2] != tokens.shape or logits.ndim != 3:
        raise ShapeError(f"logits (B, T, V) and tokens (B, T) must agree, got {tuple(logits.shape)} and "
                         f"{tuple(tokens.shape)}")
    return F.cross_entropy(logits.flatten(0, 1), tokens.long().flatten())  # mean over B·T


def reinforce_loss(log_probs: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """``-(1/B) sum_{b,t} rewards[b,t] · log_probs[b,t]`` for ``log_probs`` ``(B, T)`` of sampled
    tokens and their rewards ``(B, T)`` (detached: the reward is not differentiated)."""
    if log_probs.shape != rewards.shape or log_probs.ndim != 2:
        raise ShapeError(f"log-probs and rewards must both be (B, T), got {tuple(log_probs.shape)} and "
                         f"{tuple(rewards.shape)}")
    return -(log_probs * rewards.detach()).sum() / log_probs.shape[0]
