"""Categorical outputs of a generator: groups of its output vector turned into (relaxed) one-hot
vectors, for data with categorical columns (one-hot encoded).

``model.categorical_outputs = [K_1, K_2, ...]``: the first ``K_1`` outputs form one categorical
variable, the next ``K_2`` the second, and so on; outputs after the groups stay linear. Each
group's logits ``l`` become

* ``softmax``: ``softmax(l / tau)``;
* ``gumbel``: a Gumbel-softmax draw ``softmax((l + g) / tau)``, ``g`` Gumbel(0, 1) noise (Jang et
  al. 2017; ``gankit.categorical.gumbel_softmax``), with ``hard``: the one-hot of its argmax in
  the forward pass and the relaxed gradient (straight-through).

The Gumbel noise comes from the global generator in training and in sampling alike, so a latent
``z`` fixes the logits, not the drawn categories.
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch
from torch import nn

from gankit.categorical import gumbel_softmax
from gankit.errors import ConfigError

CategoricalMode = Literal["gumbel", "softmax"]


class CategoricalOutputs(nn.Module):
    """Applies the activation of each group (see the module docstring) to ``x`` ``(N, F)``."""

    def __init__(self, groups: Sequence[int], features: int, mode: CategoricalMode = "gumbel", tau: float = 1.0,
                 hard: bool = False) -> None:
        super().__init__()
        self.groups = tuple(int(k) for k in groups)
        if any(k < 2 for k in self.groups):
            raise ConfigError(f"model.categorical_outputs: every group needs >= 2 categories, got {list(self.groups)}")
        if sum(self.groups) > features:
            raise ConfigError(f"model.categorical_outputs covers {sum(self.groups)} outputs, but each sample has "
                              f"{features} features")
        if mode not in ("gumbel", "softmax"):
            raise ConfigError(f"model.categorical_activation must be gumbel or softmax, got {mode!r}")
        if not tau > 0:
            raise ConfigError(f"model.gumbel_tau must be > 0, got {tau}")
        self.mode, self.tau, self.hard = mode, float(tau), bool(hard)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts, start = [], 0
        for k in self.groups:
            logits = x[:, start : start + k]  # (N, k)
            if self.mode == "softmax":
                parts.append(torch.softmax(logits / self.tau, dim=1))
            else:
                parts.append(gumbel_softmax(logits, self.tau, self.hard))
            start += k
        parts.append(x[:, start:])  # (N, F - sum groups): linear outputs
        return torch.cat(parts, dim=1)  # (N, F)
