"""Image rows for translation grids: input | output | target, stacked for a grid of ``n`` columns."""

from __future__ import annotations

import torch

from gankit.errors import ShapeError


def translation_rows(inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Rows input | output | target for a grid of ``n`` columns: ``(3n, C, H, W)``; a one-channel
    input beside three-channel outputs is repeated to three channels."""
    c = max(inputs.shape[1], outputs.shape[1], targets.shape[1])
    rows = [t.expand(-1, c, -1, -1) if t.shape[1] == 1 else t for t in (inputs, outputs, targets)]
    if any(r.shape[1:] != rows[1].shape[1:] for r in rows):
        raise ShapeError(f"cannot lay out inputs {tuple(inputs.shape[1:])}, outputs {tuple(outputs.shape[1:])} and "
                         f"targets {tuple(targets.shape[1:])} as rows of one grid")
    return torch.cat(rows)  # (3n, C, H, W)
