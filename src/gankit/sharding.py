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


def share_of(n: int) -> slice:
    """This process's contiguous rows of ``n`` rows split as evenly as possible over the ``W``
    processes (the first ``n mod W`` shares one row longer); all of them in one process."""
    base, extra = divmod(n, _SIZE)
    start = _RANK * base + min(_RANK, extra)
    return slice(start, start + base + (_RANK < extra))


def gather_shares(x: torch.Tensor) -> torch.Tensor:
    """Every process's rows (its ``share_of`` a whole, ``(n_r, ...)``) concatenated in rank order:
    the whole on every process (``x`` itself in one process)."""
    if _SIZE == 1:
        return x
    import torch.distributed as dist

    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else x.device
    local = x.to(device).contiguous()
    sizes = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(_SIZE)]
    dist.all_gather(sizes, torch.tensor([local.shape[0]], device=device))
    counts = [int(s) for s in sizes]
    padded = local.new_zeros((max(counts), *local.shape[1:]))
    padded[: local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(_SIZE)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:c] for p, c in zip(parts, counts)]).to(x.device)
