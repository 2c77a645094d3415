"""The daily seal: compress closed days, seal them into each source's manifest, prune.

Order of work for one day, chosen so a crash at any point loses nothing and a rerun finishes
the job: compress to a temporary file → link it to the ``.gz`` name (never over an existing
file) → remove the plain file, only if it is still the file read (else both are kept, a
finding) → append the signed entry. A rerun finds at most a stale temporary file (removed)
or the plain file beside its identical ``.gz`` (the plain one is removed). Only when a
retention was set explicitly, and only for sealed days past it, are files deleted. A source
whose manifest does not verify, or is behind the seal state, is refused: sealing on top of
tampering would bless it. A day file that is not a regular file, cannot be read, is too
large, or is there in two different forms stops that source at that day (a finding); the
other sources go on.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import hashlib
import os
import signal
import stat
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dlict.core.errors import InputError, OperationalError
from dlict.logs import keys, manifest
from dlict.logs.policy import Policy
from dlict.logs.streams import (
    DayFileRefusedError,
    HashingWriter,
    Limits,
    OverLimitError,
    TextShape,
    open_day,
    read_stored,
)
from dlict.logs.tree import Source, day_file_name, day_of, last_closed_day, sources

LOCK_NAME = ".seal.lock"
#: Test hook: ``kill@N`` makes the seal SIGKILL itself at its N-th checkpoint, ``pause@N:S``
#: sleep S seconds there; the crash-safety and lock tests drive a real seal with it.
TEST_HOOK = "DLICT_SEAL_TEST_HOOK"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


@dataclass
class SealOutcome:
    source: str
    sealed: list[date] = field(default_factory=list)
    absent: list[date] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    refused: str | None = None
    #: The day this source's sealing stopped at and why (a finding); later days wait for it.
    stopped: str | None = None
    #: Findings about days that were sealed all the same (a plain file kept, an overlong line).
    findings: list[str] = field(default_factory=list)


def local_zone(policy: Policy) -> tzinfo:
    return policy.zone or datetime.now().astimezone().tzinfo or UTC


def seal_tree(policy: Policy, now: datetime | None = None) -> list[SealOutcome]:
    """Seal every source under the policy's root; returns what was done per source.

    Raises:
        InputError: the root or the key is missing.
        OperationalError: the seal state cannot be written, or the disk is full.
    """
    if not policy.root.is_dir():
        raise InputError(f"{policy.root}: no such log tree")
    private = keys.load_private(policy.signing_key)
    public = private.public_key()
    moment = now or datetime.now(UTC)
    zone = local_zone(policy)
    policy.state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    with seal_lock(policy.state_dir):
        state = manifest.read_state(policy.state_dir, public)
        if state.problem:
            return [SealOutcome("seal state", refused=f"{state.problem}; refusing to seal "
                                                      f"on top of it")]
        heads = dict(state.heads)
        outcomes = []
        for source in sources(policy.root):
            outcome = _seal_source(source, private, heads, moment, zone, policy)
            outcomes.append(outcome)
        checkpoint()
        manifest.write_state(policy.state_dir, private, heads, moment.isoformat())
        checkpoint()
    return outcomes


@contextmanager
def seal_lock(state_dir: Path) -> Iterator[None]:
    """Held by a seal for its whole run; a check waits for it (see :func:`check_lock`)."""
    fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def check_lock(state_dir: Path, wait_seconds: float) -> Iterator[None]:
    """A shared hold on the seal lock, so a check never reads a tree a seal is changing.

    Raises:
        OperationalError: a seal still holds the lock after ``wait_seconds``.
    """
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    except FileNotFoundError:
        yield  # no state directory: no seal has ever run here
        return
    except OSError:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            yield  # a read-only state directory no seal has written to
            return
        except OSError as exc:
            raise OperationalError(f"{path}: cannot open the seal lock ({exc.strerror})"
                                   ) from exc
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError(
                        f"a seal is running (it holds {path}); waited {wait_seconds:g} s, "
                        f"check again when it has finished") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


class _Checkpoints:
    def __init__(self) -> None:
        self.passed = 0

    def __call__(self) -> None:
        hook = os.environ.get(TEST_HOOK)
        if not hook:
            return
        self.passed += 1
        action, _, where = hook.partition("@")
        number, _, seconds = where.partition(":")
        if number != str(self.passed):
            return
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "pause":
            with suppress(ValueError):  # a malformed hook is no hook, never a failed seal
                time.sleep(min(max(float(seconds or 1), 0.0), 60.0))


checkpoint = _Checkpoints()


def _seal_source(source: Source, private: Ed25519PrivateKey, heads: dict[str, manifest.Head],
                 now: datetime, zone: tzinfo, policy: Policy) -> SealOutcome:
    outcome = SealOutcome(source.name)
    reading = manifest.read_manifest(source.manifest, source.name, private.public_key())
    head = heads.get(source.name)
    if _torn_append(reading, head):
        # A seal stopped inside its last append (power loss): that entry was never recorded
        # in the state, so it is dropped and the day sealed again.
        manifest.drop_torn_tail(source.manifest)
        reading = manifest.read_manifest(source.manifest, source.name, private.public_key())
    if reading.problems:
        first = reading.problems[0]
        outcome.refused = f"the manifest does not verify ({first.kind}: {first.detail})"
        return outcome
    last = reading.newest
    recorded = reading.by_seq(head.seq) if head is not None else None
    if head is not None and (recorded is None or recorded.hash != head.hash):
        outcome.refused = (f"the manifest is behind the seal state (entry {head.seq}, "
                           f"{head.day.isoformat()}): truncated or rolled back")
        return outcome
    try:
        files = _day_files(source.path)
    except OSError as exc:
        _raise_if_disk(exc)
        outcome.refused = f"the directory cannot be read ({exc.strerror})"
        return outcome
    if last is not None:
        # The state follows the manifest even when this run adds nothing: a seal killed after
        # writing a manifest but before the state would otherwise leave it behind for good.
        heads[source.name] = manifest.Head(last.seq, last.hash, last.day)
    closed = last_closed_day(now, zone)
    if last is not None:
        first_day = last.day + timedelta(days=1)
    elif files:
        first_day = min(files)
    else:
        return outcome
    prev, seq = (last.hash, last.seq) if last else (manifest.GENESIS, 0)
    new: list[manifest.Entry] = []
    day = first_day
    while day <= closed:
        try:
            entry, findings = _seal_day(source, day, files.get(day, []), private, seq + 1,
                                        prev, now, policy)
        except DayFileRefusedError as exc:
            outcome.stopped = (f"{day.isoformat()}: {exc.reason}; this source's days from "
                               f"{day.isoformat()} on stay unsealed until it is resolved")
            break
        except OSError as exc:
            _raise_if_disk(exc)
            outcome.stopped = (f"{day.isoformat()}: cannot be sealed ({exc.strerror}); this "
                               f"source's days from {day.isoformat()} on stay unsealed")
            break
        seq += 1
        outcome.findings += [f"{day.isoformat()}: {finding}" for finding in findings]
        (outcome.sealed if entry.file else outcome.absent).append(day)
        # Each day is written as soon as it is sealed: a crash later keeps what was done.
        manifest.append_entries(source.manifest, [entry])
        checkpoint()
        new.append(entry)
        prev = entry.hash
        day += timedelta(days=1)
    if new:
        heads[source.name] = manifest.Head(new[-1].seq, new[-1].hash, new[-1].day)
    if policy.prune:
        outcome.pruned = _prune(source, [*reading.entries, *new], now, zone, policy)
    return outcome


def _torn_append(reading: manifest.ManifestReading, head: manifest.Head | None) -> bool:
    """Only a cut last line after entries that all verify, past what the state recorded."""
    if [p.kind for p in reading.problems] != ["manifest-truncated"]:
        return False
    if len(reading.entries) != reading.total_lines - 1:
        return False
    return head is None or head.seq <= len(reading.entries)


def _raise_if_disk(exc: OSError) -> None:
    if exc.errno in _DISK_FULL:
        raise OperationalError(f"{exc.filename or 'the log tree'}: {exc.strerror}; "
                               f"nothing half-written is kept, seal again when there is room"
                               ) from exc


def _day_files(directory: Path) -> dict[date, list[str]]:
    found: dict[date, list[str]] = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            day = day_of(entry.name)
            if day is not None:
                found.setdefault(day, []).append(entry.name)
    return found


def _seal_day(source: Source, day: date, names: list[str], private: Ed25519PrivateKey,
              seq: int, prev: str, now: datetime, policy: Policy
              ) -> tuple[manifest.Entry, list[str]]:
    """The signed entry for one day, after compressing it when asked, and the findings about
    that day that did not stop it being sealed.

    Raises:
        DayFileRefusedError: the day cannot be sealed (a finding for this source and day).
    """
    plain, packed = day_file_name(day, False), day_file_name(day, True)
    sealed_at = now.astimezone(UTC).isoformat(timespec="seconds")
    sign = partial(manifest.make_entry, private, seq=seq, source=source.name, day=day,
                   sealed_at=sealed_at, prev=prev)
    limits = policy.limits
    (source.path / f".{packed}.tmp").unlink(missing_ok=True)  # left by an interrupted seal
    present = [name for name in (plain, packed) if name in names]
    if not present:
        return sign(file=None, size=0, sha256="", lines=0, tail=""), []
    if len(present) == 2:
        _settle_twins(source.path / plain, source.path / packed, limits)
        present = [packed]
    name = present[0]
    if name == plain and policy.compress:
        size, sha256, shape, kept = _compress(source.path / plain, source.path / packed,
                                              limits)
        findings = _overlong_lines(packed, shape, limits) + ([kept] if kept else [])
        return sign(file=packed, size=size, sha256=sha256, lines=shape.total_lines,
                    tail=shape.tail), findings
    digest, reading = read_stored(source.path / name, limits)
    return sign(file=name, size=digest.size, sha256=digest.sha256,
                lines=reading.shape.total_lines, tail=reading.shape.tail), \
        _overlong_lines(name, reading.shape, limits)


def _overlong_lines(name: str, shape: TextShape, limits: Limits) -> list[str]:
    """A finding for the lines over the cap: the day is sealed whole all the same (every byte
    of such a line is in the sealed hash, so a change to it is found like any other)."""
    if not shape.overlong_count:
        return []
    named = ", ".join(f"line {number} is {length} bytes" for number, length in shape.overlong)
    more = shape.overlong_count - len(shape.overlong)
    others = f" and {more} more line(s)" if more else ""
    return [f"{name}: {named}{others}, over the cap of {limits.max_line_bytes} per line; "
            f"sealed whole all the same (a change to it is found like any other)"]


def _settle_twins(plain: Path, packed: Path, limits: Limits) -> None:
    """A day there as both ``D.log`` and ``D.log.gz``: the plain one goes only when the
    ``.gz`` holds exactly its text (a seal was interrupted after compressing).

    Raises:
        DayFileRefusedError: the two differ; both are kept.
    """
    if _text_sha256(plain, limits) != _text_sha256(packed, limits):
        raise DayFileRefusedError("duplicate", f"the day is there as both {plain.name} and "
                                          f"{packed.name} with different content; both "
                                          f"kept, neither sealed")
    plain.unlink()
    _fsync_directory(plain.parent)


def _text_sha256(path: Path, limits: Limits) -> str | None:
    """SHA-256 of a day file's text (decompressed), None when a .gz does not decompress."""
    digest = hashlib.sha256()
    total = 0
    try:
        with open_day(path) as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if path.name.endswith(".gz") \
                else raw
            while chunk := stream.read(limits.chunk):
                total += len(chunk)
                if total > limits.max_file_bytes:
                    raise DayFileRefusedError("oversized", f"{path.name}: more than "
                                                      f"{limits.max_file_bytes} bytes of text")
                digest.update(chunk)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return None
    return digest.hexdigest()


def _compress(plain: Path, packed: Path, limits: Limits
              ) -> tuple[int, str, TextShape, str | None]:
    """Compress ``plain`` into ``packed``, then remove ``plain`` only if it is still exactly
    the file that was read; otherwise keep it and say why (the last element)."""
    temporary = packed.with_name(f".{packed.name}.tmp")
    shape = TextShape(limits)
    try:
        with open_day(plain) as source:
            info = os.fstat(source.fileno())
            if info.st_size > limits.max_file_bytes:
                raise DayFileRefusedError("oversized", f"{plain.name}: {info.st_size} bytes, over "
                                                  f"the cap of {limits.max_file_bytes}")
            sink = _write_packed(source, temporary, shape, info, limits)
            read = os.fstat(source.fileno())  # at the end of what was read
        checkpoint()
        try:
            # A link, not a rename: it fails rather than replace a file already there.
            os.link(temporary, packed, follow_symlinks=False)
        except FileExistsError:
            raise DayFileRefusedError("duplicate", f"{packed.name} appeared beside {plain.name} "
                                              f"while sealing; both kept") from None
        checkpoint()
        temporary.unlink()
        kept = _remove_if_unchanged(plain, read, shape.bytes)
        checkpoint()
        _fsync_directory(packed.parent)
    except OverLimitError as exc:
        temporary.unlink(missing_ok=True)
        raise DayFileRefusedError("oversized", f"{plain.name}: {exc}") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return sink.size, sink.sha256, shape, kept


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _remove_if_unchanged(plain: Path, read: os.stat_result, sealed_bytes: int) -> str | None:
    """Unlink the plain day only if it is the very file read, as it was at the end of the read
    (device, inode, size, mtime) and no larger than what was sealed: a line appended meanwhile,
    or another file put at its name (even on a reused inode), is never deleted. The finding
    when it is kept, else None."""
    try:
        now = plain.lstat()
    except FileNotFoundError:
        return None
    if _identity(now) != _identity(read) or now.st_size != sealed_bytes:
        return (f"{plain.name} changed while it was compressed (now {now.st_size} bytes, "
                f"{sealed_bytes} were sealed in {plain.name}.gz); both kept, compare them")
    plain.unlink()
    return None


def _write_packed(source: BinaryIO, temporary: Path, shape: TextShape,
                  info: os.stat_result, limits: Limits) -> HashingWriter:
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                 | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        sink = HashingWriter(raw)
        # mtime=0 and no name: the same text always gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as packer:
            while chunk := source.read(limits.chunk):
                shape.feed(chunk)
                packer.write(chunk)
                checkpoint()
        raw.flush()
        os.fchown(fd, info.st_uid, info.st_gid)
        os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o777)
        # The day file keeps the time of its last line: freshness is judged from it.
        os.utime(fd, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.fsync(fd)
    return sink


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(source: Source, entries: list[manifest.Entry], now: datetime, zone: tzinfo,
           policy: Policy) -> list[str]:
    # One spare day: a check early in the morning still counts the day before yesterday.
    oldest_kept = now.astimezone(zone).date() - timedelta(days=policy.retention_days + 1)
    removed = []
    for entry in entries:
        if entry.file is None or entry.day >= oldest_kept:
            continue
        path = source.path / entry.file
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                continue  # not what was sealed: the check reports it, the seal leaves it
            path.unlink()
        except FileNotFoundError:
            continue
        checkpoint()
        removed.append(entry.file)
    return removed
