"""SeqGAN's Monte-Carlo roll-out reward (Yu et al. 2017, eq. 4-5).

For a generated sequence ``Y_{1:T}`` the reward of its prefix ``Y_{1:t}`` is

    Q(Y_{1:t-1}, y_t) = (1/N) sum_n D(Y^n_{1:T}),  Y^n ~ MC^{G_beta}(Y_{1:t}; N)   for t < T,
    Q(Y_{1:T-1}, y_T) = D(Y_{1:T}),

where ``MC^{G_beta}`` completes the prefix ``N`` times with the roll-out policy ``G_beta`` and
``D(.)`` is the discriminator's probability of "real" (sigmoid of its logit). The roll-outs of
every prefix length and every sample run as one batch: at step ``s`` the ``s · N · B`` roll-outs
whose prefix ended advance together, one policy step per time step (no loop over samples).
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
    ``tokens[b, :t]`` and continues with ``policy`` (``t = 1 .. T-1``).

    One pass over the true prefixes gives the policy's state after each prefix; at step ``s`` the
    ``num · B`` roll-outs of prefix length ``s`` start from it and join the ones already running
    (``s · num · B`` rows advance together), so no row computes a distribution inside its prefix."""
    B, T = tokens.shape
    tokens = tokens.long()
    inp = torch.full((B,), BOS_ID, dtype=torch.long, device=tokens.device)  # (B,)
    prefix_state, run_token, run_state, sampled = None, None, None, []
    for s in range(T):
        logits, prefix_state = policy.step(inp, prefix_state)  # (B, V): y_s given the true y_{<s}
        inp = tokens[:, s]
        if s == 0:
            continue
        new_logits = logits.repeat(num, 1)  # (num·B, V), rows (n, b): roll-outs of prefix length s
        new_state = tuple(x.repeat(1, num, 1) for x in prefix_state)  # (layers, num·B, H) each
        if run_token is None:
            step_logits, run_state = new_logits, new_state
        else:
            run_logits, run_state = policy.step(run_token, run_state)  # ((s-1)·num·B, V)
            step_logits = torch.cat([run_logits, new_logits])  # (s·num·B, V), rows (t-1, n, b)
            run_state = tuple(torch.cat([a, b], dim=1) for a, b in zip(run_state, new_state))
        u = torch.rand(step_logits.shape[0], generator=generator).to(tokens.device)  # (s·num·B,)
        run_token = inverse_cdf(step_logits, u)  # (s·num·B,)
        sampled.append(run_token)
    out = tokens.expand(T - 1, num, B, T).clone()  # (T-1, num, B, T)
    for s, column in enumerate(sampled, start=1):
        out[:s, :, :, s] = column.view(s, num, B)  # prefixes of length t <= s sampled token s
    return out


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
