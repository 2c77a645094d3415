"""The daily seal: compress closed days, seal them into each source's manifest, prune.

Order of work for one day, chosen so a crash at any point loses nothing and a rerun finishes
the job: compress to a temporary file → rename to ``.gz`` → remove the plain file → append
the signed entry. Only then, and only for days past retention that are sealed, are files
deleted. A source whose manifest does not verify, or is behind the seal state, is refused:
sealing on top of tampering would bless it.
"""

from __future__ import annotations

import fcntl
import gzip
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dlict.core.errors import InputError, OperationalError
from dlict.logs import keys, manifest
from dlict.logs.policy import Policy
from dlict.logs.streams import CHUNK, HashingWriter, TextShape, digest_file, read_text_shape
from dlict.logs.tree import Source, day_file_name, day_of, last_closed_day, sources


@dataclass
class SealOutcome:
    source: str
    sealed: list[date] = field(default_factory=list)
    absent: list[date] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    refused: str | None = None


def local_zone(policy: Policy) -> tzinfo:
    return policy.zone or datetime.now().astimezone().tzinfo or UTC


def seal_tree(policy: Policy, now: datetime | None = None) -> list[SealOutcome]:
    """Seal every source under the policy's root; returns what was done per source.

    Raises:
        InputError: the root or the key is missing.
        OperationalError: the seal state cannot be trusted or written.
    """
    if not policy.root.is_dir():
        raise InputError(f"{policy.root}: no such log tree")
    private = keys.load_private(policy.signing_key)
    public = private.public_key()
    moment = now or datetime.now(UTC)
    zone = local_zone(policy)
    policy.state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    with _exclusive(policy.state_dir / ".seal.lock"):
        state = manifest.read_state(policy.state_dir, public)
        if state.problem:
            raise OperationalError(f"{state.problem}; refusing to seal on top of it")
        heads = dict(state.heads)
        outcomes = []
        for source in sources(policy.root):
            outcome = _seal_source(source, private, heads, moment, zone, policy)
            outcomes.append(outcome)
        manifest.write_state(policy.state_dir, private, heads, moment.isoformat())
    return outcomes


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _seal_source(source: Source, private: Ed25519PrivateKey, heads: dict[str, manifest.Head],
                 now: datetime, zone: tzinfo, policy: Policy) -> SealOutcome:
    outcome = SealOutcome(source.name)
    reading = manifest.read_manifest(source.manifest, source.name, private.public_key())
    if reading.problems:
        first = reading.problems[0]
        outcome.refused = f"the manifest does not verify ({first.kind}: {first.detail})"
        return outcome
    head = heads.get(source.name)
    last = reading.newest
    recorded = reading.by_seq(head.seq) if head is not None else None
    if head is not None and (recorded is None or recorded.hash != head.hash):
        outcome.refused = (f"the manifest is behind the seal state (entry {head.seq}, "
                           f"{head.day.isoformat()}): truncated or rolled back")
        return outcome
    files = _day_files(source.path)
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
        seq += 1
        entry = _seal_day(source, day, files.get(day, []), private, seq, prev, now,
                          policy.compress)
        (outcome.sealed if entry.file else outcome.absent).append(day)
        # Each day is written as soon as it is sealed: a crash later keeps what was done.
        manifest.append_entries(source.manifest, [entry])
        new.append(entry)
        prev = entry.hash
        day += timedelta(days=1)
    if new:
        heads[source.name] = manifest.Head(new[-1].seq, new[-1].hash, new[-1].day)
    outcome.pruned = _prune(source, [*reading.entries, *new], now, zone, policy)
    return outcome


def _day_files(directory: Path) -> dict[date, list[str]]:
    found: dict[date, list[str]] = {}
    for path in directory.iterdir():
        day = day_of(path.name)
        if day is not None:
            found.setdefault(day, []).append(path.name)
    return found


def _seal_day(source: Source, day: date, names: list[str], private: Ed25519PrivateKey,
              seq: int, prev: str, now: datetime, compress: bool) -> manifest.Entry:
    plain, packed = day_file_name(day, False), day_file_name(day, True)
    sealed_at = now.astimezone(UTC).isoformat(timespec="seconds")
    sign = partial(manifest.make_entry, private, seq=seq, source=source.name, day=day,
                   sealed_at=sealed_at, prev=prev)
    if plain in names and compress:
        size, sha256, shape = _compress(source.path / plain, source.path / packed)
        return sign(file=packed, size=size, sha256=sha256, lines=shape.total_lines,
                    tail=shape.tail)
    for name in (packed, plain):
        if name in names:
            digest = digest_file(source.path / name)
            reading = read_text_shape(source.path / name)
            return sign(file=name, size=digest.size, sha256=digest.sha256,
                        lines=reading.shape.total_lines, tail=reading.shape.tail)
    return sign(file=None, size=0, sha256="", lines=0, tail="")


def _compress(plain: Path, packed: Path) -> tuple[int, str, TextShape]:
    temporary = packed.with_name(f".{packed.name}.tmp")
    shape = TextShape()
    info = plain.stat()
    try:
        with plain.open("rb") as source, temporary.open("wb") as raw:
            sink = HashingWriter(raw)
            # mtime=0 and no name: the same text always gives the same bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as packer:
                while chunk := source.read(CHUNK):
                    shape.feed(chunk)
                    packer.write(chunk)
            raw.flush()
            os.fsync(raw.fileno())
        os.chown(temporary, info.st_uid, info.st_gid)
        temporary.chmod(info.st_mode & 0o777)
        # The day file keeps the time of its last line: freshness is judged from it.
        os.utime(temporary, ns=(info.st_atime_ns, info.st_mtime_ns))
        temporary.replace(packed)
        plain.unlink()
        _fsync_directory(packed.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return sink.size, sink.sha256, shape


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
        if path.exists():
            path.unlink()
            removed.append(entry.file)
    return removed
