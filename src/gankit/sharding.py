"""Which rows of every global batch this process computes, and random draws that respect it.

Data-parallel training splits each global batch of ``B`` rows into ``W`` contiguous shares of
``B / W`` rows; process ``r`` (its rank) computes rows ``[r·B/W, (r+1)·B/W)``. Every process
seeds the same global RNG and makes the same draws, so a random tensor over the batch
(latents, GP's interpolation weights, noise) is drawn at the global size by every rank and
each keeps its own rows: the draws, and so the whole step, are those of one process with
batch ``B``. With one process (the default) ``draw_rows`` is the plain draw.
"""

from __future__ import annotations

from typing import Callable

import torch

_RANK, _SIZE = 0, 1


def set_shard(rank: int, size: int) -> None:
    """Make this process compute share ``rank`` of ``size`` of every global batch."""
    global _RANK, _SIZE
    if size < 1 or not 0 <= rank < size:
        raise ValueError(f"shard {rank} of {size}: need 0 <= rank < size")
    _RANK, _SIZE = rank, size


def shard() -> tuple[int, int]:
    """``(rank, size)`` of this process's share; ``(0, 1)`` when not data-parallel."""
    return _RANK, _SIZE


def draw_rows(sample: Callable[[int], torch.Tensor], n_local: int) -> torch.Tensor:
    """This process's rows of a global draw: ``sample(n_local · W)[r · n_local : (r+1) · n_local]``
    (``sample(n_local)`` itself when ``W = 1``)."""
    if _SIZE == 1:
        return sample(n_local)
    start = _RANK * n_local
    return sample(n_local * _SIZE)[start : start + n_local]


def global_std(x: torch.Tensor) -> torch.Tensor:
    """Population std (``ddof = 0``) of every entry of the global batch whose local rows are ``x``
    (``x.std(unbiased=False)`` when ``W = 1``); no gradient flows through it."""
    if _SIZE == 1:
        return x.std(unbiased=False)
    import torch.distributed as dist

    dtype = x.dtype
    x = x.detach().double()
    moments = torch.stack([x.new_tensor(float(x.numel())), x.sum(), x.square().sum()])  # (3,)
    dist.all_reduce(moments)
    count, total, squares = moments.unbind()
    mean = total / count
    return (squares / count - mean.square()).clamp_min(0).sqrt().to(dtype)
