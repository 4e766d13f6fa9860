"""Reading UTF-8 text files for the text-based datasets (token sequences, CSV tables), with one
``DataError`` line naming the file (and the line of the first bad byte) on failure."""

from __future__ import annotations

from pathlib import Path

from gankit.errors import DataError


def read_utf8(path: str | Path, what: str = "text file") -> str:
    """The contents of ``path`` decoded as UTF-8 (a leading BOM is dropped).

    Raises ``DataError`` if the file is missing or unreadable (``what`` names it in the
    message), or if it is not UTF-8 (naming the line and byte offset of the first bad byte).
    """
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path} line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


def read_lines(path: str | Path, what: str = "text file") -> list[str]:
    """The lines of a UTF-8 text file without their ``\\n`` / ``\\r\\n`` endings (see ``read_utf8``)."""
    lines = read_utf8(path, what).split("\n")  # not splitlines(): it also splits on \v, \f, U+2028, ...
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
