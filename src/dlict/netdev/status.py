"""The last thing dlict learned about each device, for ``dlict monitor`` to serve as metrics:
reachable or not, when its configuration last changed, how many rules it failed."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlict.core.clock import utc_now
from dlict.core.files import make_private_dirs, write_atomic

STATUS_FILE = "status.json"


@dataclass(frozen=True)
class DeviceStatus:
    site: str
    reachable: bool | None = None
    checked_at: float | None = None
    config_changed_at: float | None = None
    audit_failures: int | None = None
    audited_at: float | None = None


def netdev_dir(data_dir: Path) -> Path:
    return data_dir / "netdev"


def read_status(data_dir: Path) -> dict[str, DeviceStatus]:
    """Device name → status; empty when nothing was recorded yet (or the file is unreadable)."""
    path = netdev_dir(data_dir) / STATUS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: DeviceStatus(**fields) for name, fields in data["devices"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    make_private_dirs(folder)
    with (folder / ".status.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update_status(data_dir: Path, updates: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge per-device fields into the status file (whole file written atomically)."""
    folder = netdev_dir(data_dir)
    with _locked(folder):
        current = {name: vars(s).copy() for name, s in read_status(data_dir).items()}
        now = utc_now().timestamp()
        for name, fields in updates.items():
            current.setdefault(name, {"site": fields.get("site", "")})
            current[name].update(fields)
            current[name].setdefault("checked_at", now)
        write_atomic(folder / STATUS_FILE,
                     json.dumps({"devices": current}, indent=1, sort_keys=True) + "\n", 0o640)
