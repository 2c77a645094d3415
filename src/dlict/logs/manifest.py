"""Append-only, hash-chained, Ed25519-signed manifests: one per source, plus the seal state.

The chain itself (links, signatures, what a broken line is) is :mod:`dlict.core.chain`, which
the case evidence manifests use too; this module says what a log manifest entry holds.

A manifest is JSON lines. Each entry seals one closed day of one source: the file as stored
(name, size, SHA-256), the line count and a hash of the last line of its text (so a check can
tell a cut file from deleted lines), or ``file: null`` when nothing arrived that day. Every
entry carries the hash of the entry before it and a signature over its own canonical form.

The chain alone cannot reveal a manifest cut back to an earlier, still valid, prefix; the seal
state (``heads.json`` in the state directory, outside the log tree, also signed) records the
newest entry of every source and closes that hole.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dlict.core import chain
from dlict.core.errors import OperationalError
from dlict.logs import keys
from dlict.logs.streams import DayFileRefusedError, open_day
from dlict.logs.tree import day_file_name

GENESIS = chain.GENESIS
VERSION = 1
HEADS_NAME = "heads.json"
#: Two years of days is a few hundred kilobytes; anything near this is not a manifest.
MAX_MANIFEST_BYTES = 64 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


canonical = chain.canonical


@dataclass(frozen=True)
class Entry:
    seq: int
    source: str
    day: date
    file: str | None
    size: int
    sha256: str
    lines: int
    tail: str
    sealed_at: str
    prev: str
    key: str
    sig: str

    def body(self) -> dict[str, Any]:
        return {"v": VERSION, "seq": self.seq, "source": self.source,
                "day": self.day.isoformat(), "file": self.file, "size": self.size,
                "sha256": self.sha256, "lines": self.lines, "tail": self.tail,
                "sealed_at": self.sealed_at, "prev": self.prev, "key": self.key}

    def line(self) -> bytes:
        return chain.record_line(self.body(), self.sig)

    @property
    def hash(self) -> str:
        return chain.record_hash(self.body(), self.sig)


def make_entry(private: Ed25519PrivateKey, *, seq: int, source: str, day: date,
               file: str | None, size: int, sha256: str, lines: int, tail: str,
               sealed_at: str, prev: str) -> Entry:
    unsigned = Entry(seq, source, day, file, size, sha256, lines, tail, sealed_at, prev,
                     keys.key_id(private.public_key()), "")
    return Entry(**{**unsigned.__dict__, "sig": chain.sign(private, unsigned.body())})


@dataclass(frozen=True)
class ManifestProblem:
    """Something wrong with the manifest itself; ``day`` is the entry's day when known."""

    kind: str  # manifest-truncated | manifest-edited | foreign-key | chain-broken | manifest-moved
    day: date | None
    detail: str


@dataclass
class ManifestReading:
    entries: list[Entry]  # the entries that verify, in order
    problems: list[ManifestProblem]
    doubtful_days: set[date]  # days whose entries are there but cannot be trusted
    total_lines: int

    @property
    def newest(self) -> Entry | None:
        return self.entries[-1] if self.entries else None

    def by_seq(self, seq: int) -> Entry | None:
        for entry in self.entries:
            if entry.seq == seq:
                return entry
        return None


def read_manifest(path: Path, source: str, public: Ed25519PublicKey) -> ManifestReading:
    """Read and verify a manifest; a missing file reads as empty."""
    trusted = keys.key_id(public)
    try:
        raw = _read_bounded(path, MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        return ManifestReading([], [], set(), 0)
    except DayFileRefusedError as exc:
        kind = "unreadable" if exc.kind == "unreadable" else "manifest-edited"
        return ManifestReading([], [ManifestProblem(kind, None, f"{path.name}: {exc.reason}")],
                               set(), 0)
    links = chain.read_chain(raw, public, parse_entry, lambda entry: _moved(entry, source))
    reading = ManifestReading([], [], set(), len(links))
    foreign_ids = set()
    for link in links:
        entry = link.record
        if entry is None:
            kind = "manifest-truncated" if link.fault == "cut" else "manifest-edited"
            after = reading.entries[-1].day if reading.entries else None
            reading.problems.append(ManifestProblem(
                kind, after, f"line {link.number} of {path.name} is not a whole entry"
                + (f" (after the entry for {after.isoformat()})" if after else "")))
            continue
        if link.fault == "foreign-key":
            foreign_ids.add(entry.key)
            reading.doubtful_days.add(entry.day)
            continue
        if link.fault == "bad-signature":
            reading.problems.append(ManifestProblem(
                "manifest-edited", entry.day, f"entry {entry.seq} ({entry.day.isoformat()}) "
                f"does not match its signature"))
            reading.doubtful_days.add(entry.day)
            continue
        if link.fault == "refused":
            reading.problems.append(ManifestProblem("manifest-moved", entry.day, link.detail))
            reading.doubtful_days.add(entry.day)
            continue
        if link.fault == "chain-broken":
            reading.problems.append(ManifestProblem(
                "chain-broken", entry.day,
                f"entry {entry.seq} ({entry.day.isoformat()}) does not follow the entry "
                f"before it: entries were removed, added or reordered"))
        reading.entries.append(entry)
    if foreign_ids:
        reading.problems.append(ManifestProblem(
            "foreign-key", None,
            f"signed with another key ({', '.join(sorted(foreign_ids))}; trusted: {trusted})"))
    return reading


def _read_bounded(path: Path, limit: int, *, directory_may_be_link: bool = False) -> bytes:
    """A manifest or state file's bytes, from a regular file only and at most ``limit``.

    Raises:
        DayFileRefusedError: not a regular file, unreadable or larger than ``limit``.
        FileNotFoundError: it is not there.
    """
    try:
        with open_day(path, directory_may_be_link=directory_may_be_link) as stream:
            raw = stream.read(limit + 1)
    except (DayFileRefusedError, FileNotFoundError):
        raise
    except OSError as exc:
        raise DayFileRefusedError("unreadable", f"cannot be read ({exc.strerror})") from exc
    if len(raw) > limit:
        raise DayFileRefusedError("oversized", f"larger than {limit} bytes; not read")
    return raw


def _moved(entry: Entry, source: str) -> str | None:
    """Why an entry signed with the trusted key still does not belong here, if it does not."""
    if entry.source != source:
        return f"entry {entry.seq} was sealed for {entry.source}, not {source}"
    return None


def parse_entry(line: bytes) -> Entry | None:
    """An entry whose every field has the type and form the sealer writes, else None."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            return None
        entry = Entry(seq=_count(data["seq"]), source=_text(data["source"]),
                      day=date.fromisoformat(_text(data["day"])), file=data["file"],
                      size=_count(data["size"]), sha256=_text(data["sha256"]),
                      lines=_count(data["lines"]), tail=_text(data["tail"]),
                      sealed_at=_text(data["sealed_at"]), prev=_hex(data["prev"]),
                      key=_text(data["key"]), sig=_text(data["sig"]))
        base64.b64decode(entry.sig, validate=True)
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
        return None
    sealed_file = entry.file is not None
    if sealed_file and entry.file not in (day_file_name(entry.day, False),
                                          day_file_name(entry.day, True)):
        return None
    for digest in (entry.sha256, entry.tail):
        if not (_HEX64.match(digest) if sealed_file else digest == ""):
            return None
    return entry


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not a count")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _hex(value: Any) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise ValueError("not a SHA-256 in hex")
    return value


def drop_torn_tail(path: Path) -> None:
    """Cut a manifest back to its last whole line (after an append torn by a crash)."""
    try:
        raw = _read_bounded(path, MAX_MANIFEST_BYTES)
    except (DayFileRefusedError, FileNotFoundError) as exc:
        raise OperationalError(f"{path}: cannot be read back ({exc})") from exc
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OperationalError(f"{path}: not a regular file; refusing to change it")
        os.ftruncate(fd, raw.rfind(b"\n") + 1)
        os.fsync(fd)
    finally:
        os.close(fd)


def append_entries(path: Path, entries: list[Entry]) -> None:
    """Append whole lines and flush them to disk before returning."""
    chain.append_lines(path, [entry.line() for entry in entries])


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    day: date


@dataclass
class SealState:
    heads: dict[str, Head]
    problem: str | None  # why the state cannot be trusted, if it cannot


def read_state(state_dir: Path, public: Ed25519PublicKey) -> SealState:
    """The signed seal state; anything malformed in it is a problem (tampering), never a crash."""
    path = state_dir / HEADS_NAME
    try:
        raw = _read_bounded(path, MAX_MANIFEST_BYTES, directory_may_be_link=True)
    except FileNotFoundError:
        return SealState({}, None)
    except DayFileRefusedError as exc:
        return SealState({}, f"{path}: unreadable seal state: {exc.reason}")
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        signature = base64.b64decode(_text(data.pop("sig")), validate=True)
        if not isinstance(data["heads"], dict):
            raise TypeError("heads is not an object")
        heads = {_text(name): _head(h) for name, h in data["heads"].items()}
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error) as exc:
        return SealState({}, f"{path}: malformed seal state ({exc.__class__.__name__}: "
                             f"{str(exc)[:80]})")
    if not keys.verify(public, signature, canonical(data)):
        return SealState({}, f"{path}: the seal state does not match its signature")
    return SealState(heads, None)


def _head(value: Any) -> Head:
    if not isinstance(value, dict):
        raise TypeError("a head is not an object")
    return Head(_count(value["seq"]), _hex(value["hash"]),
                date.fromisoformat(_text(value["day"])))


def write_state(state_dir: Path, private: Ed25519PrivateKey, heads: dict[str, Head],
                updated: str) -> None:
    body = {"v": VERSION, "updated": updated, "key": keys.key_id(private.public_key()),
            "heads": {name: {"seq": h.seq, "hash": h.hash, "day": h.day.isoformat()}
                      for name, h in sorted(heads.items())}}
    body["sig"] = base64.b64encode(private.sign(canonical(body))).decode()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    target = state_dir / HEADS_NAME
    temporary = state_dir / f".{HEADS_NAME}.tmp"
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o640)
    try:
        os.write(fd, json.dumps(body, indent=1, sort_keys=True).encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.replace(target)
