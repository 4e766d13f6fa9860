"""BatchNorm over the global batch of a data-parallel run, on any device and backend.

``torch.nn.SyncBatchNorm`` runs on GPUs only; this layer does the same with the differentiable
collectives of ``torch.distributed.nn`` so it also runs on CPU under gloo. In training, with a
process group of ``W > 1`` processes, the batch statistics are those of all ranks' rows::

    mean = Σ_r Σ_i x_ri / N,   var = Σ_r Σ_i (x_ri - mean)² / N,   N = Σ_r n_r

(two all-reduces, so the variance is as exact as one process's), and the running statistics use
the unbiased ``var · N / (N - 1)``; gradients flow back through both all-reduces, so each rank's
backward carries the other ranks' share of ``∂L/∂mean`` and ``∂L/∂var``. In eval mode, in one
process, and inside ``local_batch_statistics()`` it is ``nn.BatchNorm``.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn

_LOCAL = False  # True inside local_batch_statistics()


@contextlib.contextmanager
def local_batch_statistics() -> Iterator[None]:
    """Within this block every ``GlobalBatchNorm`` normalises by its own batch (no collective):
    for passes that every rank runs on the same whole batch, such as re-estimating an EMA
    network's standing statistics."""
    global _LOCAL
    saved, _LOCAL = _LOCAL, True
    try:
        yield
    finally:
        _LOCAL = saved


def _synchronised() -> bool:
    return not _LOCAL and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """``BatchNorm1d/2d/3d`` whose training statistics span every rank's batch (see the module)."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"GlobalBatchNorm expects (N, C, ...) input, got {x.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, ...) -> same
        if not (self.training and _synchronised()):
            return super().forward(x)
        self._check_input_dim(x)
        from torch.distributed.nn.functional import all_reduce

        if x.dtype in (torch.float16, torch.bfloat16):  # statistics in float32, as autocast runs batch_norm
            x = x.float()

        dims = [d for d in range(x.dim()) if d != 1]
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = all_reduce(x.new_tensor(float(x.numel() // x.shape[1])))
        mean = all_reduce(x.sum(dims)) / count  # (C,)
        centred = x - mean.view(shape)
        var = all_reduce(centred.square().sum(dims)) / count  # (C,) biased, as the batch is normalised
        y = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach() * count / (count - 1).clamp_min(1))
        return y

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, unbiased_var: torch.Tensor) -> None:
        self.num_batches_tracked.add_(1)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
        self.running_var.lerp_(unbiased_var.to(self.running_var.dtype), factor)


def convert_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every ``nn.BatchNorm*`` layer replaced by a ``GlobalBatchNorm`` holding the
    same parameters and buffers (state-dict keys unchanged, so checkpoints load either way)."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, GlobalBatchNorm):
        out = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                              module.track_running_stats)
        out.load_state_dict(module.state_dict())
        if module.affine:
            out.weight.requires_grad_(module.weight.requires_grad)
            out.bias.requires_grad_(module.bias.requires_grad)
        return out.to(next(iter(module.state_dict().values())).device).train(module.training)
    for name, child in module.named_children():
        converted = convert_batchnorm(child)
        if converted is not child:
            setattr(module, name, converted)
    return module
