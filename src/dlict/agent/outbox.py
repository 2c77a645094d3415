"""The agent's outbox: every record is stored here, durably, before anything tries to send it.

SQLite in WAL mode with ``synchronous=FULL``: a ``put`` returns only once its transaction is
on the disk, so a power cut at any moment leaves every record that was put exactly once and
no part of one. Records leave only through ``ack`` — after the office (or remote_write) has
answered 2xx — so delivery is at-least-once and the receiver de-duplicates by the key.

A disk cap keeps a link that is down for weeks from filling the school's disk: after each put,
while the stored bytes exceed the cap, the oldest samples go first; results and events only
when no sample is left. Every drop is counted per kind in a table that is never reset, and
travels in each batch's header and in ``dlict agent status``.

The file is 0600 in a 0700 state directory: it holds what the school's hosts reported.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from dlict.agent.records import Kind, Record
from dlict.agent.wire import MAX_LINE_BYTES
from dlict.core.clock import to_utc
from dlict.core.errors import InputError, OperationalError
from dlict.core.files import make_private_dirs, os_failure
from dlict.core.sqlite_faults import disk_is_full, primary_code

FILE_MODE = 0o600
DIR_MODE = 0o700
BUSY_TIMEOUT_S = 30.0
# What SQLite spends on a row beyond its text (row header, rowid, the key's index entry, the
# kind index, pages left part-empty by dropping the oldest): measured with samples of 150 to
# 250 bytes of text, counting 120 keeps the file at 0.88-0.96 of a 1-10 MB cap.
ROW_OVERHEAD_BYTES = 120
# A whole batch of this much text compresses far under the wire's 8 MiB limit.
BATCH_MAX_BYTES = 8 * 1024 * 1024
# The WAL is emptied into the file every 1,000 pages; this keeps its file from staying large.
WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024
QUICK_CHECK_MAX_BYTES = 16 * 1024 * 1024
_DELETE_CHUNK = 500

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        key        TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('result', 'event', 'sample')),
        site       TEXT NOT NULL,
        host       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        body       TEXT NOT NULL,
        size       INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS records_kind ON records (kind)",
    # Per kind: records and bytes held now (kept by the triggers), dropped since installed.
    """CREATE TABLE IF NOT EXISTS kinds (
        kind    TEXT PRIMARY KEY,
        records INTEGER NOT NULL DEFAULT 0,
        bytes   INTEGER NOT NULL DEFAULT 0,
        dropped INTEGER NOT NULL DEFAULT 0)""",
    "INSERT OR IGNORE INTO kinds (kind) VALUES ('result'), ('event'), ('sample')",
    """CREATE TRIGGER IF NOT EXISTS records_in AFTER INSERT ON records BEGIN
        UPDATE kinds SET records = records + 1, bytes = bytes + new.size
        WHERE kind = new.kind; END""",
    """CREATE TRIGGER IF NOT EXISTS records_out AFTER DELETE ON records BEGIN
        UPDATE kinds SET records = records - 1, bytes = bytes - old.size
        WHERE kind = old.kind; END""",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
SCHEMA_VERSION = 1


class OutboxError(OperationalError):
    """The outbox cannot be opened or written (damaged file, full disk); exit 3."""


@dataclass(frozen=True, slots=True)
class OutboxStats:
    records: int
    by_kind: dict[str, int]
    bytes: int
    # Dropped since the agent was installed, by kind (never reset).
    dropped: dict[str, int]


@dataclass(frozen=True, slots=True)
class PushState:
    """What the service last saw of the office, kept across restarts."""

    last_push_at: datetime | None = None
    last_outcome: str = ""
    last_error: str = ""
    consecutive_failures: int = 0


def _damaged(path: Path, doing: str, detail: str) -> OutboxError:
    return OutboxError(f"{path}: cannot {doing}: the file is damaged or not an outbox "
                       f"({detail}); move it aside and the agent starts a new one")


def _failure(path: Path, exc: sqlite3.Error, doing: str) -> OutboxError:
    """One line for what the file or the disk did to SQLite while ``doing``."""
    code = primary_code(exc)
    where = f"{path}: cannot {doing}"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return _damaged(path, doing, str(exc))
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and disk_is_full(path)):
        return OutboxError(f"{where}: no space left on the device (disk or quota full); "
                           "records stored before are kept")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return OutboxError(f"{where}: another process kept it locked for more than "
                           f"{BUSY_TIMEOUT_S:g} s")
    return OutboxError(f"{where}: {exc}")


def _prepare_state_dir(directory: Path) -> None:
    """The state directory, 0700: created if missing, narrowed if it is ours and wider."""
    try:
        make_private_dirs(directory.parent)
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        info = directory.stat()
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(20, "it is not a directory", str(directory))
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            directory.chmod(DIR_MODE)
    except OSError as exc:
        raise os_failure(directory, "prepare the agent's state directory", exc) from exc


def _prepare_file(path: Path, create: bool) -> bool:
    """The outbox file, 0600; refuses anything but a regular file (a link, a directory, a
    device) with one line, exit 2. True if it exists (or was created) now."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             FILE_MODE))
        except OSError as exc:
            raise os_failure(path, "create the outbox", exc) from exc
        return True
    except OSError as exc:
        raise os_failure(path, "open the outbox", exc) from exc
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: cannot open the outbox: it is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.geteuid():
        try:
            path.chmod(FILE_MODE)
        except OSError as exc:
            raise os_failure(path, "make the outbox private", exc) from exc
    return True


def _row_size(key: str, kind: str, site: str, host: str, at: str, body: str) -> int:
    return (len(key) + len(kind) + len(site.encode()) + len(host.encode()) + len(at)
            + len(body.encode()) + ROW_OVERHEAD_BYTES)


class Outbox:
    """Records waiting to be delivered, oldest first, within a disk cap."""

    def __init__(self, conn: sqlite3.Connection, path: Path, cap_bytes: int) -> None:
        self._conn = conn
        self.path = path
        self.cap_bytes = cap_bytes

    @classmethod
    def open(cls, path: Path, cap_bytes: int, *, create: bool = True) -> Outbox:
        """Open the outbox at ``path`` (created 0600 in a 0700 directory if missing).

        Arguments:
            path: the SQLite file.
            cap_bytes: what the stored records may take on the disk at most.
            create: False to refuse (``FileNotFoundError``) rather than create a missing one.

        Raises:
            InputError: the path is not a regular file or its directory is not a directory.
            OutboxError: the file is damaged or not an outbox, or the disk is full.
            FileNotFoundError: ``create`` is False and there is no outbox yet.
        """
        if cap_bytes <= 0:
            raise InputError(f"{path}: the outbox cap must be positive, not {cap_bytes}")
        if create:
            _prepare_state_dir(path.parent)
        if not _prepare_file(path, create):
            raise FileNotFoundError(2, "no outbox yet", str(path))
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
            outbox = cls(conn, path, cap_bytes)
            outbox._prepare()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _failure(path, exc, "open the outbox") from exc
            raise
        return outbox

    def _prepare(self) -> None:
        conn = self._conn
        if self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
            if rows != ["ok"]:
                raise _damaged(self.path, "open the outbox", rows[0].splitlines()[0])
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise OutboxError(f"{self.path}: outbox version {version} is newer than this "
                              f"dlict understands ({SCHEMA_VERSION}); upgrade dlict")
        if version < SCHEMA_VERSION:
            with self._write("create the outbox"):
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # after SQLITE_FULL SQLite may have already
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _failure(self.path, exc, doing) from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.Error as exc:
            raise _failure(self.path, exc, "read the outbox") from exc

    def put(self, records: Iterable[Record]) -> int:
        """Store ``records`` in one transaction, then keep the cap; returns how many are new.

        A record whose key is stored already is not stored twice. A record too large for the
        wire is not stored and is counted as dropped.

        Raises:
            OutboxError: the disk is full or the file damaged; nothing of this put is stored,
                everything stored before is kept.
        """
        rows, too_large = _rows(records)
        with self._write("store records in the outbox") as conn:
            for kind, count in too_large.items():
                _count_dropped(conn, kind, count)
            # Make room before inserting, so that the pages freed take the new records and
            # the file never grows past the cap by one put: the oldest stored samples first,
            # then the oldest incoming ones (they would be the next to go).
            excess = self._stored_bytes(conn) + sum(row[-1] for row in rows) - self.cap_bytes
            excess = self._drop_oldest(conn, excess, samples_only=True)
            rows = _shed_samples(conn, rows, excess)
            added = conn.executemany(
                "INSERT OR IGNORE INTO records (key, kind, site, host, created_at, body, size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", rows).rowcount
            self._drop_oldest(conn, self._stored_bytes(conn) - self.cap_bytes)
        return added

    def _drop_oldest(self, conn: sqlite3.Connection, excess: int, *,
                     samples_only: bool = False) -> int:
        """Drop stored records, oldest first, until ``excess`` bytes are gone: samples while
        there are any, then (unless ``samples_only``) results and events. Returns the excess
        left."""
        while excess > 0:
            victims = _oldest(conn, "kind = 'sample'")
            if not victims and not samples_only:
                victims = _oldest(conn, "kind != 'sample'")
            if not victims:
                break
            chosen: list[int] = []
            for rowid, kind, size in victims:
                chosen.append(rowid)
                _count_dropped(conn, kind, 1)
                excess -= size
                if excess <= 0:
                    break
            conn.executemany("DELETE FROM records WHERE rowid = ?", [(r,) for r in chosen])
        return excess

    @staticmethod
    def _stored_bytes(conn: sqlite3.Connection) -> int:
        (total,) = conn.execute("SELECT total(bytes) FROM kinds").fetchone()
        return int(total)

    def next_batch(self, limit: int, kinds: frozenset[Kind] | None = None, *,
                   max_bytes: int = BATCH_MAX_BYTES) -> list[Record]:
        """Up to ``limit`` records (of ``kinds``, all if None), oldest first, of at most
        ``max_bytes`` stored bytes together (always at least one record when any is there).

        Raises:
            OutboxError: the file is damaged.
        """
        where = ""
        params: tuple[str, ...] = ()
        if kinds is not None:
            names = sorted(str(kind) for kind in kinds)
            where = f"WHERE kind IN ({', '.join('?' * len(names))})"
            params = tuple(names)
        batch: list[Record] = []
        taken = 0
        with self._read() as conn:
            query = ("SELECT key, kind, site, host, created_at, body, size FROM records "  # noqa: S608
                     + where + " ORDER BY rowid LIMIT ?")  # where: placeholders only
            rows = conn.execute(query, (*params, limit))
            for key, kind, site, host, at, body, size in rows:
                if batch and taken + size > max_bytes:
                    break
                batch.append(self._record(key, kind, site, host, at, body))
                taken += size
        return batch

    def _record(self, key: str, kind: str, site: str, host: str, at: str, body: str) -> Record:
        try:
            return Record(Kind(kind), site, host, json.loads(body),
                          datetime.fromisoformat(at), key)
        except (ValueError, TypeError) as exc:
            raise _damaged(self.path, "read the outbox", f"record {key}: {exc}") from exc

    def ack(self, keys: Sequence[str]) -> int:
        """Remove the records the receiver has confirmed; returns how many were removed."""
        removed = 0
        with self._write("remove delivered records from the outbox") as conn:
            for start in range(0, len(keys), _DELETE_CHUNK):
                chunk = keys[start:start + _DELETE_CHUNK]
                removed += conn.execute(
                    f"DELETE FROM records WHERE key IN ({', '.join('?' * len(chunk))})",  # noqa: S608
                    tuple(chunk)).rowcount
        return removed

    def drop(self, records: Sequence[Record]) -> int:
        """Remove records no receiver will ever take, counting them as dropped."""
        removed = 0
        with self._write("drop records from the outbox") as conn:
            for record in records:
                gone = conn.execute("DELETE FROM records WHERE key = ?", (record.key,)).rowcount
                if gone:
                    _count_dropped(conn, str(record.kind), gone)
                    removed += gone
        return removed

    def stats(self) -> OutboxStats:
        with self._read() as conn:
            rows = conn.execute("SELECT kind, records, bytes, dropped FROM kinds").fetchall()
        by_kind = {str(kind): int(records) for kind, records, _b, _d in rows}
        return OutboxStats(records=sum(by_kind.values()), by_kind=by_kind,
                           bytes=sum(int(b) for _k, _r, b, _d in rows),
                           dropped={str(kind): int(d) for kind, _r, _b, d in rows})

    def push_state(self) -> PushState:
        with self._read() as conn:
            meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        at = meta.get("last_push_at")
        try:
            failures = int(meta.get("consecutive_failures", "0"))
            moment = datetime.fromisoformat(at) if at else None
        except ValueError:
            failures, moment = 0, None
        return PushState(last_push_at=moment, last_outcome=meta.get("last_outcome", ""),
                         last_error=meta.get("last_error", ""), consecutive_failures=failures)

    def note_push(self, at: datetime, outcome: str, error: str = "") -> PushState:
        """Keep the outcome of a push attempt; failures count up until one succeeds."""
        failures = 0 if not error else self.push_state().consecutive_failures + 1
        values = {"last_push_at": to_utc(at).isoformat(), "last_outcome": outcome,
                  "last_error": error, "consecutive_failures": str(failures)}
        with self._write("note the push in the outbox") as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                             list(values.items()))
        return PushState(to_utc(at), outcome, error, failures)


_Row = tuple[str, str, str, str, str, str, int]  # as the records table holds it


def _rows(records: Iterable[Record]) -> tuple[list[_Row], dict[str, int]]:
    rows: list[_Row] = []
    too_large: dict[str, int] = {}
    for record in records:
        kind = str(record.kind)
        body = json.dumps(dict(record.body), ensure_ascii=False, separators=(",", ":"))
        at = record.created_at.isoformat()
        size = _row_size(record.key, kind, record.site, record.host, at, body)
        if size - ROW_OVERHEAD_BYTES + 64 > MAX_LINE_BYTES:  # 64: the line's JSON around it
            too_large[kind] = too_large.get(kind, 0) + 1
            continue
        rows.append((record.key, kind, record.site, record.host, at, body, size))
    return rows, too_large


def _shed_samples(conn: sqlite3.Connection, rows: list[_Row], excess: int) -> list[_Row]:
    """``rows`` without their oldest samples worth ``excess`` bytes (counted as dropped)."""
    kept: list[_Row] = []
    for row in rows:
        if excess > 0 and row[1] == "sample":
            _count_dropped(conn, "sample", 1)
            excess -= row[-1]
        else:
            kept.append(row)
    return kept


def _oldest(conn: sqlite3.Connection, where: str) -> list[tuple[int, str, int]]:
    return [(int(r), str(k), int(s)) for r, k, s in conn.execute(
        f"SELECT rowid, kind, size FROM records WHERE {where} "  # noqa: S608 (two fixed texts)
        f"ORDER BY rowid LIMIT {_DELETE_CHUNK}")]


def _count_dropped(conn: sqlite3.Connection, kind: str, count: int) -> None:
    conn.execute("UPDATE kinds SET dropped = dropped + ? WHERE kind = ?", (count, kind))
