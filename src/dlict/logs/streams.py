"""Streaming a day file: its SHA-256 as stored; the line count and last line of its text."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
_TAIL_LIMIT = 1 << 16


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str


def digest_file(path: Path) -> Digest:
    """SHA-256 of the bytes as stored (a .gz is hashed compressed, as it was sealed)."""
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256")
        return Digest(stream.tell(), digest.hexdigest())


class TextShape:
    """Counts lines and remembers the last one while text streams through it."""

    def __init__(self) -> None:
        self.lines = 0
        self._pending = b""
        self._last = b""

    def feed(self, chunk: bytes) -> None:
        self.lines += chunk.count(b"\n")
        end = chunk.rfind(b"\n")
        if end == -1:
            self._pending = (self._pending + chunk)[-_TAIL_LIMIT:]
            return
        start = chunk.rfind(b"\n", 0, end) + 1
        self._last = (self._pending + chunk[:end])[-_TAIL_LIMIT:] if start == 0 \
            else chunk[start:end][-_TAIL_LIMIT:]
        self._pending = chunk[end + 1:][-_TAIL_LIMIT:]

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


def read_text_shape(path: Path) -> TextReading:
    """Line count and last line of a day file's text, decompressing a .gz as it goes."""
    shape = TextShape()
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as stream:
                _pump(stream, shape)
        except (EOFError, OSError, zlib.error):
            return TextReading(shape, complete=False)
        return TextReading(shape, complete=True)
    with path.open("rb") as stream:
        _pump(stream, shape)
    return TextReading(shape, complete=True)


def _pump(stream: BinaryIO | gzip.GzipFile, shape: TextShape) -> None:
    while chunk := stream.read(CHUNK):
        shape.feed(chunk)


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
