"""Run a function as ``n`` ranks of a process group, the way ``torchrun`` starts them (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, a free MASTER_PORT), in processes forked from the test so
that none pays torch's import again."""

from __future__ import annotations

import multiprocessing
import os
import socket
import traceback
from typing import Any, Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, n: int, port: int, fn: Callable[..., Any], args: tuple, errors: Any) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(n),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    try:
        fn(*args)
    except BaseException:
        errors.put(f"rank {rank}:\n{traceback.format_exc()}")
        raise SystemExit(1) from None


def launch(n: int, fn: Callable[..., Any], *args: Any, timeout: float = 300, method: str = "fork") -> None:
    """Run ``fn(*args)`` in ``n`` ranks and wait for all; a failing or hanging rank fails the caller
    with its traceback. ``method="spawn"`` (``fn`` importable) where the parent may hold CUDA state,
    which a forked child cannot use."""
    ctx = multiprocessing.get_context(method)
    errors = ctx.SimpleQueue()
    port = free_port()
    procs = [ctx.Process(target=_rank_main, args=(r, n, port, fn, args, errors)) for r in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout)
    hung = [p for p in procs if p.is_alive()]
    for p in hung:
        p.kill()
        p.join()
    messages = []
    while not errors.empty():
        messages.append(errors.get())
    codes = [p.exitcode for p in procs]
    if hung or any(codes) or messages:
        raise AssertionError(f"ranks exited {codes}{' (timed out)' if hung else ''}:\n" + "\n".join(messages))
