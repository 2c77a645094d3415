"""What a SQLite error means for the user: the two tests the evidence store and the agent's
outbox both need to tell a full disk from a damaged file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (SQLITE_FULL, SQLITE_IOERR, …), if it has one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def disk_is_full(path: Path) -> bool:
    """Whether the file system holding ``path`` has no block left for us (an I/O error on a
    full disk is the disk's fault, not the file's)."""
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False
