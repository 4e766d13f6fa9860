"""Optimizers built from ``OptimConfig`` for each optimizer a recipe declares."""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from gankit.config import OptimConfig


def build_optimizer(params: Iterable[nn.Parameter], lr: float, cfg: OptimConfig) -> torch.optim.Optimizer:
    """Adam / RMSprop / SGD; ``cfg.fused`` selects torch's single-kernel implementation
    where it exists for the device, otherwise the multi-tensor (foreach) one."""
    params = list(params)
    fast = {"fused": True} if cfg.fused else {"foreach": True}
    if cfg.name == "adam":
        make = lambda **kw: torch.optim.Adam(  # noqa: E731
            params, lr=lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay, **kw
        )
    elif cfg.name == "rmsprop":
        make = lambda **kw: torch.optim.RMSprop(params, lr=lr, weight_decay=cfg.weight_decay, **kw)  # noqa: E731
    else:
        make = lambda **kw: torch.optim.SGD(params, lr=lr, momentum=cfg.beta1, weight_decay=cfg.weight_decay, **kw)  # noqa: E731
    try:
        return make(**fast)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this optimizer/device
        return make(foreach=True)


def lr_factor(step: int, total_steps: int, cfg: OptimConfig) -> float:
    """Multiplier of every base learning rate at generator step ``step``: 1 for ``constant``;
    for ``linear``, 1 until ``decay_start · total_steps``, then falling linearly to 0 at
    ``total_steps`` (the schedule of pix2pix/CycleGAN; it lets a GAN settle into sharp modes)."""
    if cfg.lr_decay == "constant":
        return 1.0
    start = cfg.decay_start * total_steps
    if step < start:
        return 1.0
    return max(0.0, (total_steps - step) / max(total_steps - start, 1.0))
