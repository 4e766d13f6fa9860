"""CTGAN's conditional vector and training-by-sampling (Xu et al. 2019, sec. 4.3).

The conditional vector ``cond`` is the concatenation of one one-hot block per categorical
column (in the order of the table's ``categorical`` field); exactly one block is set per row.
For training, each row draws

1. a categorical column ``j`` uniformly;
2. a category ``k`` of ``j`` with probability ``p_j(k) = log(1 + n_jk) / Σ_k' log(1 + n_jk')``
   (``n_jk`` rows have it: rare categories are drawn more often than their frequency);
3. a real row uniformly among the ``n_jk`` rows with category ``k`` in column ``j``.

G is told ``cond`` and penalised by the cross-entropy between its logits of column ``j`` and
``k`` (``condition_cross_entropy``). Unconditional sampling draws ``j`` uniformly and ``k`` with
the same log-frequency ``p_j(k)``, as CTGAN's code does (its ``sample_original_condvec`` reads
the log-frequency table, so samples over-represent rare categories as CTGAN's do);
a given value sets every row's ``cond``.
Draws use torch's global generator (checkpointed: exact resume) unless a generator is given.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def log_frequency_probabilities(counts: torch.Tensor) -> torch.Tensor:
    """``p(k) = log(1 + n_k) / Σ_k' log(1 + n_k')`` for category counts ``(K,)``."""
    w = torch.log1p(counts.double())
    return w / w.sum()


class ConditionSampler:
    """Conditional vectors over categorical columns with ``counts[j]`` ``(K_j,)`` rows per category;
    ``ids`` ``(N, Dk)`` (the training rows' category ids) enables ``sample_training``."""

    def __init__(self, counts: Sequence[torch.Tensor], ids: torch.Tensor | None = None) -> None:
        self.counts = [c.long() for c in counts]
        self.sizes = [int(c.numel()) for c in self.counts]
        self.offsets = [sum(self.sizes[:j]) for j in range(len(self.sizes))]
        self.width = sum(self.sizes)
        k_max = max(self.sizes, default=1)
        self.train_probs = torch.zeros(len(self.sizes), k_max, dtype=torch.float64)  # (Dk, K_max), padded with 0
        for j, c in enumerate(self.counts):
            self.train_probs[j, : c.numel()] = log_frequency_probabilities(c)
        self.ids = ids
        if ids is not None:  # rows of each category, grouped: order[j][starts[j][k] : starts[j][k] + n_jk]
            self.order = [torch.argsort(ids[:, j], stable=True) for j in range(ids.shape[1])]
            self.starts = [torch.cumsum(c, 0) - c for c in self.counts]

    @classmethod
    def from_ids(cls, ids: torch.Tensor, sizes: Sequence[int]) -> ConditionSampler:
        """Counts of the category ids ``(N, Dk)``, column ``j`` having ``sizes[j]`` categories."""
        counts = [torch.bincount(ids[:, j], minlength=k) for j, k in enumerate(sizes)]
        return cls(counts, ids)

    @property
    def columns(self) -> int:
        return len(self.sizes)

    def one_hot(self, column: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """``cond`` ``(B, width)`` with category ``category[b]`` of column ``column[b]`` set."""
        cond = torch.zeros(column.shape[0], self.width)
        offsets = torch.tensor(self.offsets, dtype=torch.long)
        cond[torch.arange(column.shape[0]), offsets[column] + category] = 1.0
        return cond

    def _draw(self, n: int, probs: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, ...]:
        column = torch.randint(self.columns, (n,), generator=generator)  # (n,)
        category = torch.multinomial(probs[column], 1, generator=generator).squeeze(1)  # (n,)
        return column, category

    def sample_training(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training-by-sampling: columns ``(n,)``, log-frequency categories ``(n,)`` and real row
        indices ``(n,)`` having them."""
        if self.ids is None:
            raise ValueError("sample_training needs the training rows' ids")
        column, category = self._draw(n, self.train_probs, None)
        u = torch.rand(n, dtype=torch.float64)
        rows = torch.empty(n, dtype=torch.long)
        for j in range(self.columns):
            sel = column == j
            if sel.any():
                k = category[sel]
                n_jk = self.counts[j][k]
                pos = self.starts[j][k] + torch.minimum((u[sel] * n_jk).long(), n_jk - 1)
                rows[sel] = self.order[j][pos]
        return column, category, rows

    def sample_original(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``cond`` ``(n, width)`` for unconditional sampling: a uniform column, a log-frequency category."""
        return self.one_hot(*self._draw(n, self.train_probs, generator))

    def fixed(self, n: int, column: int, category: int) -> torch.Tensor:
        """``cond`` ``(n, width)`` with category ``category`` of column ``column`` in every row."""
        return self.one_hot(torch.full((n,), column), torch.full((n,), category))


def condition_cross_entropy(logits: Sequence[torch.Tensor], column: torch.Tensor,
                            category: torch.Tensor) -> torch.Tensor:
    """``(1/B) Σ_b CE(logits[column_b][b], category_b)``: G's raw logits of each categorical
    column ``(B, K_j)`` against the condition it was given (CTGAN's ``_cond_loss``)."""
    total = logits[0].new_zeros(())
    for j, lg in enumerate(logits):
        sel = column == j
        if sel.any():
            total = total + F.cross_entropy(lg[sel], category[sel], reduction="sum")
    return total / column.shape[0]
