"""Exponential moving average of a network's weights (Karras et al. 2018; Yazıcı et al. 2019).

θ_ema ← β_t·θ_ema + (1 − β_t)·θ after every generator step, with the warm-up
β_t = min(β, (1 + t) / (10 + t)) (t = steps since ``start``, as TensorFlow's
ExponentialMovingAverage with num_updates) so short runs are not dominated by the
initial weights. Buffers (BatchNorm statistics) are copied. Before ``start`` the average
simply tracks the weights.
"""

from __future__ import annotations

import copy

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
