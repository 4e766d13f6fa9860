"""``gankit COMMAND --nproc N``: the same command on ``N`` processes of this machine, started by
``torch.distributed.run`` (what ``torchrun`` runs) after the config has been checked here, so a
config that several processes cannot train is one error line, not ``N`` tracebacks."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Sequence

from gankit.errors import ConfigError
from gankit.recipes import RECIPES
from gankit.train import distributed


def check_nproc(nproc: int, cfg: Any | None = None) -> None:
    """``nproc >= 1`` and, for a training config, one that ``nproc`` processes train as one would."""
    if nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {nproc}")
    if cfg is not None:
        distributed.check_data_parallel(cfg, RECIPES.get(cfg.recipe.name), distributed.World(0, nproc))


def without_nproc(argv: Sequence[str]) -> list[str]:
    """``argv`` less its ``--nproc N`` / ``--nproc=N``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def torchrun_command(nproc: int, argv: Sequence[str]) -> list[str]:
    """``torchrun --standalone --nproc_per_node=N -m gankit ARGV`` with this interpreter."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "gankit", *without_nproc(argv)]


def run_on_processes(nproc: int, argv: Sequence[str]) -> int:
    """Run ``gankit ARGV`` on ``nproc`` local processes; returns torchrun's exit status."""
    return subprocess.call(torchrun_command(nproc, argv))
