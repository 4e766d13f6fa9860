"""Atomic file writing: temp file in the target's directory -> fsync -> ``os.replace``.

A reader (or a crash) never sees a half-written file: either the old contents or the new
ones. On any error the temp file is removed and the target is left untouched. Every file
gankit writes (checkpoints, configs, plots, metrics, caches) goes through here.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from gankit.faults import write_fault_point

__all__ = ["atomic_write", "save_atomically"]

_TEMP_SUFFIX = ".tmp"


def _temp_path(target: Path) -> Path:
    # Same directory as the target (os.replace is only atomic within one filesystem);
    # hidden, random, and recognisable as ours.
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}")


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself (POSIX); silently skipped where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    encoding: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temp file next to ``path`` for writing; on clean exit it replaces ``path``.

    ``mode`` is ``"wb"`` (default) or ``"w"`` (text; ``encoding`` defaults to UTF-8).
    Parent directories are created. If the body raises, the temp file is deleted, ``path``
    keeps its previous contents (or stays absent) and the exception propagates; an ``OSError``
    (a full disk, a read-only directory) is raised again naming ``path``, not the temp file.
    An existing target's permission bits are kept; a new file gets 0o666 minus the umask.

    >>> with atomic_write("out/grid.png") as fh:   # doctest: +SKIP
    ...     img.save(fh, format="PNG")
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)
    except OSError as exc:
        raise _naming(exc, target) from exc
    try:
        try:
            fh = os.fdopen(fd, mode, encoding=(encoding or "utf-8") if mode == "w" else None)
        except BaseException:
            os.close(fd)
            raise
        with fh:
            yield fh
            fh.flush()
            write_fault_point(target.name, fh)
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename in (None, str(tmp)):
            raise _naming(exc, target) from exc
        raise
    _fsync_directory(target.parent)


def _naming(exc: OSError, target: Path) -> OSError:
    """``exc`` (a write or open error) as the same kind of OSError naming ``target``."""
    return OSError(exc.errno, exc.strerror or str(exc), str(target))  # OSError picks the subclass by errno


def save_atomically(
    path: str | os.PathLike[str],
    write_fn: Callable[[IO[Any]], Any],
    mode: str = "wb",
) -> Path:
    """Call ``write_fn(file_object)`` inside :func:`atomic_write`; return ``Path(path)``."""
    with atomic_write(path, mode) as fh:
        write_fn(fh)
    return Path(path)
