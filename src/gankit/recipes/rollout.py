"""SeqGAN's Monte-Carlo roll-out reward (Yu et al. 2017, eq. 4-5).

For a generated sequence ``Y_{1:T}`` the reward of its prefix ``Y_{1:t}`` is

    Q(Y_{1:t-1}, y_t) = (1/N) sum_n D(Y^n_{1:T}),  Y^n ~ MC^{G_beta}(Y_{1:t}; N)   for t < T,
    Q(Y_{1:T-1}, y_T) = D(Y_{1:T}),

where ``MC^{G_beta}`` completes the prefix ``N`` times with the roll-out policy ``G_beta`` and
``D(.)`` is the discriminator's probability of "real" (sigmoid of its logit). The roll-outs of
every prefix length and every sample run as one batch: ``(T-1) · N · B`` sequences advance
together, one policy step per time step, each row keeping the given token while ``s`` is inside
its prefix and sampling after it.
"""

from __future__ import annotations

from typing import Callable

import torch

from gankit.categorical import inverse_cdf
from gankit.data.tokens import BOS_ID
from gankit.nets.recurrent import LSTMPolicy


@torch.no_grad()
def rollout(policy: LSTMPolicy, tokens: torch.Tensor, num: int, generator: torch.Generator | None = None
            ) -> torch.Tensor:
    """Completions ``(T-1, num, B, T)`` of ``tokens`` ``(B, T)``: ``[t-1, n, b]`` keeps
    ``tokens[b, :t]`` and continues with ``policy`` (``t = 1 .. T-1``)."""
    B, T = tokens.shape
    given = tokens.long().repeat((T - 1) * num, 1)  # (K, T), K = (T-1)·num·B, row = (t-1, n, b)
    keep = torch.arange(1, T, device=tokens.device).repeat_interleave(num * B)  # (K,) prefix length t
    token = torch.full((given.shape[0],), BOS_ID, dtype=torch.long, device=tokens.device)  # (K,)
    state, out = None, []
    for s in range(T):
        logits, state = policy.step(token, state)  # (K, V)
        if s == 0:  # every prefix holds the first token
            token = given[:, 0]
        else:
            u = torch.rand(given.shape[0], generator=generator, device="cpu").to(tokens.device)  # (K,)
            token = torch.where(s < keep, given[:, s], inverse_cdf(logits, u))  # (K,)
        out.append(token)
    return torch.stack(out, dim=1).view(T - 1, num, B, T)


@torch.no_grad()
def rollout_rewards(policy: LSTMPolicy, score: Callable[[torch.Tensor], torch.Tensor], tokens: torch.Tensor,
                    num: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rewards ``(B, T)``: column ``t-1 < T-1`` averages ``score`` over ``num`` roll-outs of the
    prefix of length ``t``; the last column is ``score(tokens)``. ``score`` maps ``(M, T)`` token
    rows to D's probability of real ``(M,)``."""
    B, T = tokens.shape
    rewards = torch.empty(B, T, device=tokens.device)
    if T > 1:
        completions = rollout(policy, tokens, num, generator)  # (T-1, num, B, T)
        scores = score(completions.reshape(-1, T)).view(T - 1, num, B)  # (T-1, num, B)
        rewards[:, :-1] = scores.mean(dim=1).t()  # (B, T-1)
    rewards[:, -1] = score(tokens)  # (B,)
    return rewards
