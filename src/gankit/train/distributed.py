"""Training on several processes (``torchrun``): the process group, gradient averaging and the
checks that keep a run of ``W`` processes equal to one process with the same global batch.

How (the docs page on several processes says more):

* Every rank loads the data, seeds the same global RNG with ``train.seed`` and takes share ``r``
  (rows ``[r·B/W, (r+1)·B/W)``) of every global batch of ``train.batch_size = B`` rows: the
  loader's global order is the one-process order, and the random draws over a batch are made at
  the global size by every rank (``gankit.sharding``). So the RNG state is the same on every
  rank and a checkpoint resumes at any world size.
* Networks are not wrapped in ``DistributedDataParallel``: DDP's hooks do not reduce the
  gradients of a double backward (gradient penalties). Instead, after each phase's backward, the
  gradients of that optimizer's parameters are averaged over ranks in one flattened all-reduce::

      g = (1/W) Σ_r ∇ L_r,   L_r = mean of the loss over rank r's B/W rows

  which is the gradient of the global mean because every share has the same size
  (``B % W == 0`` is required), whatever backward produced it.
* Rank 0 writes the run directory; the other ranks write nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

import torch
import torch.distributed as dist

from gankit.errors import ConfigError
from gankit.sharding import set_shard


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one run."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def parallel(self) -> bool:
        return self.size > 1

    @property
    def writes(self) -> bool:
        """Whether this process writes the run directory (rank 0)."""
        return self.rank == 0


def world_from_env() -> World:
    """The world ``torchrun`` describes in ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` (one
    process when they are unset)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise ConfigError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (as torchrun sets them)") from None
    if size < 1 or not 0 <= rank < size:
        raise ConfigError(f"RANK={rank} is not in [0, WORLD_SIZE={size})")
    return World(rank, size, local)


def backend_for(device: str) -> str:
    """``nccl`` for CUDA devices, ``gloo`` otherwise."""
    return "nccl" if device.startswith("cuda") else "gloo"


def start(device: str) -> World:
    """Join the process group ``torchrun`` set up (a no-op for one process) and shard batches by
    rank. On CUDA each process uses GPU ``LOCAL_RANK`` (``train.device=cuda`` means that one)."""
    world = world_from_env()
    set_shard(world.rank, world.size)
    if not world.parallel or dist.is_initialized():
        return world
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group(backend_for(device))
    global _JOINED
    _JOINED = True
    return world


_JOINED = False  # whether start() created the process group (stop() leaves a caller's own group alone)


def stop() -> None:
    """Leave the process group ``start`` joined (a group the caller created stays) and return to
    one-process sharding when no group is left."""
    global _JOINED
    if _JOINED and dist.is_initialized():
        dist.destroy_process_group()
    _JOINED = False
    if not dist.is_initialized():
        set_shard(0, 1)


def current_world() -> World:
    """The world of the process group this process has joined (one process when none)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    return World()


def _collective_device() -> torch.device:
    """Where small bookkeeping tensors live for the backend: the current GPU under NCCL, else CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def average_gradients(params: Iterable[torch.nn.Parameter], world: World) -> None:
    """Replace each parameter's ``.grad`` by its mean over ranks: one all-reduce of the flattened
    gradients (parameters without a gradient are skipped; the set is the same on every rank,
    which runs the same graph)."""
    if not world.parallel:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def average_stats(record: dict[str, float], world: World) -> dict[str, float]:
    """``record`` (name -> value, the same names on every rank) averaged over ranks."""
    if not world.parallel or not record:
        return record
    names = sorted(record)
    values = torch.tensor([record[k] for k in names], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(values)
    return dict(zip(names, (values / world.size).tolist()))


def any_rank(flag: bool, world: World) -> bool:
    """True on every rank when ``flag`` is True on any (a stop signal reaching one process stops all
    at the same step)."""
    if not world.parallel:
        return flag
    t = torch.tensor([int(flag)], device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def finish_together(world: World) -> None:
    """Wait until every rank has finished its work (rank 0 writes the run's last files while the
    others are done), so the group is torn down by all ranks at once: a gloo process that leaves
    while a peer is still connected can abort in teardown ("terminate called without an active
    exception"). Only on the success path: a rank that failed must not wait for the others."""
    if world.parallel:
        dist.barrier()


def broadcast_object(obj: Any, world: World) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not world.parallel:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# what a recipe must not use under several processes: each is a statistic over the whole batch or
# a state updated from one rank's share, so a sharded run would silently differ from one process
def check_data_parallel(cfg: Any, recipe: Any, world: World) -> None:
    """Refuse (``ConfigError``) a run that ``world.size`` processes cannot train as one process
    with the same global batch would; ``recipe`` is the recipe or its class (nothing is built)."""
    if not world.parallel:
        return
    size, batch = world.size, cfg.train.batch_size
    if batch % size:
        raise ConfigError(
            f"train.batch_size={batch} must be divisible by the number of processes ({size}): every rank takes "
            f"an equal share of each global batch, so averaging their gradients gives the global mean"
        )
    if not getattr(recipe, "data_parallel", False):
        raise ConfigError(f"recipe {cfg.recipe.name} does not train on several processes yet (recipe gan does)")
    if cfg.train.on_nonfinite == "rollback":
        raise ConfigError("train.on_nonfinite=rollback reloads the checkpoint rank 0 writes; it cannot train on "
                          f"{size} processes (stop or skip can)")
    for why in recipe.data_parallel_refusals(cfg, batch // size):
        raise ConfigError(f"{why}; it cannot train on {size} processes")
