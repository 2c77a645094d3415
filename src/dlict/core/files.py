"""Writing report and evidence files: whole or not at all, readable by owner and group only."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from dlict.core.errors import DlictError, InputError, OperationalError

EVIDENCE_MODE = 0o640
PRIVATE_DIR_MODE = 0o750

# A path that names the wrong kind of thing is the user's to fix (exit 2); a full, read-only or
# failing disk and missing permissions are the machine's (exit 3).
_WRONG_KIND = frozenset({errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP})
_MACHINE_CAUSED = _WRONG_KIND | {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO,
                                 errno.EACCES, errno.EPERM}


def make_private_dirs(path: Path) -> None:
    """Create the directory ``path`` and any missing parent with mode 0750.

    The umask can only narrow the mode. Directories that exist already keep theirs.

    Raises:
        OSError: a directory cannot be created; ``NotADirectoryError`` naming the file when
            something that is not a directory stands where one should be.
    """
    missing: list[Path] = []
    current = path
    while not current.is_dir() and current.parent != current:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "it exists and is not a directory",
                                         str(directory)) from None


def os_failure(path: Path, doing: str, exc: OSError) -> DlictError:
    """One clear line for an ``OSError`` met while ``doing`` something with ``path``.

    Returns:
        an ``InputError`` (exit 2) when the path names the wrong kind of thing (a file where a
        directory should be), else an ``OperationalError`` (exit 3) naming the cause.
    """
    where = exc.filename if isinstance(exc.filename, str) and exc.filename else str(path)
    kind = InputError if exc.errno in _WRONG_KIND else OperationalError
    return kind(f"{where}: cannot {doing}: {_cause(exc)}")


def environment_failure(exc: BaseException) -> DlictError | None:
    """The line for an ``OSError`` that the machine caused (a full or read-only disk, missing
    permissions, a file where a directory should be) and no caller described; None otherwise,
    so that an unexpected error stays visible as a bug."""
    if not isinstance(exc, OSError) or exc.errno not in _MACHINE_CAUSED:
        return None
    if not isinstance(exc.filename, str) or not exc.filename:
        return None
    kind = InputError if exc.errno in _WRONG_KIND else OperationalError
    return kind(f"{exc.filename}: {_cause(exc)}")


def _cause(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "the file system is mounted read-only"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (disk or quota full)"
    return exc.strerror or str(exc)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0640 (a reader never sees half a file).

    Raises:
        OperationalError: the directory is missing or not writable.
    """
    write_atomic(path, text, EVIDENCE_MODE)


def write_atomic(path: Path, text: str | bytes, mode: int) -> None:
    """Write ``text`` (UTF-8 when it is ``str``) to ``path`` whole or not at all, with ``mode``.

    Raises:
        OperationalError: the directory is missing or not writable.
    """
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path())
    except OSError as exc:
        raise os_failure(path, "write", exc) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode() if isinstance(text, str) else text)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise os_failure(path, "write", exc) from exc
        raise
