"""The retention policy the logging role writes to the log server (/etc/dlict/logging.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from dlict.core.errors import InputError
from dlict.core.inputs import read_input_text
from dlict.logs.streams import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    MIN_MAX_LINE_BYTES,
    Limits,
)

DEFAULT_POLICY_FILE = Path("/etc/dlict/logging.json")
#: Computer Crime Act s.26: at least 90 days; an officer may order up to two years.
MIN_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 730


@dataclass(frozen=True)
class Policy:
    root: Path = Path("/var/log/dlict")
    retention_days: int = MIN_RETENTION_DAYS
    signing_key: Path = Path("/etc/dlict/logseal.key")
    state_dir: Path = Path("/var/lib/dlict/logseal")
    silent_after_hours: float = 6.0
    max_clock_offset_ms: float = 10.0
    file_owner: str = "root"
    file_group: str = "adm"
    #: Hours after a day's end by which the daily job must have sealed it.
    seal_due_hours: float = 6.0
    #: Compress closed days before sealing (off where the filesystem compresses, e.g. ZFS).
    compress: bool = True
    #: Caps on one day file: a longer line, or a larger file (stored or decompressed), is a
    #: finding and is not read further.
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    #: Where day boundaries fall; None is the machine's local time (what rsyslog uses).
    zone: tzinfo | None = field(default=None, compare=False)
    #: Delete sealed days past retention. Only when a retention was set explicitly (in the
    #: policy file or on the command line): the defaults never delete what a user stored.
    prune: bool = field(default=False, compare=False)

    @property
    def limits(self) -> Limits:
        return Limits(self.max_line_bytes, self.max_file_bytes)

    def problems(self) -> list[str]:
        """What in the policy itself breaks the law or the SOP."""
        found = []
        if self.retention_days < MIN_RETENTION_DAYS:
            found.append(f"retention is {self.retention_days} days; the Computer Crime Act "
                         f"s.26 asks for at least {MIN_RETENTION_DAYS}")
        if self.retention_days > MAX_RETENTION_DAYS:
            found.append(f"retention is {self.retention_days} days; more than the "
                         f"{MAX_RETENTION_DAYS} (2 years) an officer may order")
        return found


_PATHS = {"root", "signing_key", "state_dir"}
_NUMBERS = {"retention_days": int, "silent_after_hours": float, "max_clock_offset_ms": float,
            "seal_due_hours": float, "max_line_bytes": int, "max_file_bytes": int}
_MINIMUM = {"max_line_bytes": MIN_MAX_LINE_BYTES, "max_file_bytes": 1}
_TEXT = {"file_owner", "file_group"}
_FLAGS = {"compress"}


def load_policy(path: Path) -> Policy:
    """Read a policy file; every problem is one line naming the file and the key.

    Raises:
        InputError: the file is missing, not JSON, or a value has the wrong type.
    """
    if not path.exists():
        raise InputError(f"{path}: no such policy file")
    try:
        data = json.loads(read_input_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return policy_from_mapping(data, str(path))


def policy_from_mapping(data: dict[str, Any], origin: str) -> Policy:
    known = {f.name for f in fields(Policy)} - {"zone", "prune"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise InputError(f"{origin}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        if key in _PATHS:
            if not isinstance(value, str) or not value.startswith("/"):
                raise InputError(f"{origin}: {key} must be an absolute path, got {value!r}")
            values[key] = Path(value)
        elif key in _NUMBERS:
            kind = _NUMBERS[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                    kind is int and not isinstance(value, int)) or value < 0:
                raise InputError(f"{origin}: {key} must be a non-negative "
                                 f"{'whole number' if kind is int else 'number'}, got {value!r}")
            if value < _MINIMUM.get(key, 0):
                raise InputError(f"{origin}: {key} must be at least {_MINIMUM[key]}, "
                                 f"got {value!r}")
            values[key] = kind(value)
        elif key in _FLAGS:
            if not isinstance(value, bool):
                raise InputError(f"{origin}: {key} must be true or false, got {value!r}")
            values[key] = value
        elif key in _TEXT:
            if not isinstance(value, str) or not value:
                raise InputError(f"{origin}: {key} must be a name, got {value!r}")
            values[key] = value
    # The logging role writes retention_days: only then may a seal delete old days.
    return replace(Policy(), **values, prune="retention_days" in values)


def resolve_policy(policy_file: Path | None, *, root: Path | None = None,
                   signing_key: Path | None = None, state_dir: Path | None = None,
                   retention_days: int | None = None) -> Policy:
    """The policy a command works with: the named file, else the server's file when it
    exists, else the defaults; options given on the command line win.

    A seal deletes days past retention only when the retention was set explicitly: in the
    policy file or with ``retention_days`` here.
    """
    if policy_file is not None:
        policy = load_policy(policy_file)
    elif DEFAULT_POLICY_FILE.is_file():
        policy = load_policy(DEFAULT_POLICY_FILE)
    else:
        policy = Policy()
    if retention_days is not None:
        if retention_days < 1:
            raise InputError(f"--retention-days must be at least 1, got {retention_days}")
        policy = replace(policy, retention_days=retention_days, prune=True)
    return replace(policy, root=root or policy.root,
                   signing_key=signing_key or policy.signing_key,
                   state_dir=state_dir or policy.state_dir)
