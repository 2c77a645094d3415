"""``dlict logs check``: prove, per source, that the kept logs are complete, intact and usable.

Per source: coverage (every day of the window present and sealed; gaps as date ranges),
integrity (each sealed file against its manifest entry, the chain, the signatures and the seal
state), freshness (seconds since the source was last heard, from file times), time (the
newest clock report the host logged), traffic-data fields (a sample of lines), permissions.
Files are streamed and hashed on a small thread pool (hashlib releases the GIL), one source
ahead of the one being judged, so memory does not grow with the tree.
"""

from __future__ import annotations

import contextlib
import grp
import gzip
import os
import pwd
import stat
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dlict.core.errors import InputError
from dlict.logs import chrony, keys, manifest
from dlict.logs.fields import FieldSampler, FieldsVerdict
from dlict.logs.policy import Policy
from dlict.logs.seal import check_lock, local_zone
from dlict.logs.streams import (
    DayFileRefusedError,
    Digest,
    Limits,
    OverLimitError,
    bounded_lines,
    digest_file,
    file_kind,
    open_day,
    read_text_shape,
)
from dlict.logs.tree import (
    MANIFEST_NAME,
    Source,
    date_ranges,
    day_of,
    end_of_day,
    format_ranges,
    sources,
)

#: Every kind of problem a check reports; reports translate them.
KINDS = (
    "modified", "truncated", "lines-deleted", "grown", "reordered", "renamed", "deleted",
    "inserted", "unsealed", "gap", "retention", "manifest-truncated", "manifest-edited",
    "manifest-rollback", "foreign-key", "chain-broken", "manifest-moved", "state", "silent",
    "clock", "fields", "policy", "permissions", "not-regular", "unreadable", "oversized",
    "duplicate",
)
#: How long a check waits for a running seal by default: a daily seal takes minutes.
DEFAULT_LOCK_WAIT = 600.0
CLOCK_TAG = b"dlict-chrony"
_CLOCK_SCAN = 4 << 20
_FIELD_SAMPLE_LINES = 20_000
_PERMISSION_EXAMPLES = 3


@dataclass(frozen=True)
class Problem:
    kind: str
    day: date | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "day": self.day.isoformat() if self.day else None,
                "detail": self.detail}


@dataclass(frozen=True)
class ClockReport:
    offset_ms: float
    error_bound_ms: float
    synchronised: bool
    reference: str
    line: str


@dataclass
class SourceReport:
    source: str
    days_required: int = 0
    days_covered: int = 0
    not_collected_before: date | None = None
    last_sealed_day: date | None = None
    last_heard: datetime | None = None
    silent_seconds: float | None = None
    clock: ClockReport | None = None
    fields: list[FieldsVerdict] = field(default_factory=list)
    gaps: list[tuple[date, date]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def integrity_ok(self) -> bool:
        return not any(p.kind not in ("gap", "silent", "clock", "fields", "permissions",
                                      "unsealed") for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "ok": self.ok, "integrity_ok": self.integrity_ok,
            "days_required": self.days_required, "days_covered": self.days_covered,
            "not_collected_before": _iso(self.not_collected_before),
            "last_sealed_day": _iso(self.last_sealed_day),
            "last_heard": self.last_heard.isoformat() if self.last_heard else None,
            "silent_seconds": self.silent_seconds,
            "clock": None if self.clock is None else {
                "offset_s": self.clock.offset_ms / 1000,
                "error_bound_s": self.clock.error_bound_ms / 1000,
                "synchronised": self.clock.synchronised, "reference": self.clock.reference},
            "fields": [{"log_type": v.log_type, "lines_sampled": v.lines_sampled,
                        "lines_complete": v.lines_complete, "missing": list(v.missing),
                        "unknown_formats": list(v.unknown_formats), "ok": v.ok}
                       for v in self.fields],
            "gaps": [[a.isoformat(), b.isoformat()] for a, b in self.gaps],
            "problems": [p.as_dict() for p in self.problems],
            "files": self.files, "bytes": self.bytes,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass
class CheckReport:
    root: Path
    checked_at: datetime
    days: int
    policy: Policy
    sources: list[SourceReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # not tied to one source

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.sources)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.sources)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root), "checked_at": self.checked_at.isoformat(),
            "days": self.days, "ok": self.ok,
            "retention_days": self.policy.retention_days,
            "problems": [p.as_dict() for p in self.problems],
            "sources": [s.as_dict() for s in self.sources],
            "files": sum(s.files for s in self.sources), "bytes": self.bytes,
        }


@dataclass
class _Listing:
    day_files: dict[str, tuple[date, os.stat_result]]
    others: list[str]
    #: Day-named entries that are not read, with why: a symlink, FIFO, device, directory...
    refused: dict[str, tuple[date, DayFileRefusedError]] = field(default_factory=dict)


def check_tree(policy: Policy, public: Ed25519PublicKey, days: int | None = None,
               now: datetime | None = None, workers: int | None = None,
               lock_wait: float = DEFAULT_LOCK_WAIT) -> CheckReport:
    """Check every source under the policy's root, never while a seal is changing it.

    Raises:
        InputError: the root does not exist or ``days`` is not positive.
        OperationalError: a seal is still running after ``lock_wait`` seconds.
    """
    if not policy.root.is_dir():
        raise InputError(f"{policy.root}: no such log tree")
    window = policy.retention_days if days is None else days
    if window < 1:
        raise InputError(f"--days must be at least 1, got {window}")
    with check_lock(policy.state_dir, lock_wait):
        return _check_tree(policy, public, window, now, workers)


def _check_tree(policy: Policy, public: Ed25519PublicKey, window: int, now: datetime | None,
                workers: int | None) -> CheckReport:
    moment = now or datetime.now(UTC)
    report = CheckReport(policy.root, moment, window, policy)
    report.problems += [Problem("policy", None, text) for text in policy.problems()]
    state = manifest.read_state(policy.state_dir, public)
    if state.problem:
        report.problems.append(Problem("state", None, state.problem))
    judge = _Judge(policy, public, state, window, moment, local_zone(policy))
    report.problems += judge.tree_permissions()
    found = sources(policy.root)
    names = {s.name for s in found}
    for name, head in sorted(state.heads.items()):
        if name not in names:
            report.problems.append(Problem(
                "deleted", head.day, f"{name}: the whole source directory is gone (sealed "
                f"up to {head.day.isoformat()})"))
    pool_size = workers or min(4, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="dlict-hash") as pool:
        for source, listing, digests in _hash_ahead(found, pool, policy.limits):
            report.sources.append(judge.source(source, listing, digests))
    return report


_Hashed = Digest | DayFileRefusedError


def _hash_ahead(found: list[Source], pool: ThreadPoolExecutor, limits: Limits) -> Iterator[
        tuple[Source, _Listing, dict[str, Future[_Hashed]]]]:
    """Yield each source with its files' digests under way, one source ahead."""
    pending: deque[tuple[Source, _Listing, dict[str, Future[_Hashed]]]] = deque()
    for source in found:
        listing = _list(source.path)
        futures = {name: pool.submit(_digest_or_refusal, source.path / name, limits)
                   for name in sorted(listing.day_files)}
        pending.append((source, listing, futures))
        if len(pending) > 1:
            yield pending.popleft()
    yield from pending


def _digest_or_refusal(path: Path, limits: Limits) -> _Hashed:
    try:
        return digest_file(path, limits)
    except FileNotFoundError:
        return DayFileRefusedError("unreadable", "it vanished while being checked")
    except DayFileRefusedError as refusal:
        return refusal


def _list(directory: Path) -> _Listing:
    listing = _Listing({}, [])
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                _sort_entry(listing, entry)
    except OSError as exc:
        listing.refused[""] = (date.min, DayFileRefusedError(
            "unreadable", f"the directory cannot be read ({exc.strerror})"))
    return listing


def _sort_entry(listing: _Listing, entry: os.DirEntry[str]) -> None:
    if entry.name == MANIFEST_NAME or entry.name.startswith("."):
        return
    day = day_of(entry.name)
    if day is None:
        listing.others.append(entry.name)
        return
    info = entry.stat(follow_symlinks=False)
    if stat.S_ISREG(info.st_mode):
        listing.day_files[entry.name] = (day, info)
        return
    what = file_kind(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        with contextlib.suppress(OSError):
            what += f" to {str(Path(entry.path).readlink())!r}"
    listing.refused[entry.name] = (day, DayFileRefusedError(
        "not-regular", f"a {what} is in its place, not a regular file; not read"))


class _Judge:
    def __init__(self, policy: Policy, public: Ed25519PublicKey, state: manifest.SealState,
                 window: int, now: datetime, zone: tzinfo) -> None:
        self.policy = policy
        self.public = public
        self.state = state
        self.now = now
        self.zone = zone
        due = timedelta(hours=policy.seal_due_hours)
        # The newest day that must be sealed by now, and the window of days ending there.
        last_due = (now.astimezone(zone) - due).date() - timedelta(days=1)
        self.window = [last_due - timedelta(days=n) for n in range(window - 1, -1, -1)]
        self.uid = _uid(policy.file_owner)
        self.gid = _gid(policy.file_group)

    def tree_permissions(self) -> list[Problem]:
        mode = self.policy.root.stat().st_mode
        if mode & 0o007:
            return [Problem("permissions", None, f"{self.policy.root} is open to every user "
                                                 f"(mode {stat.S_IMODE(mode):04o})")]
        return []

    def is_due(self, day: date) -> bool:
        return end_of_day(day, self.zone) + timedelta(hours=self.policy.seal_due_hours) \
            <= self.now

    def source(self, source: Source, listing: _Listing,
               futures: dict[str, Future[_Hashed]]) -> SourceReport:
        report = SourceReport(source.name)
        reading = manifest.read_manifest(source.manifest, source.name, self.public)
        problems = report.problems
        problems += [Problem(p.kind, p.day, p.detail) for p in reading.problems]
        problems += self._against_state(source, reading)
        digests: dict[str, Digest] = {}
        for name, future in futures.items():
            outcome = future.result()
            if isinstance(outcome, DayFileRefusedError):
                listing.refused[name] = (listing.day_files.pop(name)[0], outcome)
            else:
                digests[name] = outcome
        problems += [Problem(refusal.kind, None if day == date.min else day,
                             f"{name or source.path}: {refusal.reason}")
                     for name, (day, refusal) in sorted(listing.refused.items())]
        problems += _duplicates(listing, reading)
        report.files = len(digests)
        report.bytes = sum(d.size for d in digests.values())
        doubtful = reading.doubtful_days
        entries = {e.day: e for e in reading.entries if e.day not in doubtful}
        if reading.entries:
            report.last_sealed_day = reading.entries[-1].day
        by_hash = {e.sha256: e for e in entries.values() if e.file}
        where = {d.sha256: name for name, d in digests.items()}
        verified: set[date] = set()
        referenced = {e.file for e in entries.values() if e.file}
        missing: list[manifest.Entry] = []
        for day, entry in sorted(entries.items()):
            if entry.file is None or entry.file in listing.refused:
                continue
            digest = digests.get(entry.file)
            if digest is None:
                moved_to = where.get(entry.sha256)
                if moved_to is not None and moved_to != entry.file:
                    if listing.day_files[moved_to][0] not in entries or \
                            entries[listing.day_files[moved_to][0]].file is None:
                        problems.append(Problem("renamed", day, f"{entry.file} was renamed "
                                                                f"to {moved_to}"))
                    continue
                missing.append(entry)
            elif digest.sha256 == entry.sha256 and digest.size == entry.size:
                verified.add(day)
            else:
                problems.append(self._mismatch(source, entry, digest, by_hash))
        problems += self._missing(missing)
        last_sealed = max(entries) if entries else None
        for name, (day, _info) in sorted(listing.day_files.items()):
            if name in referenced or day in doubtful:
                continue
            sealed_twin = by_hash.get(digests[name].sha256)
            if sealed_twin is not None:
                if sealed_twin.file not in digests:
                    continue  # reported above as renamed
                problems.append(Problem("inserted", day, f"{name} is a copy of the sealed "
                                                         f"{sealed_twin.file}"))
            elif last_sealed is not None and day <= last_sealed:
                problems.append(Problem("inserted", day, f"{name} is not in the manifest, "
                                                         f"which already sealed that day"))
            elif self.is_due(day):
                problems.append(Problem("unsealed", day, f"{name} was never sealed"))
        problems += [Problem("inserted", None, f"unexpected file {name}")
                     for name in sorted(listing.others)]
        self._coverage(report, entries, verified, listing)
        self._freshness(report, listing)
        self._clock(report, source, listing)
        self._fields(report, source, listing)
        self._permissions(report, source, listing)
        report.problems.sort(key=lambda p: (p.day or date.min, p.kind))
        return report

    def _against_state(self, source: Source, reading: manifest.ManifestReading) -> list[Problem]:
        head = self.state.heads.get(source.name)
        last = reading.newest
        if head is None:
            if reading.entries and self.state.heads:
                return [Problem("state", None, "the seal state has no record of this "
                                               "manifest")]
            return []
        if head.day in reading.doubtful_days or any(
                p.kind in ("manifest-truncated", "foreign-key") for p in reading.problems):
            return []  # already said, more precisely
        recorded = reading.by_seq(head.seq)
        if recorded is not None:
            if recorded.hash == head.hash:
                return []
            return [Problem("manifest-rollback", head.day, f"entry {head.seq} differs from "
                                                           f"the one the seal recorded")]
        ends = f"entry {last.seq} ({last.day.isoformat()})" if last else "no entry"
        return [Problem("manifest-rollback", head.day,
                        f"the manifest ends at {ends}; the seal recorded entry {head.seq} "
                        f"({head.day.isoformat()}): truncated or rolled back")]

    def _mismatch(self, source: Source, entry: manifest.Entry, digest: Digest,
                  by_hash: dict[str, manifest.Entry]) -> Problem:
        other = by_hash.get(digest.sha256)
        if other is not None:
            return Problem("reordered", entry.day, f"{entry.file} holds the content sealed "
                                                   f"for {other.day.isoformat()}")
        path = source.path / (entry.file or "")
        kind, detail = _diagnose(path, entry, digest, self.policy.limits)
        return Problem(kind, entry.day, f"{entry.file}: {detail}")

    def _missing(self, missing: list[manifest.Entry]) -> list[Problem]:
        in_window = [e for e in missing if e.day >= self.window[0]]
        problems = []
        oldest_run: list[manifest.Entry] = []
        for index, entry in enumerate(sorted(in_window, key=lambda e: e.day)):
            if entry.day == self.window[0] + timedelta(days=index):
                oldest_run.append(entry)
        if oldest_run:
            kept = len(self.window) - len(oldest_run)
            problems.append(Problem(
                "retention", oldest_run[-1].day,
                f"only {kept} of {len(self.window)} days kept: "
                f"{format_ranges([e.day for e in oldest_run])} deleted before their time"))
        problems += [Problem("deleted", e.day, f"{e.file} is gone") for e in in_window
                     if e not in oldest_run]
        return problems

    def _coverage(self, report: SourceReport, entries: dict[date, manifest.Entry],
                  verified: set[date], listing: _Listing) -> None:
        starts = [min(entries)] if entries else []
        starts += [day for day, _ in listing.day_files.values()]
        first = min(starts) if starts else None
        required = [d for d in self.window if first is not None and d >= first]
        if first is not None and first > self.window[0]:
            report.not_collected_before = first
        report.days_required = len(required)
        report.days_covered = sum(1 for d in required if d in verified)
        uncovered = [d for d in required if d not in verified]
        report.gaps = date_ranges(uncovered)
        files = {day for day, _ in listing.day_files.values()}
        empty = [d for d in uncovered if (d in entries and entries[d].file is None)
                 or (d not in entries and d not in files)]
        for first_day, last_day in date_ranges(empty):
            span = first_day.isoformat() if first_day == last_day else \
                f"{first_day.isoformat()}..{last_day.isoformat()}"
            report.problems.append(Problem("gap", first_day, f"no logs kept for {span}"))

    def _freshness(self, report: SourceReport, listing: _Listing) -> None:
        if not listing.day_files:
            return
        newest = max(info.st_mtime for _day, info in listing.day_files.values())
        report.last_heard = datetime.fromtimestamp(newest, UTC)
        report.silent_seconds = max(0.0, (self.now - report.last_heard).total_seconds())
        limit = self.policy.silent_after_hours * 3600
        if report.silent_seconds > limit:
            report.problems.append(Problem(
                "silent", None, f"nothing heard for {report.silent_seconds / 3600:.1f} h "
                f"(limit {self.policy.silent_after_hours:g} h), last at "
                f"{report.last_heard.isoformat(timespec='seconds')}"))

    def _clock(self, report: SourceReport, source: Source, listing: _Listing) -> None:
        plain = sorted((day, name) for name, (day, _) in listing.day_files.items()
                       if not name.endswith(".gz"))
        for _day, name in reversed(plain[-2:]):
            line = _last_line_with(source.path / name, CLOCK_TAG)
            if line is None:
                continue
            tracking = chrony.parse_tracking(line.split(b": ", 1)[-1].decode(errors="replace"))
            if tracking is None:
                report.problems.append(Problem("clock", None, f"unreadable clock report in "
                                                              f"{name}"))
                return
            report.clock = ClockReport(tracking.offset_seconds * 1000,
                                       tracking.error_bound_seconds * 1000,
                                       tracking.synchronised, tracking.reference,
                                       line.decode(errors="replace"))
            bound = self.policy.max_clock_offset_ms
            if not tracking.synchronised:
                report.problems.append(Problem("clock", None, "the clock is not synchronised "
                                                              "(chrony leap status: "
                                                              f"{tracking.leap_status})"))
            elif report.clock.offset_ms > bound:
                report.problems.append(Problem(
                    "clock", None, f"clock offset {report.clock.offset_ms:.3f} ms exceeds "
                    f"{bound:g} ms (reference {tracking.reference})"))
            return

    def _fields(self, report: SourceReport, source: Source, listing: _Listing) -> None:
        if not listing.day_files:
            return
        newest = max(listing.day_files, key=lambda n: listing.day_files[n][0])
        sampler = FieldSampler()
        try:
            _sample(source.path / newest, sampler, self.policy.limits)
        except OverLimitError as exc:
            report.problems.append(Problem("oversized", listing.day_files[newest][0],
                                           f"{newest}: {exc}; not sampled further"))
        except (DayFileRefusedError, EOFError, OSError, zlib.error):
            pass  # a damaged or refused file is reported by the integrity check
        report.fields = sampler.verdicts()
        for verdict in report.fields:
            if verdict.ok:
                continue
            parts = []
            if verdict.missing:
                parts.append(f"{verdict.lines_sampled - verdict.lines_complete} of "
                             f"{verdict.lines_sampled} lines lack {', '.join(verdict.missing)}")
            if verdict.unknown_formats:
                parts.append(f"unknown format, not guessed: {verdict.unknown_formats[0]!r}")
            report.problems.append(Problem("fields", None, f"{verdict.log_type} ({newest}): "
                                                           + "; ".join(parts)))

    def _permissions(self, report: SourceReport, source: Source, listing: _Listing) -> None:
        bad: list[str] = []
        for directory in (source.path.parent, source.path):
            try:
                mode = directory.stat().st_mode
            except OSError:
                continue  # reported as unreadable
            if mode & 0o007:
                bad.append(f"{directory} mode {stat.S_IMODE(mode):04o}")
        for name, (_day, info) in sorted(listing.day_files.items()):
            wrong = []
            if stat.S_IMODE(info.st_mode) & ~0o640:
                wrong.append(f"mode {stat.S_IMODE(info.st_mode):04o}")
            if self.uid is not None and info.st_uid != self.uid:
                wrong.append(f"owner uid {info.st_uid}")
            if self.gid is not None and info.st_gid != self.gid:
                wrong.append(f"group gid {info.st_gid}")
            if wrong:
                bad.append(f"{name} {' '.join(wrong)}")
        if bad:
            shown = "; ".join(bad[:_PERMISSION_EXAMPLES])
            more = f" and {len(bad) - _PERMISSION_EXAMPLES} more" \
                if len(bad) > _PERMISSION_EXAMPLES else ""
            report.problems.append(Problem(
                "permissions", None, f"not {self.policy.file_owner}:{self.policy.file_group} "
                f"0640 / directories closed to others: {shown}{more}"))


def _sample(path: Path, sampler: FieldSampler, limits: Limits) -> None:
    with open_day(path) as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if path.name.endswith(".gz") else raw
        for count, line in enumerate(bounded_lines(stream, limits)):
            if count >= _FIELD_SAMPLE_LINES:
                break
            sampler.feed(line.decode("utf-8", errors="replace"))


def _duplicates(listing: _Listing, reading: manifest.ManifestReading) -> list[Problem]:
    """Days there as both D.log and D.log.gz, neither of them sealed: both are kept."""
    sealed = {e.file for e in reading.entries if e.file}
    names = set(listing.day_files) | set(listing.refused)
    found = []
    for name in sorted(names):
        if name.endswith(".log") and f"{name}.gz" in names \
                and not {name, f"{name}.gz"} & sealed:
            day = day_of(name)
            found.append(Problem("duplicate", day, f"the day is there as both {name} and "
                                                   f"{name}.gz; both kept, neither sealed"))
    return found


def _diagnose(path: Path, entry: manifest.Entry, digest: Digest,
              limits: Limits) -> tuple[str, str]:
    """Why a sealed file no longer matches: only run on the rare mismatch."""
    if digest.size == entry.size:
        return "modified", f"bytes changed, size unchanged ({entry.size} bytes)"
    try:
        reading = read_text_shape(path, limits)
    except (DayFileRefusedError, FileNotFoundError) as exc:
        return "modified", f"unreadable now ({exc})"
    if not reading.complete:
        if _gzip_ends_early(path, limits):
            return "truncated", f"cut short: {digest.size} of {entry.size} bytes"
        return "modified", "bytes changed (the compressed data no longer checks)"
    shape = reading.shape
    if shape.ends_mid_line or (shape.total_lines < entry.lines and shape.tail != entry.tail):
        return "truncated", f"cut short: {shape.total_lines} of {entry.lines} lines left"
    if shape.total_lines < entry.lines:
        return "lines-deleted", f"{entry.lines - shape.total_lines} line(s) deleted " \
                                f"({shape.total_lines} of {entry.lines} left)"
    if shape.total_lines > entry.lines:
        return "grown", f"{shape.total_lines - entry.lines} line(s) added after sealing"
    return "modified", f"bytes changed, same {entry.lines} lines"


def _gzip_ends_early(path: Path, limits: Limits) -> bool:
    total = 0
    try:
        with open_day(path) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            while chunk := stream.read(limits.chunk):
                total += len(chunk)
                if total > limits.max_file_bytes:
                    return False
    except EOFError:
        return True
    except (OSError, zlib.error, DayFileRefusedError):
        return False
    return False


def _last_line_with(path: Path, needle: bytes) -> bytes | None:
    try:
        with open_day(path) as stream:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - _CLOCK_SCAN))
            data = stream.read()
    except (OSError, DayFileRefusedError):
        return None
    end = len(data)
    while True:
        at = data.rfind(needle, 0, end)
        if at == -1:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        line = data[start: stop if stop != -1 else len(data)]
        if line:
            return line
        end = at


def _uid(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _gid(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def load_public_for(policy: Policy, public_key: Path | None) -> Ed25519PublicKey:
    return keys.load_public(public_key or keys.public_path(policy.signing_key))
