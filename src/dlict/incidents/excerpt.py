"""An excerpt of the sealed log tree for one host and time window, with its proof.

The excerpt is a bundle of JSON lines: a header (case, host, window, the seal key's id and
public key), the selected lines (each with its day and line number in the day file), and for
every day of the window its proof: the day file's signed manifest entry exactly as sealed, and
the SHA-256 and size of the file as it was read for this excerpt. The lines are read in the
same pass that hashes the file, so what was selected is what was hashed. A day is *verified*
when its entry's signature holds under the seal key, the manifest verifies (chain, seal state)
and the file read matches the entry; otherwise the day, and the excerpt, is *unverified* and
the bundle says why. :func:`check_bundle` verifies a bundle on its own, without the tree.

``--grep``: a Python regular expression with a bounded cost — at most :data:`MAX_PATTERN`
characters, no back-references, no repeat inside an open-ended repeat and no alternation
under one (the shapes that backtrack exponentially), matched against the first :data:`GREP_CHARS`
characters of a line, and each match given at most :data:`GREP_SECONDS`.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import re._parser as sre_parse  # type: ignore[import-not-found,unused-ignore]
import signal
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from types import FrameType
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dlict.core import chain
from dlict.core.clock import BANGKOK
from dlict.core.errors import InputError
from dlict.logs import manifest
from dlict.logs.policy import Policy
from dlict.logs.seal import check_lock, local_zone
from dlict.logs.streams import (
    DayFileRefusedError,
    HashingReader,
    Limits,
    OverLimitError,
    bounded_lines,
    read_day,
)
from dlict.logs.tree import Source, day_file_name, sources

FORMAT = "dlict-log-excerpt/1"
MAX_WINDOW_DAYS = 31
MAX_PATTERN = 200
GREP_CHARS = 4096
GREP_SECONDS = 0.5
LOCK_WAIT = 60.0
#: A bundle line holds one log line (capped by the tree's limits) or one day's proof.
_BUNDLE_LIMITS = Limits(max_line_bytes=4 << 20)
_SMALL_REPEAT = 16
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


@dataclass(frozen=True)
class DayProof:
    day: date
    file: str | None
    entry: dict[str, Any] | None  # the manifest entry as sealed (with its signature)
    sha256: str | None  # the file as read now
    size: int | None
    lines: int  # lines of this day in the excerpt
    verified: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": "day", "day": self.day.isoformat(), "file": self.file,
                "entry": self.entry, "read": None if self.sha256 is None else
                {"sha256": self.sha256, "size": self.size},
                "lines": self.lines, "verified": self.verified, "reason": self.reason}


@dataclass
class Excerpt:
    case_id: str
    source: str
    start: datetime
    end: datetime
    grep: str | None
    key: str
    days: list[DayProof] = field(default_factory=list)
    lines: int = 0

    @property
    def verified(self) -> bool:
        return bool(self.days) and all(d.verified for d in self.days)

    @property
    def reasons(self) -> list[str]:
        return [f"{d.day.isoformat()}: {d.reason}" for d in self.days if not d.verified]


def parse_moment(text: str, option: str) -> datetime:
    """An ISO 8601 time; without a zone it is Bangkok time.

    Raises:
        InputError: not a time.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} {text!r}: not a time (use e.g. 2026-11-21T08:00 or "
                         f"2026-11-21T08:00+07:00)") from None
    return moment.replace(tzinfo=BANGKOK) if moment.tzinfo is None else moment


def compile_grep(pattern: str) -> re.Pattern[str]:
    """A pattern whose cost is bounded (see the module's docstring).

    Raises:
        InputError: too long, not a regular expression, or a shape that can backtrack
            without end.
    """
    if len(pattern) > MAX_PATTERN:
        raise InputError(f"--grep: the pattern is {len(pattern)} characters; at most "
                         f"{MAX_PATTERN}")
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InputError(f"--grep {pattern!r}: not a regular expression ({exc})") from None
    problem = _costly(list(parsed), inside_repeat=False)
    if problem:
        raise InputError(f"--grep {pattern!r}: {problem}; refused (its matching time can "
                         f"grow without bound)")
    return compiled


def _costly(items: list[Any], *, inside_repeat: bool) -> str | None:
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return "a back-reference"
        if name in _REPEATS:
            _low, high, body = arg
            if (high is sre_parse.MAXREPEAT or high > 1) and inside_repeat:
                return "a repeat inside a repeat"
            # Only an open-ended repeat multiplies its body's choices without bound:
            # (\d{1,3}\.){3} is fine, (a+)+ is not.
            open_ended = high is sre_parse.MAXREPEAT or high > _SMALL_REPEAT
            found = _costly(list(body), inside_repeat=inside_repeat or open_ended)
            if found:
                return found
        elif name == "BRANCH":
            if inside_repeat:
                return "an alternation under a repeat"
            for branch in arg[1]:
                if (found := _costly(list(branch), inside_repeat=inside_repeat)):
                    return found
        elif name in ("SUBPATTERN", "ATOMIC_GROUP", "ASSERT", "ASSERT_NOT"):
            body = arg[-1]
            if (found := _costly(list(body), inside_repeat=inside_repeat)):
                return found
    return None


class _TooSlowError(Exception):
    pass


@dataclass
class _Grep:
    pattern: re.Pattern[str] | None

    def keeps(self, text: str) -> bool:
        if self.pattern is None:
            return True
        head = text[:GREP_CHARS]
        if threading.current_thread() is not threading.main_thread():
            return self.pattern.search(head) is not None
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, GREP_SECONDS)
        try:
            return self.pattern.search(head) is not None
        except _TooSlowError:
            raise InputError(f"--grep {self.pattern.pattern!r}: one line took more than "
                             f"{GREP_SECONDS} s to match; use a simpler pattern") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _TooSlowError


def find_source(root: Path, host: str) -> Source:
    """The tree's source for ``host`` (its host name, or ``site/host``).

    Raises:
        InputError: no such host in the tree, or the name is ambiguous.
    """
    if not root.is_dir():
        raise InputError(f"{root}: no such log tree")
    found = [s for s in sources(root) if host in (s.host, s.name)]
    if not found:
        raise InputError(f"--host {host!r}: no such host in the log tree {root}")
    if len(found) > 1:
        raise InputError(f"--host {host!r}: more than one site has it "
                         f"({', '.join(s.name for s in found)}); give SITE/HOST")
    return found[0]


def window_days(start: datetime, end: datetime, zone: tzinfo) -> list[date]:
    """The day files a window touches, in the tree's zone.

    Raises:
        InputError: the window is empty or longer than :data:`MAX_WINDOW_DAYS`.
    """
    if end < start:
        raise InputError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    count = (last - first).days + 1
    if count > MAX_WINDOW_DAYS:
        raise InputError(f"the window covers {count} days; at most {MAX_WINDOW_DAYS} per "
                         f"excerpt")
    return [first + timedelta(days=n) for n in range(count)]


def extract(policy: Policy, public: Ed25519PublicKey, out: IO[str], *, case_id: str,
            host: str, start: datetime, end: datetime, grep: str | None = None,
            lock_wait: float = LOCK_WAIT) -> Excerpt:
    """Write the excerpt bundle to ``out`` and return what it holds; never while a seal
    changes the tree.

    Raises:
        InputError: an unknown host, a bad window or pattern.
        OperationalError: a seal still runs after ``lock_wait`` seconds.
    """
    source = find_source(policy.root, host)
    days = window_days(start, end, local_zone(policy))
    matcher = _Grep(compile_grep(grep) if grep else None)
    excerpt = Excerpt(case_id, source.name, start, end, grep, chain.key_id(public))
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    _emit(out, {"type": "header", "format": FORMAT, "case": case_id, "source": source.name,
                "from": start.isoformat(), "to": end.isoformat(), "grep": grep,
                "key": excerpt.key, "public_key": pem})
    with check_lock(policy.state_dir, lock_wait):
        reading = manifest.read_manifest(source.manifest, source.name, public)
        doubt = _manifest_doubt(policy, source, public, reading)
        entries = {e.day: e for e in reading.entries if e.day not in reading.doubtful_days}
        for day in days:
            proof = _doubted(_day(policy, source, day, entries.get(day), matcher, excerpt,
                                  out), doubt)
            excerpt.days.append(proof)
            _emit(out, proof.as_dict())
    _emit(out, {"type": "summary", "lines": excerpt.lines, "verified": excerpt.verified,
                "reasons": excerpt.reasons})
    return excerpt


def _manifest_doubt(policy: Policy, source: Source, public: Ed25519PublicKey,
                    reading: manifest.ManifestReading) -> str | None:
    """Why no day of this source can be proved, when the manifest or the state fails."""
    if reading.problems:
        first = reading.problems[0]
        return f"the manifest does not verify ({first.kind}: {first.detail})"
    state = manifest.read_state(policy.state_dir, public)
    if state.problem:
        return f"the seal state does not verify ({state.problem})"
    head = state.heads.get(source.name)
    if head is not None:
        recorded = reading.by_seq(head.seq)
        if recorded is None or recorded.hash != head.hash:
            return (f"the manifest is behind the seal state (entry {head.seq}, "
                    f"{head.day.isoformat()}): truncated or rolled back")
    return None


def _doubted(proof: DayProof, doubt: str | None) -> DayProof:
    """A day cannot be proved by a manifest that does not verify, whatever its file."""
    if doubt is None:
        return proof
    reason = doubt if proof.verified else f"{doubt}; {proof.reason}"
    return replace(proof, verified=False, reason=reason)


def _day(policy: Policy, source: Source, day: date, entry: manifest.Entry | None,
         matcher: _Grep, excerpt: Excerpt, out: IO[str]) -> DayProof:
    sealed = None if entry is None else json.loads(entry.line())
    if entry is not None and entry.file is None:
        stray = [n for n in (day_file_name(day, False), day_file_name(day, True))
                 if (source.path / n).exists()]
        reason = f"{stray[0]} is there, but the day was sealed as empty" if stray else ""
        return DayProof(day, None, sealed, None, None, 0, not reason, reason or
                        "sealed as empty: nothing arrived that day")
    name = entry.file if entry is not None and entry.file else _unsealed_name(source, day)
    if name is None:
        return DayProof(day, None, None, None, None, 0, False,
                        "no day file and no manifest entry: nothing kept for that day")
    try:
        sha256, size, count = _read_day(source.path / name, day, matcher, excerpt, out,
                                        policy)
    except FileNotFoundError:
        return DayProof(day, name, sealed, None, None, 0, False, f"{name} is gone")
    except DayFileRefusedError as exc:
        return DayProof(day, name, sealed, None, None, 0, False, f"{name}: {exc.reason}")
    if entry is None:
        return DayProof(day, name, None, sha256, size, count, False,
                        f"{name} is not sealed: the manifest has no entry for that day")
    if (sha256, size) != (entry.sha256, entry.size):
        return DayProof(day, name, sealed, sha256, size, count, False,
                        f"{name} does not match its sealed entry: now {size} bytes sha256 "
                        f"{sha256}, sealed {entry.size} bytes sha256 {entry.sha256}")
    return DayProof(day, name, sealed, sha256, size, count, True,
                    "matches its signed manifest entry")


def _unsealed_name(source: Source, day: date) -> str | None:
    for compressed in (True, False):
        name = day_file_name(day, compressed)
        if (source.path / name).exists() or (source.path / name).is_symlink():
            return name
    return None


def _read_day(path: Path, day: date, matcher: _Grep, excerpt: Excerpt, out: IO[str],
              policy: Policy) -> tuple[str, int, int]:
    """(SHA-256, size) of the stored file and how many of its lines were taken, from one
    read: the lines selected are the bytes hashed. A damaged .gz ends the lines early."""
    count = 0
    limits = policy.limits
    with read_day(path) as raw:
        hashing = HashingReader(raw)
        try:
            stream: Any = gzip.GzipFile(None, "rb", fileobj=hashing) \
                if path.name.endswith(".gz") else hashing
            for number, line in enumerate(bounded_lines(stream, limits), start=1):
                if _selected(line, excerpt, matcher):
                    _emit(out, {"type": "line", "day": day.isoformat(), "n": number,
                                "text": _text(line)})
                    count += 1
        except (EOFError, zlib.error, gzip.BadGzipFile, OverLimitError):
            pass  # the hash below no longer matches the entry: the day is unverified
        while hashing.read(limits.chunk):
            pass
    excerpt.lines += count
    return hashing.sha256, hashing.size, count


def _selected(line: bytes, excerpt: Excerpt, matcher: _Grep) -> bool:
    stamp = line.split(b" ", 1)[0]
    try:
        moment = datetime.fromisoformat(stamp.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BANGKOK)
    if not excerpt.start <= moment <= excerpt.end:
        return False
    return matcher.keeps(_text(line))


def _text(line: bytes) -> str:
    return line.rstrip(b"\n").decode("utf-8", errors="backslashreplace")


def _emit(out: IO[str], record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


# -- checking a bundle on its own ---------------------------------------------------------


@dataclass
class BundleCheck:
    verified: bool
    key: str
    lines: int
    problems: list[str]


def check_bundle(path: Path, trusted: Ed25519PublicKey | None = None) -> BundleCheck:
    """Verify a bundle without the log tree: every day's entry signature under the seal key
    (``trusted``, else the key the bundle names — then compare its id with the office's),
    every re-hash against its entry, the day of every line, and the summary.

    Raises:
        InputError: not an excerpt bundle.
    """
    problems: list[str] = []
    lines: dict[str, int] = {}
    header: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    days: dict[str, bool] = {}
    key: Ed25519PublicKey | None = trusted
    for record in _records(path):
        kind = record.get("type")
        if header is None:
            if kind != "header" or record.get("format") != FORMAT:
                raise InputError(f"{path}: not a dlict log excerpt")
            header = record
            key = key or _public_from(record, path)
        elif kind == "line":
            lines[str(record.get("day"))] = lines.get(str(record.get("day")), 0) + 1
        elif kind == "day" and key is not None:
            ok, why = _check_day(record, header, key)
            days[str(record.get("day"))] = ok
            if why:
                problems.append(f"{record.get('day')}: {why}")
            elif not ok:
                problems.append(f"{record.get('day')}: unverified: {record.get('reason')}")
        elif kind == "summary":
            summary = record
    if header is None or summary is None or key is None:
        raise InputError(f"{path}: not a whole dlict log excerpt (no header or no summary)")
    for day, count in sorted(lines.items()):
        if day not in days:
            problems.append(f"{count} line(s) of {day}, a day without its proof")
    if summary.get("lines") != sum(lines.values()):
        problems.append(f"the summary counts {summary.get('lines')} lines; the bundle holds "
                        f"{sum(lines.values())}")
    verified = bool(days) and all(days.values()) and not problems
    if summary.get("verified") is True and not verified:
        problems.append("the bundle claims to be verified, and is not")
    return BundleCheck(verified, chain.key_id(key), sum(lines.values()), problems)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open("rb") as stream:
            for line in bounded_lines(stream, _BUNDLE_LIMITS):
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):
                    raise InputError(f"{path}: a line is not JSON") from None
                if not isinstance(record, dict):
                    raise InputError(f"{path}: a line is not a JSON object")
                yield record
    except OverLimitError as exc:
        raise InputError(f"{path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def _public_from(header: dict[str, Any], path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(str(header.get("public_key")).encode())
    except ValueError:
        raise InputError(f"{path}: the header's public key is not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path}: the header's public key is not an Ed25519 key")
    return key


def _check_day(record: dict[str, Any], header: dict[str, Any], key: Ed25519PublicKey
               ) -> tuple[bool, str]:
    """(whether the day proves its lines, what is wrong with the record if anything)."""
    claimed = record.get("verified") is True
    entry_data = record.get("entry")
    if not isinstance(entry_data, dict):
        return False, "" if not claimed else "claims verified without a manifest entry"
    entry = manifest.parse_entry(json.dumps(entry_data).encode())
    if entry is None:
        return False, "the manifest entry is malformed"
    try:
        signature = base64.b64decode(entry.sig, validate=True)
    except ValueError:
        return False, "the entry's signature is malformed"
    if entry.key != chain.key_id(key) or not chain.verify(key, signature,
                                                           chain.canonical(entry.body())):
        return False, "the manifest entry does not match its signature under the seal key"
    if entry.source != header.get("source") or entry.day.isoformat() != record.get("day"):
        return False, "the manifest entry is for another host or day"
    if entry.file is None:
        return claimed, ""
    read = record.get("read")
    if not isinstance(read, dict) or (read.get("sha256"), read.get("size")) != \
            (entry.sha256, entry.size):
        return False, "" if not claimed else "claims verified, but the file read does not " \
                                             "match the entry"
    return claimed, ""

