"""Reading the files a user gives dlict: regular files only, bounded in size, never blocking.

Imports nothing but ``os`` and ``stat``: ``dlict probe`` reads its target file through here
and starts in a few milliseconds.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from dlict.core.errors import InputError

if TYPE_CHECKING:
    from os import PathLike

    PathArg = str | PathLike[str]


# The largest file dlict reads as input (inventory, configuration, policy, target list): a
# district of 500 schools fits in well under 1 MiB, and anything past this is a mistake or
# an attack, refused before a byte is parsed.
MAX_INPUT_BYTES = 8 * 1024 * 1024


def require_regular_file(path: PathArg, error: type[InputError] = InputError) -> None:
    """Refuse anything but a regular file (a FIFO would block a reader, a device never end).

    Raises:
        error: the path is missing, unreadable or not a regular file.
    """
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 - pathlib costs dlict probe 3 ms
    except FileNotFoundError as exc:
        raise error(f"{path}: no such file") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc
    if not stat.S_ISREG(mode):
        raise error(f"{path}: not a regular file ({_kind(mode)})")


def read_input_bytes(path: PathArg, error: type[InputError] = InputError,
                     limit: int = MAX_INPUT_BYTES) -> bytes:
    """The whole of a regular file of at most ``limit`` bytes, never blocking on a FIFO.

    Raises:
        error: the file is missing, unreadable, not a regular file or larger than ``limit``.
    """
    require_regular_file(path, error)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):  # swapped between the check and the open
            raise error(f"{path}: not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise error(f"{path}: too large ({info.st_size} bytes; at most {limit} are read)")
        try:
            data = source.read(limit + 1)
        except OSError as exc:
            raise error(f"{path}: cannot read: {exc.strerror}") from exc
    if len(data) > limit:
        raise error(f"{path}: too large (more than {limit} bytes)")
    return data


def read_input_text(path: PathArg, error: type[InputError] = InputError,
                    limit: int = MAX_INPUT_BYTES) -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes (a byte-order mark dropped).

    Raises:
        error: as :func:`read_input_bytes`, or the file is not UTF-8.
    """
    try:
        return read_input_bytes(path, error, limit).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason})") from exc


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")
