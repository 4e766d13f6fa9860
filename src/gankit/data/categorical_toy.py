"""A categorical toy: one-hot vectors ``(K,)`` of draws from a fixed, uneven distribution.

``categorical``: ``K = 8`` categories with probabilities ``p_k = (k + 1) / 36`` (k = 0..7), so
the rarest is 8 times less frequent than the commonest; ``data.n_samples`` draws with ``data.seed``,
labels ``y`` = the category. ``meta["probabilities"]`` holds ``p``: what a generator of one-hot
outputs should reproduce (total variation ``(1/2) sum_k |q_k - p_k|`` of its category frequencies ``q``).
"""

from __future__ import annotations

import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError

CATEGORIES = 8


def categorical_probabilities(k: int = CATEGORIES) -> torch.Tensor:
    """``(k,)`` float64 ``p_i = (i + 1) / (k (k + 1) / 2)``."""
    weights = torch.arange(1, k + 1, dtype=torch.float64)
    return weights / weights.sum()


def total_variation(x: torch.Tensor, probabilities: torch.Tensor) -> float:
    """``(1/2) sum_k |q_k - p_k|`` for ``q`` the frequencies of the argmax categories of ``x`` ``(N, K)``."""
    q = torch.bincount(x.argmax(dim=1), minlength=probabilities.numel()).double() / x.shape[0]
    return float((q - probabilities.double()).abs().sum() / 2)


@DATASETS.register("categorical", "one-hot vectors (8,) of an uneven categorical distribution p_k = (k+1)/36 (toy)")
def build_categorical(cfg: DataConfig) -> Dataset:
    """``data.n_samples`` one-hot rows drawn with ``data.seed``; labels are the categories."""
    check_data_config(cfg)
    if cfg.n_samples <= 0:
        raise ConfigError(f"data.n_samples must be > 0, got {cfg.n_samples}")
    p = categorical_probabilities()
    y = torch.multinomial(p, cfg.n_samples, replacement=True, generator=torch.Generator().manual_seed(cfg.seed))
    x = torch.nn.functional.one_hot(y, CATEGORIES).float()  # (N, K)
    return Dataset(name="categorical", x=apply_limit(x, cfg.limit), y=apply_limit(y, cfg.limit),
                   num_classes=CATEGORIES, meta={"probabilities": p.tolist()})
