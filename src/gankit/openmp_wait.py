"""A bounded OpenMP spin-wait for every process that imports gankit (``GOMP_SPINCOUNT``).

Between two parallel kernels PyTorch's OpenMP worker threads (GNU libgomp in the CPU wheels)
spin on a core before they sleep: 300,000 spins by default, about a millisecond. On an idle
machine that spin is what makes several intra-op threads pay off for a small conv net (the next
kernel starts within microseconds); on a busy one the spinning threads take the cores the
working thread needs, and two threads trained a DCGAN 5-10x slower than one. A spin of
``SPIN_COUNT`` iterations (tens of microseconds) keeps the first and loses the second
(``benchmarks/threads.py``, docs/threads.md).

libgomp reads the variable once, when torch loads it: this module must run before the first
``import torch`` of the process, which is why ``gankit/__init__`` imports it first. A value the
user set (``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY``) is left alone. Child processes (torchrun
workers, DataLoader workers) inherit the variable.
"""

from __future__ import annotations

import os
import sys
from typing import MutableMapping

SPIN_COUNT = 1000


def bound_spin_wait(environ: MutableMapping[str, str], torch_loaded: bool) -> bool:
    """Set ``GOMP_SPINCOUNT=SPIN_COUNT`` in ``environ`` unless the user chose a wait policy.
    Returns whether the wait is bounded in this process: the user's own choice counts as
    bounded; ours only when torch was not loaded yet (libgomp has read the environment by then)."""
    if "GOMP_SPINCOUNT" in environ or "OMP_WAIT_POLICY" in environ:
        return True
    environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    return not torch_loaded


# True when this process's OpenMP threads stop spinning after SPIN_COUNT iterations (or the user
# chose the policy); False when torch was imported before gankit with no policy set.
SPIN_BOUNDED = bound_spin_wait(os.environ, "torch" in sys.modules)
