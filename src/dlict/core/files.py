"""Writing report and evidence files: whole or not at all, readable by owner and group only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dlict.core.errors import OperationalError

EVIDENCE_MODE = 0o640


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0640 (a reader never sees half a file).

    Raises:
        OperationalError: the directory is missing or not writable.
    """
    write_atomic(path, text, EVIDENCE_MODE)


def write_atomic(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` whole or not at all, with ``mode``.

    Raises:
        OperationalError: the directory is missing or not writable.
    """
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path())
    except OSError as exc:
        raise OperationalError(f"{path}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
