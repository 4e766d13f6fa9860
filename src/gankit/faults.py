"""Test-only fault injection: named points in the write paths where a process can be made to die.

The environment variable ``GANKIT_FAULT=<site>@<n>[:<action>]`` arms one site; at the ``n``-th
time the process reaches it, ``fault_point`` acts:

- ``kill`` (default): ``SIGKILL`` to this process, what ``kill -9`` or the OOM killer does;
- ``sigint``: ``SIGINT`` to this process, what Ctrl-C does;
- ``enospc``: raise ``OSError(ENOSPC)``, what a write to a full disk does.

Sites (each a window that a crash must survive):

=====================  ===============================================================
``train.step``         after each training step, before its logging and checkpoint
``checkpoint.write``   half of the checkpoint's bytes are in its temp file
``stats.flush``        half of a ``stats.jsonl`` line is on disk
``write:<glob>``       an atomic write of a file whose name matches ``<glob>`` has all its
                       bytes in the temp file, not yet renamed (``write:README.md``,
                       ``write:step_*.png``)
=====================  ===============================================================

Unset (always, outside tests), a fault point is one comparison with ``None``.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import signal
from dataclasses import dataclass
from typing import IO, Any

from gankit.errors import ConfigError

__all__ = ["ENV", "ACTIONS", "FaultPlan", "parse_fault", "arm", "fault_point", "write_fault_point"]

ENV = "GANKIT_FAULT"
ACTIONS = ("kill", "sigint", "enospc")


@dataclass
class FaultPlan:
    """Act (``action``) at the ``nth`` time ``site`` is reached; ``hits`` counts so far."""

    site: str
    nth: int
    action: str = "kill"
    hits: int = 0


def parse_fault(text: str) -> FaultPlan:
    """``"<site>@<n>[:<action>]"`` -> a FaultPlan (``ConfigError`` for anything else)."""
    site, at, rest = text.rpartition("@")
    count, colon, action = rest.partition(":")
    action = action if colon else "kill"
    if not at or not site or not count.isdigit() or int(count) < 1 or action not in ACTIONS:
        raise ConfigError(f"{ENV}={text!r}: expected <site>@<n>[:{'|'.join(ACTIONS)}] with n >= 1")
    return FaultPlan(site, int(count), action)


_UNREAD = object()
_plan: Any = _UNREAD  # read from the environment at the first fault point


def _armed() -> FaultPlan | None:
    global _plan
    if _plan is _UNREAD:
        text = os.environ.get(ENV)
        _plan = parse_fault(text) if text else None
    return _plan


def arm(text: str | None) -> FaultPlan | None:
    """Arm ``text`` (as ``GANKIT_FAULT`` would) in this process, or disarm with None; hit counts restart."""
    global _plan
    _plan = parse_fault(text) if text else None
    return _plan


def _act(plan: FaultPlan, fh: IO[Any] | None) -> None:
    if fh is not None:
        fh.flush()  # what was written so far reaches the file, as a crash would leave it
    if plan.action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.kill(os.getpid(), signal.SIGINT if plan.action == "sigint" else signal.SIGKILL)


def fault_point(site: str, fh: IO[Any] | None = None) -> None:
    """Act here if ``GANKIT_FAULT`` names ``site`` and this is its n-th hit; ``fh`` (an open
    file being written) is flushed first so its partial contents are on disk."""
    plan = _plan if _plan is not _UNREAD else _armed()
    if plan is None or plan.site != site:
        return
    plan.hits += 1
    if plan.hits == plan.nth:
        _act(plan, fh)


def write_fault_point(name: str, fh: IO[Any]) -> None:
    """The ``write:<glob>`` site of an atomic write of a file called ``name``."""
    plan = _plan if _plan is not _UNREAD else _armed()
    if plan is None or not plan.site.startswith("write:") or not fnmatch.fnmatchcase(name, plan.site[6:]):
        return
    plan.hits += 1
    if plan.hits == plan.nth:
        _act(plan, fh)
