"""The log tree the server writes: ``<root>/<site>/<host>/<YYYY-MM-DD>.log[.gz]``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

MANIFEST_NAME = "manifest.dlict.jsonl"
DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.log(\.gz)?$")
#: A day is closed, and may be compressed and sealed, this long after its midnight: messages
#: rsyslog is still writing at midnight have landed by then.
CLOSE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Source:
    """One sending host's directory in the tree."""

    site: str
    host: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.site}/{self.host}"

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST_NAME


def sources(root: Path) -> list[Source]:
    """Every ``site/host`` directory under the root, sorted.

    A site directory that cannot be listed stands as one source (host ``?``) whose directory
    cannot be read: the seal and the check report it there instead of stopping.
    """
    found: list[Source] = []
    for site in sorted(_subdirectories(root)):
        try:
            hosts = sorted(_subdirectories(root / site))
        except OSError:
            found.append(Source(site, "?", root / site / "?"))
            continue
        found.extend(Source(site, host, root / site / host) for host in hosts)
    return found


def _subdirectories(path: Path) -> Iterator[str]:
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                yield entry.name


def day_of(name: str) -> date | None:
    """The day a file name stands for, or None when it is not a day file."""
    match = DAY_FILE.match(name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def day_file_name(day: date, compressed: bool) -> str:
    return f"{day.isoformat()}.log" + (".gz" if compressed else "")


def end_of_day(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def last_closed_day(now: datetime, zone: tzinfo, grace: timedelta = CLOSE_GRACE) -> date:
    """The newest day whose end (plus the grace) has passed."""
    return (now.astimezone(zone) - grace).date() - timedelta(days=1)


def date_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Collapse sorted days into inclusive (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def format_ranges(days: list[date]) -> str:
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}"
                     for a, b in date_ranges(days))
