"""Non-finite losses and gradients, caught at the step they happen (``train.on_nonfinite``).

Every phase update records two booleans on the device: *every loss handed to backward is
finite* and *every gradient is finite*. The gradients are checked by the fused kernel AMP's grad
scaler uses to find overflows (``torch._amp_foreach_non_finite_check_and_unscale_`` with a scale
of exactly 1, so the gradients are unchanged): one pass over all of them, exact (a large finite
gradient is not flagged, as a norm that overflows would be); the losses, stacked, go through the
same kernel. Nothing is read back inside the update for ``stop`` and ``rollback``: the flags of a
whole step are read with one host transfer at its end. ``skip`` must know before
``optimizer.step``, so it reads one flag per phase update (free on the CPU, one device sync per
update on a GPU). Under AMP with a grad scaler, gradients are not checked: the scaler already
skips the steps whose scaled gradients overflow, and only the losses are.

Policies:

- ``stop``: raise :class:`~gankit.errors.NonFiniteError` naming the step and the quantity; the
  step's state is not written anywhere, the last good checkpoint stays on disk.
- ``skip``: an update whose loss or gradients are non-finite is dropped: that optimizer's
  parameters and state stay as they were (no ``optimizer.step``, no recipe ``after_step``);
  the batch and the random numbers it drew are spent, the other phases run as usual.
- ``rollback``: reload the last good checkpoint and continue with every learning rate times
  ``ROLLBACK_LR_FACTOR``, at most ``train.max_rollbacks`` times; the reduced rate is stored in
  the checkpoint, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import torch

from gankit.errors import NonFiniteError

POLICIES = ("stop", "skip", "rollback")
ROLLBACK_LR_FACTOR = 0.5  # every learning rate is multiplied by this at each rollback


_ONES: dict[torch.device, torch.Tensor] = {}


def _one(device: torch.device) -> torch.Tensor:
    if device not in _ONES:
        _ONES[device] = torch.ones(1, device=device)
    return _ONES[device]


def flag_non_finite(tensors: list[torch.Tensor], found: torch.Tensor) -> None:
    """Set ``found`` (a one-element float tensor) to 1 when an element of ``tensors`` is NaN or Inf,
    without a host sync. The tensors are multiplied in place by exactly 1 (the AMP kernel's unscale),
    which leaves every value as it was."""
    by_device: dict[torch.device, list[torch.Tensor]] = {}
    for t in tensors:
        by_device.setdefault(t.device, []).append(t)
    for device, group in by_device.items():
        flag = found if found.device == device else torch.zeros(1, device=device)
        torch._amp_foreach_non_finite_check_and_unscale_(group, flag, _one(device))
        if flag is not found:  # pragma: no cover - a trainer keeps its networks on one device
            found.copy_(torch.maximum(found, flag.to(found.device)))


def all_finite(tensors: list[torch.Tensor]) -> torch.Tensor:
    """A 0-d bool tensor on the tensors' device: True when every element of every tensor is finite."""
    tensors = [t for t in tensors if t.numel()]  # an empty tensor has no infinity norm (and nothing to check)
    if not tensors:
        return torch.ones((), dtype=torch.bool)
    norms = torch._foreach_norm(tensors, math.inf)  # max |x| per tensor: NaN/Inf exactly when one element is
    return torch.stack([n.to(norms[0].device) for n in norms]).isfinite().all()


def first_non_finite(tensors: Mapping[str, torch.Tensor]) -> str | None:
    """The name of the first floating tensor holding a NaN or Inf, or None (one host read when all are finite)."""
    floating = {k: v for k, v in tensors.items() if v.is_floating_point() and v.numel()}
    if not floating or bool(all_finite(list(floating.values()))):
        return None
    return next(k for k, v in floating.items() if not bool(torch.isfinite(v).all()))


def check_finite_state(tensors: Mapping[str, torch.Tensor], what: str) -> None:
    """Raise ``NonFiniteError`` when a tensor about to be written as ``what`` holds a NaN or Inf."""
    bad = first_non_finite(tensors)
    if bad is not None:
        raise NonFiniteError(f"{what}: {bad} is not finite (NaN or Inf); nothing was written")


class NonFiniteGuard:
    """The trainer's bookkeeping of ``train.on_nonfinite``: flags per phase update, the rollback
    count and the learning-rate scale (the last two are checkpointed)."""

    def __init__(self, policy: str, max_rollbacks: int, check_grads: bool = True) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown non-finite policy {policy!r}")
        self.policy = policy
        self.max_rollbacks = max_rollbacks
        self.check_grads = check_grads
        self.lr_scale = 1.0
        self.rollbacks = 0
        self._losses: list[torch.Tensor] = []  # the detached losses of the current update
        self._pending: list[tuple[str, torch.Tensor]] = []  # (phase, [loss finite, grads finite]) of this step

    # ------------------------------------------------------------------ one update

    def begin_update(self) -> None:
        self._losses = []

    def on_loss(self, loss: torch.Tensor) -> None:
        """Called with every (scalar) loss the recipe backpropagates; checked in ``end_update``."""
        self._losses.append(loss.detach())

    def end_update(self, phase: str, params: Iterable[torch.nn.Parameter]) -> bool:
        """Record the update's flags before ``optimizer.step``. Returns False when the update must
        be dropped (``skip`` and something non-finite); always True for the other policies."""
        grads = [p.grad for p in params if p.grad is not None] if self.check_grads else []
        losses, self._losses = self._losses, []
        device = grads[0].device if grads else losses[0].device if losses else None
        found = torch.zeros(2, device=device)  # [a loss is non-finite, a gradient is]: 0 or 1
        if losses:  # stacked into a new tensor: the kernel's in-place x1 never touches a graph's output
            stacked = torch.stack(losses)
            flag_non_finite([stacked if stacked.dtype == torch.float32 else stacked.float()], found[0:1])
        if grads:
            flag_non_finite(grads, found[1:2])
        if self.policy == "skip":
            return not bool(found.any())  # the one host read of this update
        self._pending.append((phase, found))
        return True

    def end_step(self) -> str | None:
        """After a step (``stop``/``rollback``): None when every update was finite, else what was
        not (e.g. ``"loss of phase D"``). One host read per step."""
        pending, self._pending = self._pending, []
        if not pending:
            return None
        found = torch.stack([f for _, f in pending])
        if not bool(found.any()):
            return None
        for (phase, _), (loss_bad, grads_bad) in zip(pending, found.cpu().tolist()):
            if loss_bad:
                return f"loss of phase {phase}"
            if grads_bad:
                return f"gradient of phase {phase}"
        return None  # pragma: no cover - found.any() was True

    # ------------------------------------------------------------------ rollbacks

    def can_roll_back(self) -> bool:
        return self.policy == "rollback" and self.rollbacks < self.max_rollbacks

    def rolled_back(self) -> None:
        """Count a rollback and reduce the learning rates."""
        self.rollbacks += 1
        self.lr_scale *= ROLLBACK_LR_FACTOR

    def state_dict(self) -> dict[str, Any]:
        return {"lr_scale": self.lr_scale, "rollbacks": self.rollbacks}

    def load_state_dict(self, state: Mapping[str, Any] | None) -> None:
        """Restore from a checkpoint (one written before rollbacks existed has none: scale 1, no rollbacks)."""
        state = state or {}
        scale, count = state.get("lr_scale", 1.0), state.get("rollbacks", 0)
        if not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and 0 < scale <= 1):
            raise ValueError(f"nonfinite.lr_scale must be in (0, 1], got {scale!r}")
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 0):
            raise ValueError(f"nonfinite.rollbacks must be an integer >= 0, got {count!r}")
        self.lr_scale, self.rollbacks = float(scale), count


def stop_message(step: int, what: str, policy: str, checkpoint: str | None, rollbacks: int = 0) -> str:
    """The one line a run ends with when it meets a non-finite value it may not recover from."""
    if policy == "rollback":
        how = f"after {rollbacks} rollback(s) (train.max_rollbacks)" if checkpoint else "and no checkpoint to reload"
    else:
        how = f"(train.on_nonfinite={policy})"
    if checkpoint:
        retry = "a larger train.max_rollbacks" if policy == "rollback" else "train.on_nonfinite=skip or rollback"
        return (f"non-finite {what} at step {step} {how}; the last good checkpoint {checkpoint} is kept; "
                f"resume with {retry}, or lower the learning rate")
    return (f"non-finite {what} at step {step} {how}; no checkpoint was written; lower the learning rate or "
            "train with train.on_nonfinite=skip or rollback")
