"""Streaming a day file: its SHA-256 as stored; the line count and last line of its text.

Every day file is opened through :func:`open_day`: the tree is written by other hosts' logs
and may hold anything in a day's place, so only a regular file on the tree's own filesystem
is ever read (no symlink followed, no FIFO or device opened), and every read is bounded per
line and per file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
_TAIL_LIMIT = 1 << 16
#: rsyslog's own message limit is 8 KiB by default; a line a thousand times longer is no log.
DEFAULT_MAX_LINE_BYTES = 1 << 20
#: A school host writes megabytes a day; a day past this (stored or decompressed) is refused.
DEFAULT_MAX_FILE_BYTES = 64 << 30
MIN_MAX_LINE_BYTES = 4096
#: How many overlong lines of one day are named in a finding (the rest are counted).
OVERLONG_NOTED = 5


@dataclass(frozen=True)
class Limits:
    """How much one day file may hold before it is refused instead of read."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    @property
    def chunk(self) -> int:
        # Reads no larger than the line cap: then only a line crossing a read can exceed it.
        return min(CHUNK, self.max_line_bytes)


DEFAULT_LIMITS = Limits()


class DayFileRefusedError(Exception):
    """A day file that is not read: what is in its place, or why it cannot be read.

    ``kind`` is the finding it becomes: ``not-regular``, ``unreadable`` or ``oversized``.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class OverLimitError(Exception):
    """Text streamed through a :class:`TextShape` went past a cap."""


_KINDS = ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "directory"),
          (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


def file_kind(mode: int) -> str:
    """What a non-regular directory entry is, in words."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def open_day(path: Path, *, directory_may_be_link: bool = False) -> io.BufferedReader:
    """Open a day file for reading, refusing anything but a regular file under its directory.

    The directory is opened without following a symlink (unless ``directory_may_be_link``:
    a directory the administrator configured, such as the seal state's, may be a link to
    another disk) and the file relative to it with ``O_NOFOLLOW``; the entry's ``lstat``
    before and the descriptor's ``fstat`` after must name the same regular file, on the
    directory's filesystem.

    Raises:
        DayFileRefusedError: not a regular file, on another filesystem, swapped, or unreadable.
        FileNotFoundError: the file is not there.
    """
    no_follow = 0 if directory_may_be_link else os.O_NOFOLLOW
    try:
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | no_follow
                            | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DayFileRefusedError("unreadable", f"its directory cannot be opened "
                                           f"({exc.strerror})") from exc
    try:
        return _open_in(directory, path.name)
    finally:
        os.close(directory)


@contextmanager
def read_day(path: Path) -> Iterator[io.BufferedReader]:
    """:func:`open_day`, with what goes wrong while reading it as a refusal of that day.

    Raises:
        DayFileRefusedError: see :func:`open_day`; also unreadable or past a cap.
        FileNotFoundError: the file is not there.
    """
    try:
        with open_day(path) as stream:
            yield stream
    except OverLimitError as exc:
        raise DayFileRefusedError("oversized", f"{exc}; not sealed") from exc
    except (DayFileRefusedError, FileNotFoundError):
        raise
    except OSError as exc:
        raise DayFileRefusedError("unreadable", f"cannot be read ({exc.strerror})") from exc


def _open_in(directory: int, name: str) -> io.BufferedReader:
    home = os.fstat(directory)
    before = os.stat(name, dir_fd=directory, follow_symlinks=False)
    if not stat.S_ISREG(before.st_mode):
        what = file_kind(before.st_mode)
        if stat.S_ISLNK(before.st_mode):
            what += f" to {_link_target(directory, name)}"
        raise DayFileRefusedError("not-regular", f"a {what} is in its place, not a regular file; "
                                            f"not read")
    if before.st_dev != home.st_dev:
        raise DayFileRefusedError("not-regular", "it is on another filesystem than its directory "
                                            "(a mount in the tree); not read")
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                     | os.O_CLOEXEC, dir_fd=directory)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DayFileRefusedError("unreadable", f"cannot be opened ({exc.strerror})") from exc
    after = os.fstat(fd)
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino) \
            or not stat.S_ISREG(after.st_mode):
        os.close(fd)
        raise DayFileRefusedError("not-regular", "it was replaced while being opened; not read")
    os.set_blocking(fd, True)
    return io.BufferedReader(io.FileIO(fd, "rb"))


def _link_target(directory: int, name: str) -> str:
    try:
        return repr(os.readlink(name, dir_fd=directory))
    except OSError:
        return "an unreadable target"


def _refuse_oversized(stream: BinaryIO, limits: Limits) -> int:
    size = os.fstat(stream.fileno()).st_size
    if size > limits.max_file_bytes:
        raise DayFileRefusedError("oversized", f"{size} bytes, over the cap of "
                                          f"{limits.max_file_bytes} per day file; not read")
    return size


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str


def digest_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> Digest:
    """SHA-256 of the bytes as stored (a .gz is hashed compressed, as it was sealed).

    Raises:
        DayFileRefusedError: see :func:`open_day`; also a file over the size cap.
        FileNotFoundError: the file is not there.
    """
    with read_day(path) as stream:
        _refuse_oversized(stream, limits)
        digest = hashlib.file_digest(stream, "sha256")
        return Digest(stream.tell(), digest.hexdigest())


class TextShape:
    """Counts lines and remembers the last one while text streams through it.

    A line longer than ``limits.max_line_bytes`` is counted and noted in :attr:`overlong`
    (never held: only the last 64 KiB of a line is kept). Raises :class:`OverLimitError` from
    :meth:`feed` when the whole text goes past the file cap; chunks must be no larger than
    ``limits.chunk``.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.lines = 0
        self.bytes = 0
        self._pending = b""
        self._last = b""
        self._run = 0  # length of the line not yet ended
        self._limits = limits
        self._overlong: list[tuple[int, int]] = []
        self._overlong_ended = 0

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        if self.bytes > self._limits.max_file_bytes:
            raise OverLimitError(f"more than {self._limits.max_file_bytes} bytes of text "
                            f"(the cap per day file)")
        self.lines += chunk.count(b"\n")
        end = chunk.rfind(b"\n")
        if end == -1:
            self._run += len(chunk)
            self._pending = (self._pending + chunk)[-_TAIL_LIMIT:]
            return
        self._run += chunk.find(b"\n")
        self._note_run(self.lines - chunk.count(b"\n") + 1)
        self._run = len(chunk) - end - 1
        start = chunk.rfind(b"\n", 0, end) + 1
        self._last = (self._pending + chunk[:end])[-_TAIL_LIMIT:] if start == 0 \
            else chunk[start:end][-_TAIL_LIMIT:]
        self._pending = chunk[end + 1:][-_TAIL_LIMIT:]

    def _note_run(self, line_number: int) -> None:
        # Only a line crossing a chunk can be over the cap: a chunk is no longer than it.
        if self._run > self._limits.max_line_bytes:
            self._overlong_ended += 1
            if len(self._overlong) < OVERLONG_NOTED:
                self._overlong.append((line_number, self._run))

    @property
    def overlong(self) -> list[tuple[int, int]]:
        """(line number, length in bytes) of the first lines over the cap, the unended last
        line included; :attr:`overlong_count` counts them all."""
        if self._run > self._limits.max_line_bytes and \
                len(self._overlong) < OVERLONG_NOTED:
            return [*self._overlong, (self.lines + 1, self._run)]
        return list(self._overlong)

    @property
    def overlong_count(self) -> int:
        return self._overlong_ended + (1 if self._run > self._limits.max_line_bytes else 0)

    @property
    def ends_mid_line(self) -> bool:
        return bool(self._pending)

    @property
    def total_lines(self) -> int:
        return self.lines + (1 if self._pending else 0)

    @property
    def tail(self) -> str:
        """Hash of the last line (without its newline)."""
        return hashlib.sha256(self._pending or self._last).hexdigest()


@dataclass(frozen=True)
class TextReading:
    shape: TextShape
    complete: bool  # False: a .gz stream that ends early or is corrupt


def read_text_shape(path: Path, limits: Limits = DEFAULT_LIMITS) -> TextReading:
    """Line count and last line of a day file's text, decompressing a .gz as it goes.

    Raises:
        DayFileRefusedError: see :func:`open_day`; also text past the file cap.
        FileNotFoundError: the file is not there.
    """
    shape = TextShape(limits)
    with read_day(path) as raw:
        _refuse_oversized(raw, limits)
        if not path.name.endswith(".gz"):
            _pump(raw, shape, limits)
            return TextReading(shape, complete=True)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                _pump(stream, shape, limits)
        except (EOFError, zlib.error, gzip.BadGzipFile):
            return TextReading(shape, complete=False)
        return TextReading(shape, complete=True)


class HashingReader:
    """Hashes and counts the stored bytes as a reader (or the gzip reader above it) pulls them."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("a hashing reader only reads forward")

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def read_stored(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[Digest, TextReading]:
    """Digest and text shape of a day file from one open and one read: what is hashed is
    what was counted, even if the name is given another file meanwhile.

    Raises:
        DayFileRefusedError: see :func:`open_day`; also text past the file cap.
        FileNotFoundError: the file is not there.
    """
    shape = TextShape(limits)
    complete = True
    with read_day(path) as raw:
        _refuse_oversized(raw, limits)
        hashing = HashingReader(raw)
        if path.name.endswith(".gz"):
            try:
                with gzip.GzipFile(None, "rb", fileobj=hashing) as stream:
                    _pump(stream, shape, limits)
            except (EOFError, zlib.error, gzip.BadGzipFile):
                complete = False
        else:
            _pump(hashing, shape, limits)
        while hashing.read(limits.chunk):
            pass  # whatever follows a damaged or finished gzip stream is sealed too
        return Digest(hashing.size, hashing.sha256), TextReading(shape, complete)


def _pump(stream: BinaryIO | gzip.GzipFile | HashingReader, shape: TextShape,
          limits: Limits) -> None:
    while chunk := stream.read(limits.chunk):
        shape.feed(chunk)


def bounded_lines(stream: BinaryIO | gzip.GzipFile, limits: Limits) -> Iterator[bytes]:
    """The lines of a stream (newline kept), never holding more than one capped line.

    Raises:
        OverLimitError: a line longer than the cap.
    """
    pending = b""
    while chunk := stream.read(limits.chunk):
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            yield pending + chunk[start:end + 1]
            pending = b""
            start = end + 1
        pending += chunk[start:]
        if len(pending) > limits.max_line_bytes:
            raise OverLimitError(f"a line is longer than {limits.max_line_bytes} bytes "
                            f"(the cap per line)")
    if pending:
        yield pending


class HashingWriter:
    """A binary sink that hashes and counts what is written to the file under it."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self.size += len(view)
        return self._target.write(data)

    def flush(self) -> None:
        self._target.flush()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()
