"""The torch intra-op thread policy of a run (``train.threads``).

Intra-op threads pay off only when one kernel has enough work to split: for a 3x64 MLP each
matrix multiply is microseconds long and a second thread mostly spins and synchronises, which on
a busy two-core machine made ``ring-sharp`` 8x slower than with one thread. The rule of
``train.threads="auto"`` (measured by ``benchmarks/threads.py``; see docs/threads.md):

    work = parameters of all the recipe's networks x elements of one batch
           (batch_size x prod(sample_shape))
    threads = 1                      if work < AUTO_WORK_THRESHOLD
            = physical cores this process may use (affinity mask) otherwise

Several threads pay off only while OpenMP's idle workers spin briefly: gankit bounds that spin
(``GOMP_SPINCOUNT``, :mod:`gankit.openmp_wait`) when it is imported before torch.

Precedence: an integer ``train.threads`` is used as given; with ``auto`` a valid
``OMP_NUM_THREADS`` the user set wins over the rule (it is what torch itself reads at start-up,
and what a resume warning asks for); otherwise the rule. So the count is a pure function of the
config, the allowed cores and that variable, and a resume on the same machine picks the same count.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Iterable, Mapping

import torch

import gankit.openmp_wait as openmp_wait

# parameters x batch elements below which one thread is used. ring-sharp (MLP 3x64, batch 256 of 2-D
# points, ~9e6) ran fastest on one thread idle and loaded; DCGAN-28 on MNIST (~1.4e10) and on Stacked
# MNIST (~4.1e10) ran fastest on both cores of an idle two-core machine and no slower on a loaded one,
# once OpenMP's spin-wait is bounded (gankit.openmp_wait; benchmarks/results/threads/bounded/).
AUTO_WORK_THRESHOLD = 10**9


CPU_TOPOLOGY = "/sys/devices/system/cpu"  # Linux: cpuN/topology/{physical_package_id,core_id}


def physical_core(cpu: int) -> tuple:
    """``(package, core)`` of logical CPU ``cpu`` from Linux's sysfs topology, so that the SMT
    siblings of one core compare equal; ``("cpu", cpu)`` where the topology cannot be read."""
    folder = os.path.join(CPU_TOPOLOGY, f"cpu{cpu}", "topology")
    try:
        with open(os.path.join(folder, "physical_package_id")) as pkg, open(os.path.join(folder, "core_id")) as core:
            return int(pkg.read()), int(core.read())
    except (OSError, ValueError):
        return ("cpu", cpu)


def allowed_cores() -> int:
    """The physical cores this process may run on, at least 1: the logical CPUs of its affinity
    mask (``os.sched_getaffinity``: what ``taskset``, a container or a batch scheduler allows;
    ``os.cpu_count()`` CPUs where the platform has none), SMT siblings counted once. Intra-op
    threads on two hyperthreads of one core share its arithmetic units, which is why torch's own
    default is one thread per physical core."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len({physical_core(c) for c in cpus}))


def env_threads() -> int | None:
    """``OMP_NUM_THREADS`` when the user set it to an integer >= 1, else None (unset, empty or
    malformed values are ignored, as OpenMP ignores them)."""
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(text) if text.isdigit() and int(text) >= 1 else None


def count_parameters(modules: Iterable[torch.nn.Module]) -> int:
    """Parameters of ``modules``, each shared tensor counted once."""
    seen = {id(p): p.numel() for m in modules for p in m.parameters()}
    return sum(seen.values())


def auto_threads(n_params: int, batch_elements: int, cores: int) -> int:
    """The ``auto`` rule: 1 thread when ``n_params * batch_elements < AUTO_WORK_THRESHOLD``,
    else ``cores`` (the cores the process may use)."""
    return 1 if n_params * batch_elements < AUTO_WORK_THRESHOLD else max(1, cores)


def resolve_threads(setting: int | str, n_params: int, batch_elements: int,
                    cores: int | None = None, env: int | None = None) -> int:
    """The thread count for ``train.threads=setting``: an integer as given; ``"auto"``: ``env``
    (``OMP_NUM_THREADS``) when set, else :func:`auto_threads` over ``cores`` (default: the allowed
    cores)."""
    if setting != "auto":
        return int(setting)
    if env is not None:
        return env
    return auto_threads(n_params, batch_elements, allowed_cores() if cores is None else cores)


def run_threads(setting: int | str, modules: Mapping[str, torch.nn.Module], batch_size: int,
                sample_shape: Iterable[int]) -> int:
    """Resolve ``train.threads`` for a run's networks and batches and apply it
    (``torch.set_num_threads``; inter-op threads are left alone: training runs no inter-op
    parallel work). Returns the count used."""
    batch_elements = batch_size * math.prod(sample_shape)
    n = resolve_threads(setting, count_parameters(modules.values()), batch_elements, env=env_threads())
    if n > 1 and not openmp_wait.SPIN_BOUNDED:
        warn_unbounded_spin(n)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


_warned: set[int] = set()


def warn_unbounded_spin(n: int) -> None:
    """Say once that ``n`` threads run with libgomp's default (long) spin-wait because torch was
    imported before gankit with neither ``GOMP_SPINCOUNT`` nor ``OMP_WAIT_POLICY`` set."""
    if n not in _warned:
        _warned.add(n)
        warnings.warn(f"{n} torch threads with OpenMP's default spin-wait (torch was imported before gankit): "
                      f"on a busy machine set GOMP_SPINCOUNT={openmp_wait.SPIN_COUNT} before starting Python, "
                      "or import gankit first", RuntimeWarning, stacklevel=3)
