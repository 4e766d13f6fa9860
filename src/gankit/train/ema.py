"""Exponential moving average of a network's weights (Karras et al. 2018; Yazıcı et al. 2019).

θ_ema ← β_t·θ_ema + (1 − β_t)·θ after every generator step, with the warm-up
β_t = min(β, (1 + t) / (10 + t)) (t = steps since ``start``, as TensorFlow's
ExponentialMovingAverage with num_updates) so short runs are not dominated by the
initial weights. Buffers (BatchNorm statistics) are copied, so they belong to the live
network, not to the averaged weights: ``recompute_batchnorm_stats`` re-estimates them for the
average before it samples (the trainer does, ``train.ema_bn_batches``). Before ``start`` the
average simply tracks the weights.
"""

from __future__ import annotations

import copy
from typing import Callable, Iterable

import torch
from torch import nn


class EMA:
    def __init__(self, module: nn.Module, decay: float, start: int = 0) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.start = start
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        self._src_params = list(module.parameters())
        self._src_buffers = list(module.buffers())
        self._params = list(self.module.parameters())
        self._buffers = list(self.module.buffers())
        self.stats_stale = True  # its BatchNorm statistics are a copy of the live network's

    @torch.no_grad()
    def update(self, step: int) -> None:
        t = step - self.start
        beta = min(self.decay, (1.0 + t) / (10.0 + t)) if t >= 0 else 0.0
        if beta == 0.0:
            torch._foreach_copy_(self._params, self._src_params)
        else:
            torch._foreach_lerp_(self._params, self._src_params, 1.0 - beta)
        for dst, src in zip(self._buffers, self._src_buffers):
            dst.copy_(src)
        self.stats_stale = True


@torch.no_grad()
def recompute_batchnorm_stats(modules: Iterable[nn.Module], forward: Callable[[], object], batches: int) -> None:
    """Re-estimate the running statistics of every BatchNorm layer in ``modules`` for their
    current weights ("standing statistics" of BigGAN, Brock et al. 2019; what
    ``torch.optim.swa_utils.update_bn`` does for averaged weights): reset them, run ``forward``
    ``batches`` times with those layers in train mode and keep the plain average over the passes
    (momentum None): ``mean = (1/B) Σ_b mean_b``, ``var = (1/B) Σ_b var_b`` (unbiased per batch).
    A layer no pass reaches keeps its statistics, as do all layers if ``forward`` raises; every
    module's train/eval mode is restored."""
    modules = list(modules)
    norms = [m for module in modules for m in module.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms or batches <= 0:
        return
    saved = [(m.momentum, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in norms]
    modes = [(m, m.training) for module in modules for m in module.modules()]
    completed = False
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        for _ in range(batches):
            forward()
        completed = True
    finally:
        for m, (momentum, mean, var, tracked) in zip(norms, saved):
            m.momentum = momentum
            if not completed or int(m.num_batches_tracked) == 0:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(tracked)
        for m, training in modes:
            m.train(training)
