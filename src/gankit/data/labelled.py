"""A class-balanced labelled subset, for semi-supervised recipes (e.g. 100 MNIST labels)."""

from __future__ import annotations

import torch

from gankit.errors import ConfigError


def labelled_subset(y: torch.Tensor | None, n: int, num_classes: int, seed: int) -> torch.Tensor:
    """Indices (n,) of ``n // num_classes`` examples of every class, drawn without replacement
    by a generator seeded with ``seed`` (so a run and its resume pick the same ones), in
    class order. ``n`` must be a positive multiple of ``num_classes`` that the data can supply."""
    if y is None or num_classes < 1:
        raise ConfigError("a labelled subset needs a dataset with class labels")
    if n < num_classes or n % num_classes:
        raise ConfigError(f"the number of labelled examples must be a positive multiple of {num_classes}, got {n}")
    per_class = n // num_classes
    gen = torch.Generator().manual_seed(seed)
    picks = []
    for k in range(num_classes):
        members = torch.nonzero(y == k).flatten()
        if len(members) < per_class:
            raise ConfigError(f"class {k} has {len(members)} examples, fewer than the {per_class} labels asked for")
        picks.append(members[torch.randperm(len(members), generator=gen)[:per_class]])
    return torch.cat(picks)
