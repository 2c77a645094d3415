"""Evidence with a chain of custody: copies named by their SHA-256, in a signed manifest.

Each case has a folder ``<data dir>/evidence/<case>/`` (0750) holding the copies (0640, named
by SHA-256, so the same file added twice is kept once) and ``manifest.dlict.jsonl``: one
record per item added (name, SHA-256, size, copy or reference, where, who, when), chained and
Ed25519-signed by :mod:`dlict.core.chain` — the log sealer's chain. A large file may be added
as a reference: its hash is recorded and the file left where it is; ``verify`` hashes it again.

Keys: one office evidence key, ``<data dir>/keys/evidence.key`` (0600, with ``.pub``), made on
first use, outside every case folder; each record names it by id. The newest record of every
case is also kept in a signed state, ``<data dir>/evidence-state/heads.json`` (the log sealer's
seal state), so a manifest cut back to an earlier, still valid, prefix is found too.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dlict.core import chain
from dlict.core.clock import utc_now
from dlict.core.errors import InputError, OperationalError
from dlict.core.files import EVIDENCE_MODE, make_private_dirs, os_failure
from dlict.core.store import operator
from dlict.incidents.model import CASE_ID, EvidenceItem
from dlict.logs import keys, manifest
from dlict.logs.seal import seal_lock
from dlict.logs.streams import CHUNK, DayFileRefusedError, file_kind, open_day

if TYPE_CHECKING:
    from dlict.incidents.cases import CaseBook

MANIFEST_NAME = "manifest.dlict.jsonl"
VERSION = 1
#: A case's manifest: thousands of items are a few megabytes.
MAX_MANIFEST_BYTES = 64 << 20
MAX_NOTE = 500
#: One timeline entry names each item added, up to this; a longer list is summed up.
_TIMELINE_CHARS = 4000
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_STORED = ("copy", "reference")


def evidence_dir(data_dir: Path) -> Path:
    return data_dir / "evidence"


def case_dir(data_dir: Path, case_id: str) -> Path:
    return evidence_dir(data_dir) / _checked_case_id(case_id)


def key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "evidence.key"


def state_dir(data_dir: Path) -> Path:
    return data_dir / "evidence-state"


def _checked_case_id(case_id: str) -> str:
    if not CASE_ID.match(case_id):
        raise InputError(f"{case_id!r}: not a case id (INC-<B.E. year>-<number>)")
    return case_id


@dataclass(frozen=True)
class Record:
    """One manifest line: one item added to one case."""

    seq: int
    case: str
    name: str
    sha256: str
    size: int
    stored: str
    location: str
    added_by: str
    added_at: str
    note: str
    prev: str
    key: str
    sig: str

    def body(self) -> dict[str, Any]:
        return {"v": VERSION, "seq": self.seq, "case": self.case, "name": self.name,
                "sha256": self.sha256, "size": self.size, "stored": self.stored,
                "location": self.location, "added_by": self.added_by,
                "added_at": self.added_at, "note": self.note, "prev": self.prev,
                "key": self.key}

    def line(self) -> bytes:
        return chain.record_line(self.body(), self.sig)

    @property
    def hash(self) -> str:
        return chain.record_hash(self.body(), self.sig)

    def item(self) -> EvidenceItem:
        return EvidenceItem(self.seq, self.case, self.name, self.sha256, self.size,
                            self.stored, self.location, self.added_by,
                            datetime.fromisoformat(self.added_at), self.note)


def parse_record(line: bytes) -> Record | None:
    """A record whose every field has the type and form ``add`` writes, else None."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            return None
        record = Record(**{name: data[name] for name in Record.__dataclass_fields__})
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    texts = (record.case, record.name, record.sha256, record.stored, record.location,
             record.added_by, record.added_at, record.note, record.prev, record.key,
             record.sig)
    if not all(isinstance(value, str) for value in texts):
        return None
    for count in (record.seq, record.size):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return None
    if not (_HEX64.match(record.sha256) and _HEX64.match(record.prev)) \
            or record.stored not in _STORED:
        return None
    try:
        at = datetime.fromisoformat(record.added_at)
    except ValueError:
        return None
    return record if at.tzinfo is not None else None


@dataclass(frozen=True)
class EvidenceProblem:
    """Something ``verify`` found; ``seq`` is the item's number when it is about one item."""

    kind: str  # manifest-edited | manifest-truncated | foreign-key | chain-broken |
    # manifest-moved | manifest-rollback | state | key | modified | missing | not-regular |
    # unreadable
    seq: int | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "detail": self.detail}


@dataclass
class _Reading:
    records: list[Record]
    problems: list[EvidenceProblem]


# -- adding -------------------------------------------------------------------------------


def check_files(paths: Sequence[Path]) -> None:
    """Every file can be taken as evidence (before anything is opened for writing).

    Raises:
        InputError: no file, or one is missing, unreadable or not a regular file.
    """
    if not paths:
        raise InputError("no evidence file given")
    for path in paths:
        with _open_evidence(path):
            pass


def add(data_dir: Path, case_id: str, paths: Sequence[Path], *, reference: bool = False,
        note: str = "", actor: str | None = None, book: CaseBook | None = None,
        now: datetime | None = None) -> list[EvidenceItem]:
    """Hash each file (copying it into the case folder unless ``reference``) and append it
    to the case's signed manifest; with ``book``, the case must exist and a timeline entry
    records the addition.

    Every file is opened and checked before anything is written: a missing, unreadable or
    non-regular file stops the whole addition with nothing written.

    Raises:
        InputError: no file, a bad case id, an unknown case (with ``book``), a file that is
            missing, unreadable or not a regular file.
        OperationalError: the manifest does not verify (nothing is added on top of
            tampering), or the disk fails.
    """
    folder = case_dir(data_dir, case_id)
    if not paths:
        raise InputError("no evidence file given")
    note = _checked_note(note)
    if book is not None:
        book.get(case_id)
    who = book.who if book is not None else operator()
    moment = (now or utc_now()).isoformat(timespec="seconds")
    with ExitStack() as stack:
        sources = [(path, stack.enter_context(_open_evidence(path))) for path in paths]
        private = _office_key(data_dir)
        try:
            make_private_dirs(folder)
        except OSError as exc:
            raise os_failure(folder, "create the case's evidence folder", exc) from exc
        with seal_lock(_state(data_dir)):
            reading = _read(data_dir, case_id, private.public_key())
            if reading.problems:
                first = reading.problems[0]
                raise OperationalError(
                    f"{folder / MANIFEST_NAME}: the evidence manifest does not verify "
                    f"({first.kind}: {first.detail}); nothing added on top of it (run "
                    f"`dlict incident evidence verify {case_id}`)")
            records = reading.records
            new: list[Record] = []
            for path, stream in sources:
                digest, size, location = _take_in(data_dir, folder, path, stream, reference)
                prev = (new or records)[-1].hash if (new or records) else chain.GENESIS
                new.append(_signed(private, Record(
                    len(records) + len(new) + 1, case_id, path.name, digest, size,
                    "reference" if reference else "copy", location, who, moment, note, prev,
                    keys.key_id(private.public_key()), "")))
            try:
                chain.append_lines(folder / MANIFEST_NAME, [r.line() for r in new])
                _record_head(data_dir, private, case_id, new[-1], moment)
            except OSError as exc:
                raise os_failure(folder / MANIFEST_NAME, "append to the manifest", exc) from exc
    items = [record.item() for record in new]
    if book is not None:
        book.note(case_id, _timeline_text(items), kind="evidence")
    return items


def _timeline_text(added: list[EvidenceItem]) -> str:
    text = "; ".join(f"evidence {i.seq}: {i.name} sha256 {i.sha256} ({i.size} bytes, "
                     f"{i.stored})" for i in added)
    if len(text) <= _TIMELINE_CHARS:
        return text
    return (f"evidence {added[0].seq}-{added[-1].seq}: {len(added)} files, "
            f"{sum(i.size for i in added)} bytes (dlict incident evidence list "
            f"{added[0].case_id})")


def _checked_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE or any(ord(c) < 32 for c in note):
        raise InputError(f"--note: one line of at most {MAX_NOTE} characters")
    return note


def _signed(private: Ed25519PrivateKey, unsigned: Record) -> Record:
    return Record(**{**unsigned.__dict__, "sig": chain.sign(private, unsigned.body())})


@contextmanager
def _open_evidence(path: Path) -> Iterator[IO[bytes]]:
    """The user's file, opened for reading only when it is a regular file.

    Raises:
        InputError: missing, unreadable or not a regular file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(f"{path}: not a regular file ({file_kind(info.st_mode)}); only "
                         f"files are taken as evidence")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as stream:
        yield stream


def _take_in(data_dir: Path, folder: Path, path: Path, stream: IO[bytes],
             reference: bool) -> tuple[str, int, str]:
    """(SHA-256, size, location) of one file; its copy is in the case folder unless
    ``reference``. Streams in chunks: memory does not grow with the file."""
    if reference:
        digest, size = _stream_hash(path, stream, None)
        return digest, size, str(path.resolve())
    temporary = folder / f".incoming.{os.getpid()}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                     | os.O_CLOEXEC, EVIDENCE_MODE)
        with os.fdopen(fd, "wb") as sink:
            digest, size = _stream_hash(path, stream, sink)
            sink.flush()
            os.fchmod(sink.fileno(), EVIDENCE_MODE)
            os.fsync(sink.fileno())
        target = folder / digest
        # Never over a copy already there: the same bytes were added before, and verify
        # checks that copy.
        with suppress(FileExistsError):
            os.link(temporary, target)
    except OSError as exc:
        raise os_failure(folder, "store the copy", exc) from exc
    finally:
        temporary.unlink(missing_ok=True)
    return digest, size, str(target.relative_to(data_dir))


def _stream_hash(path: Path, stream: IO[bytes], sink: IO[bytes] | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if sink is not None:
                sink.write(chunk)
    except OSError as exc:
        if sink is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        raise OperationalError(f"{path}: cannot be read ({exc.strerror})") from exc
    return digest.hexdigest(), size


def _office_key(data_dir: Path) -> Ed25519PrivateKey:
    """The office evidence key, made on first use (0600, outside every case folder)."""
    path = key_path(data_dir)
    if not path.exists() and not path.is_symlink():
        try:
            make_private_dirs(path.parent)
        except OSError as exc:
            raise os_failure(path.parent, "create the key folder", exc) from exc
        keys.generate(path)
    return keys.load_private(path)


def _state(data_dir: Path) -> Path:
    folder = state_dir(data_dir)
    try:
        make_private_dirs(folder)
    except OSError as exc:
        raise os_failure(folder, "create the evidence state folder", exc) from exc
    return folder


def _record_head(data_dir: Path, private: Ed25519PrivateKey, case_id: str, newest: Record,
                 moment: str) -> None:
    state = manifest.read_state(state_dir(data_dir), private.public_key())
    heads = dict(state.heads)
    heads[case_id] = manifest.Head(newest.seq, newest.hash,
                                   datetime.fromisoformat(newest.added_at).date())
    manifest.write_state(state_dir(data_dir), private, heads, moment)


# -- reading and verifying ----------------------------------------------------------------


def items(data_dir: Path, case_id: str) -> list[EvidenceItem]:
    """The case's items whose records verify, in the order they were added (none when the
    case has no evidence yet)."""
    public = _public(data_dir)
    if public is None:
        return []
    return [record.item() for record in _read(data_dir, case_id, public).records]


def verify(data_dir: Path, case_id: str) -> list[EvidenceProblem]:
    """Everything wrong with a case's evidence: the manifest (edited, cut, rolled back,
    re-signed with another key) and every item (its copy or referenced file hashed again).
    An empty list: nothing changed since it was added."""
    folder = case_dir(data_dir, case_id)
    public = _public(data_dir)
    if public is None:
        if (folder / MANIFEST_NAME).exists():
            return [EvidenceProblem("key", None, f"{keys.public_path(key_path(data_dir))}: the "
                                                 f"office evidence key is gone")]
        return []
    reading = _read(data_dir, case_id, public)
    problems = list(reading.problems)
    for record in reading.records:
        problem = _check_item(data_dir, record)
        if problem is not None:
            problems.append(problem)
    return problems


def _public(data_dir: Path) -> Ed25519PublicKey | None:
    path = keys.public_path(key_path(data_dir))
    if not path.exists() and not path.is_symlink():
        return None
    return keys.load_public(path)


def _read(data_dir: Path, case_id: str, public: Ed25519PublicKey) -> _Reading:
    path = case_dir(data_dir, case_id) / MANIFEST_NAME
    reading = _Reading([], [])
    try:
        with open_day(path, directory_may_be_link=True) as stream:
            raw = stream.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raw = b""
    except DayFileRefusedError as exc:
        reading.problems.append(EvidenceProblem("manifest-edited", None,
                                                f"{path}: {exc.reason}"))
        return reading
    except OSError as exc:
        reading.problems.append(EvidenceProblem("manifest-edited", None,
                                                f"{path}: cannot be read ({exc.strerror})"))
        return reading
    if len(raw) > MAX_MANIFEST_BYTES:
        reading.problems.append(EvidenceProblem("manifest-edited", None, f"{path}: larger "
                                                f"than {MAX_MANIFEST_BYTES} bytes; not read"))
        return reading
    foreign: set[str] = set()
    for link in chain.read_chain(raw, public, parse_record, lambda r: _elsewhere(r, case_id)):
        reading.problems += _link_problem(link, path, foreign)
        if link.trusted and link.record is not None:
            reading.records.append(link.record)
    if foreign:
        reading.problems.append(EvidenceProblem(
            "foreign-key", None, f"{path.name}: records signed with another key "
            f"({', '.join(sorted(foreign))}; trusted: {keys.key_id(public)})"))
    reading.problems += _against_state(data_dir, case_id, public, reading.records)
    return reading


def _elsewhere(record: Record, case_id: str) -> str | None:
    if record.case != case_id:
        return f"record {record.seq} belongs to {record.case}, not {case_id}"
    return None


def _link_problem(link: chain.Link[Record], path: Path, foreign: set[str]
                  ) -> list[EvidenceProblem]:
    record = link.record
    if record is None:
        kind = "manifest-truncated" if link.fault == "cut" else "manifest-edited"
        return [EvidenceProblem(kind, None, f"line {link.number} of {path.name} is not a "
                                            f"whole record")]
    if link.fault == "foreign-key":
        foreign.add(record.key)
        return []
    if link.fault == "bad-signature":
        return [EvidenceProblem("manifest-edited", record.seq, f"record {record.seq} "
                                f"({record.name}) does not match its signature")]
    if link.fault == "refused":
        return [EvidenceProblem("manifest-moved", record.seq, link.detail)]
    if link.fault == "chain-broken":
        return [EvidenceProblem("chain-broken", record.seq, f"record {record.seq} does not "
                                f"follow the record before it: records were removed, added "
                                f"or reordered")]
    return []


def _against_state(data_dir: Path, case_id: str, public: Ed25519PublicKey,
                   records: list[Record]) -> list[EvidenceProblem]:
    state = manifest.read_state(state_dir(data_dir), public)
    if state.problem:
        return [EvidenceProblem("state", None, state.problem)]
    head = state.heads.get(case_id)
    if head is None:
        if records:
            return [EvidenceProblem("state", None, f"the evidence state has no record of "
                                                   f"{case_id}'s manifest")]
        return []
    recorded = next((r for r in records if r.seq == head.seq), None)
    if recorded is not None and recorded.hash == head.hash:
        return []
    ends = f"record {records[-1].seq}" if records else "no record"
    return [EvidenceProblem("manifest-rollback", head.seq, f"the manifest ends at {ends} or "
                            f"differs from it; record {head.seq} was the newest added: cut "
                            f"back or rewritten")]


def _check_item(data_dir: Path, record: Record) -> EvidenceProblem | None:
    path = Path(record.location) if record.stored == "reference" \
        else data_dir / record.location
    if record.stored == "copy" and (path.parent != case_dir(data_dir, record.case)
                                    or path.name != record.sha256):
        return EvidenceProblem("manifest-edited", record.seq,
                               f"record {record.seq}: the copy is not where copies are kept")
    try:
        with _open_evidence(path) as stream:
            digest, size = _stream_hash(path, stream, None)
    except InputError as exc:
        kind = "missing" if "no such file" in str(exc) else \
            "not-regular" if "not a regular file" in str(exc) else "unreadable"
        return EvidenceProblem(kind, record.seq, f"{record.name} ({record.stored}): {exc}")
    except OperationalError as exc:
        return EvidenceProblem("unreadable", record.seq, f"{record.name}: {exc}")
    if (digest, size) != (record.sha256, record.size):
        return EvidenceProblem(
            "modified", record.seq, f"{record.name} ({record.stored} {path}): now {size} "
            f"bytes sha256 {digest}; added as {record.size} bytes sha256 {record.sha256}")
    return None

