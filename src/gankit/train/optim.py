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
