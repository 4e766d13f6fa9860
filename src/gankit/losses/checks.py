"""Shape checks shared by every loss and penalty: one clear ``ShapeError`` at the boundary."""

from __future__ import annotations

from torch import Tensor

from gankit.errors import ShapeError

__all__ = ["check_logits", "check_pair"]


def check_logits(name: str, logits: Tensor) -> None:
    """Per-sample logits ``[N]``, ``[N, 1]`` or ``[N, 1, H, W]``, else ``ShapeError``."""
    if not isinstance(logits, Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if logits.dim() == 0:
        raise ShapeError(
            f"{name} is a scalar; expected per-sample logits of shape [N], [N, 1] or [N, 1, H, W]"
        )
    if logits.numel() == 0:
        raise ShapeError(f"{name} is empty (shape {tuple(logits.shape)}); need at least one sample")


def check_pair(real_logits: Tensor, fake_logits: Tensor) -> None:
    """Real and fake logits that agree after the batch dimension (sizes may differ)."""
    check_logits("real_logits", real_logits)
    check_logits("fake_logits", fake_logits)
    # Batch sizes may differ; everything after the batch dimension must agree.
    if real_logits.shape[1:] != fake_logits.shape[1:]:
        raise ShapeError(
            "real_logits and fake_logits must have the same shape after the batch dimension; "
            f"got {tuple(real_logits.shape)} and {tuple(fake_logits.shape)}"
        )
