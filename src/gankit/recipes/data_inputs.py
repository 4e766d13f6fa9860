"""Generator inputs drawn from data, for recipes whose G starts from an image (translation,
super-resolution) instead of a latent vector: the trainer's grids, histograms and BatchNorm
re-estimation ask ``Recipe.latent(n, generator)`` for inputs, and get training examples."""

from __future__ import annotations

import torch

from gankit.data.base import field_len, take
from gankit.errors import ConfigError
from gankit.recipes.base import DataInfo


def draw_field(data: DataInfo, name: str, n: int, generator: torch.Generator | None,
               device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` examples ``(n, ...)`` of field ``name`` of ``data.train_set`` at uniform positions
    ``torch.randint(len, (n,), generator=generator)`` (with replacement), on ``device``."""
    if data.train_set is None:
        raise ConfigError(f"this run's generator starts from data (field {name!r}), which a saved run does not "
                          "hold: give it inputs instead (e.g. `gankit translate`)")
    field = data.train_set.field(name)
    if field is None:
        raise ConfigError(f"the data has no field {name!r} to draw generator inputs from")
    idx = torch.randint(field_len(field), (n,), generator=generator)  # (n,)
    return take(field, idx).to(device)  # (n, ...)
