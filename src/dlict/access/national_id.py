"""Thai national ID numbers: checked by their check digit, kept only masked and keyed-hashed.

PDPA: a plain national ID is never stored, logged or printed. The store keeps the masked form
(``x-xxxx-xxxxx-12-3``, enough for a clerk to compare with the paper form) and an HMAC-SHA256
of the number under the office's ID key, which finds a person's earlier requests without the
number. 13-digit IDs with a check digit are only 10^12 values: an unkeyed hash would be undone
by trying them all, so the key lives apart from the store (see ``IdKey``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from dlict.core.errors import InputError, OperationalError
from dlict.core.files import make_private_dirs
from dlict.core.logging import register_secret

KEY_FILE_ENV = "DLICT_ACCESS_KEY_FILE"
KEY_BYTES = 32
DIGITS = 13


def check_digit(first12: str) -> int:
    """The 13th digit of a Thai national ID: (11 - Σ dᵢ·(14-i) mod 11) mod 10."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return (11 - total % 11) % 10


def normalise(text: str) -> str:
    """The 13 digits of ``text`` (dashes and spaces allowed as typed on forms).

    Raises:
        InputError: not 13 digits, or the check digit does not match. The message never
            repeats the number: a typo of a real ID is still personal data.
    """
    digits = "".join(ch for ch in text if ch not in "- ")
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        raise InputError("--national-id: a Thai national ID has 13 digits")
    register_secret(digits)
    if check_digit(digits[:12]) != int(digits[12]):
        raise InputError("--national-id: the check digit does not match: not a valid Thai "
                         "national ID (a typing mistake?)")
    return digits


def masked(digits: str) -> str:
    """``x-xxxx-xxxxx-12-3``: only the last three digits shown."""
    return f"x-xxxx-xxxxx-{digits[10:12]}-{digits[12]}"


def default_key_file() -> Path:
    """/etc/dlict/access-id.key for root (the office controller), else the user's config dir."""
    configured = os.environ.get(KEY_FILE_ENV)
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/etc/dlict/access-id.key")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dlict" / "access-id.key"


@dataclass(frozen=True)
class IdKey:
    """The office's key for national-ID hashes: 32 random bytes in a 0600 file outside the
    data directory, made on first use. A copy of the store alone cannot reveal an ID."""

    secret: bytes
    path: Path

    @property
    def key_id(self) -> str:
        """A short name of the key, stored beside each hash (a changed key is noticed)."""
        return hashlib.sha256(b"dlict-access-key-id" + self.secret).hexdigest()[:12]

    def digest(self, digits: str) -> str:
        return hmac.new(self.secret, digits.encode(), hashlib.sha256).hexdigest()

    @classmethod
    def load(cls, path: Path, data_dir: Path, *, create: bool) -> IdKey:
        """Read (or with ``create`` make) the key at ``path``.

        Raises:
            InputError: the key would sit inside the data directory, is not a regular file,
                or others may read it; missing when not ``create``.
            OperationalError: it cannot be written.
        """
        resolved = path.resolve()
        if resolved.is_relative_to(data_dir.resolve()):
            raise InputError(f"{path}: the national-ID key must not live in the data directory "
                             f"{data_dir} (a copy of the store would carry its key)")
        if not path.exists() and not path.is_symlink():
            if not create:
                raise InputError(f"{path}: no national-ID key yet (made by the first "
                                 "`dlict access request`)")
            _write_key(path)
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: the national-ID key is not a regular file")
        if info.st_mode & 0o077:
            raise InputError(f"{path}: the national-ID key is readable by others "
                             f"(mode {stat.S_IMODE(info.st_mode):o}): chmod 600 it")
        secret = path.read_bytes()
        if len(secret) != KEY_BYTES:
            raise InputError(f"{path}: the national-ID key is not {KEY_BYTES} bytes")
        return cls(secret, path)


def _write_key(path: Path) -> None:
    try:
        make_private_dirs(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
    except OSError as exc:
        raise OperationalError(f"{path}: cannot write the national-ID key: {exc.strerror}"
                               ) from exc
