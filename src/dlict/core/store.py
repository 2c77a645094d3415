"""The evidence store: SQLite in WAL mode, versioned migrations, a small typed API.

Several dlict processes may write at once (a cron audit while an admin runs another): every
write is one ``BEGIN IMMEDIATE`` transaction with a generous busy timeout, so writers queue
instead of failing, and a crash leaves either the whole batch or none of it.

A damaged store is refused before anything is written to it: ``PRAGMA quick_check`` runs on
open while the store is small, once a day when it is large, and whenever SQLite or the disk
reports trouble. A full or read-only disk, a lock held too long or a damaged file each become
one ``StoreError`` line naming the file and the cause.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from dlict import __version__
from dlict.core.clock import utc_now
from dlict.core.errors import InputError, RunNotFoundError, StoreError
from dlict.core.files import EVIDENCE_MODE, make_private_dirs, os_failure
from dlict.core.results import Result, Status
from dlict.core.sqlite_faults import disk_is_full, primary_code

BUSY_TIMEOUT_S = 60.0

# quick_check reads every page: measured ~3 ms/MiB from the page cache and ~22 ms/MiB from
# disk (100k results ≈ 29 MiB: 83 ms warm, 650 ms cold; 1M results: 0.9 s / 7 s). Small
# stores are checked on every open; larger ones once a day, so no command pays seconds.
QUICK_CHECK_EVERY_OPEN_MAX_BYTES = 4 * 2**20
QUICK_CHECK_INTERVAL = timedelta(days=1)

# Each entry moves the schema one version up; never edit a shipped entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        kind          TEXT NOT NULL,
        command       TEXT NOT NULL DEFAULT '',
        operator      TEXT NOT NULL DEFAULT '',
        dlict_version TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        status        TEXT NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'ok', 'findings', 'error'))
    );
    CREATE INDEX runs_kind_started ON runs (kind, started_at);
    CREATE TABLE results (
        id          INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs (id),
        site        TEXT NOT NULL,
        host        TEXT NOT NULL,
        control     TEXT,
        target      TEXT,
        status      TEXT NOT NULL
                    CHECK (status IN ('pass', 'fail', 'error', 'unreachable', 'skipped')),
        evidence    TEXT NOT NULL DEFAULT '',
        observed_at TEXT NOT NULL,
        CHECK (control IS NOT NULL OR target IS NOT NULL)
    );
    CREATE INDEX results_run ON results (run_id);
    CREATE INDEX results_host_control ON results (host, control);
    """,
    """
    CREATE TABLE store_checks (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        checked_at TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE runs ADD COLUMN inventory TEXT NOT NULL DEFAULT '';
    """,
    # 4: the agents' enrolment CA (dlict.intake.ca). A token keeps only its secret's hash.
    """
    CREATE TABLE enrol_tokens (
        id            TEXT PRIMARY KEY,
        secret_sha256 TEXT NOT NULL,
        site          TEXT NOT NULL,
        host          TEXT NOT NULL,
        created_by    TEXT NOT NULL DEFAULT '',
        created_at    TEXT NOT NULL,
        expires_at    TEXT NOT NULL,
        used_at       TEXT
    );
    CREATE TABLE agent_certs (
        serial      TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        site        TEXT NOT NULL,
        host        TEXT NOT NULL,
        not_before  TEXT NOT NULL,
        not_after   TEXT NOT NULL,
        issued_at   TEXT NOT NULL,
        token_id    TEXT NOT NULL REFERENCES enrol_tokens (id)
    );
    CREATE INDEX agent_certs_site_host ON agent_certs (site, host);
    CREATE TABLE agent_revocations (
        serial     TEXT PRIMARY KEY REFERENCES agent_certs (serial),
        revoked_at TEXT NOT NULL,
        reason     TEXT NOT NULL CHECK (reason IN ('revoked', 'superseded'))
    );
    """,
    # 5: what school agents send (dlict.intake.ingest). Every record key the intake has
    # stored, so a batch sent again is stored once; metric samples and events as received;
    # the newest value of each sample series (what /metrics serves, capped per agent); and
    # each agent's state as its last batch told it.
    """
    CREATE TABLE agent_record_keys (
        key         TEXT PRIMARY KEY,
        received_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX agent_record_keys_received ON agent_record_keys (received_at);
    CREATE TABLE agent_samples (
        id          INTEGER PRIMARY KEY,
        site        TEXT NOT NULL,
        host        TEXT NOT NULL,
        name        TEXT NOT NULL,
        labels      TEXT NOT NULL,
        value       REAL NOT NULL,
        observed_at TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE INDEX agent_samples_received ON agent_samples (received_at);
    CREATE TABLE agent_series (
        site        TEXT NOT NULL,
        host        TEXT NOT NULL,
        name        TEXT NOT NULL,
        labels      TEXT NOT NULL,
        value       REAL NOT NULL,
        observed_at TEXT NOT NULL,
        PRIMARY KEY (site, host, name, labels)
    ) WITHOUT ROWID;
    CREATE TABLE agent_events (
        id          INTEGER PRIMARY KEY,
        site        TEXT NOT NULL,
        host        TEXT NOT NULL,
        type        TEXT NOT NULL,
        body        TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE INDEX agent_events_site_observed ON agent_events (site, observed_at);
    CREATE TABLE agent_state (
        site             TEXT NOT NULL,
        host             TEXT NOT NULL,
        last_seen        TEXT NOT NULL,
        clock_offset_s   REAL NOT NULL,
        outbox_records   INTEGER NOT NULL,
        dropped_results  INTEGER NOT NULL DEFAULT 0,
        dropped_events   INTEGER NOT NULL DEFAULT 0,
        dropped_samples  INTEGER NOT NULL DEFAULT 0,
        series_over_cap  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (site, host)
    ) WITHOUT ROWID;
    """,
    # 6: incidents (dlict.incidents.cases). Cases numbered per B.E. year; tasks, observables
    # (one row per kind and normalised value: de-duplicated per case), the timeline, the
    # append-only trail of every change (before/after as JSON; triggers refuse an UPDATE or
    # DELETE of it) and when each report was sent.
    """
    CREATE TABLE incident_counters (
        year_be INTEGER PRIMARY KEY,
        last    INTEGER NOT NULL
    );
    CREATE TABLE incident_cases (
        id            TEXT PRIMARY KEY,
        title         TEXT NOT NULL,
        description   TEXT NOT NULL DEFAULT '',
        reporter      TEXT NOT NULL DEFAULT '',
        owner         TEXT NOT NULL DEFAULT '',
        status        TEXT NOT NULL,
        category      TEXT NOT NULL,
        threat_level  TEXT NOT NULL,
        personal_data INTEGER NOT NULL DEFAULT 0,
        source        TEXT NOT NULL,
        group_key     TEXT NOT NULL DEFAULT '',
        sites         TEXT NOT NULL DEFAULT '[]',
        hosts         TEXT NOT NULL DEFAULT '[]',
        aware_at      TEXT NOT NULL,
        opened_at     TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        closed_at     TEXT
    );
    CREATE INDEX incident_cases_group ON incident_cases (group_key, status);
    CREATE TABLE incident_tasks (
        case_id    TEXT NOT NULL REFERENCES incident_cases (id),
        number     INTEGER NOT NULL,
        title      TEXT NOT NULL,
        state      TEXT NOT NULL,
        owner      TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (case_id, number)
    ) WITHOUT ROWID;
    CREATE TABLE incident_observables (
        case_id  TEXT NOT NULL REFERENCES incident_cases (id),
        kind     TEXT NOT NULL,
        value    TEXT NOT NULL,
        note     TEXT NOT NULL DEFAULT '',
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (case_id, kind, value)
    ) WITHOUT ROWID;
    CREATE TABLE incident_timeline (
        id      INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES incident_cases (id),
        at      TEXT NOT NULL,
        who     TEXT NOT NULL,
        kind    TEXT NOT NULL,
        text    TEXT NOT NULL
    );
    CREATE INDEX incident_timeline_case ON incident_timeline (case_id, at);
    CREATE TABLE incident_trail (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL REFERENCES incident_cases (id),
        at      TEXT NOT NULL,
        who     TEXT NOT NULL,
        action  TEXT NOT NULL,
        before  TEXT NOT NULL DEFAULT '{}',
        after   TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX incident_trail_case ON incident_trail (case_id, seq);
    CREATE TRIGGER incident_trail_append_only_update BEFORE UPDATE ON incident_trail
    BEGIN
        SELECT RAISE(ABORT, 'the incident trail is append-only');
    END;
    CREATE TRIGGER incident_trail_append_only_delete BEFORE DELETE ON incident_trail
    BEGIN
        SELECT RAISE(ABORT, 'the incident trail is append-only');
    END;
    CREATE TABLE incident_reports (
        case_id TEXT NOT NULL REFERENCES incident_cases (id),
        kind    TEXT NOT NULL,
        met_at  TEXT NOT NULL,
        who     TEXT NOT NULL,
        PRIMARY KEY (case_id, kind)
    ) WITHOUT ROWID;
    """,
    # 7: access requests (dlict.access). The national ID only masked and as an HMAC under the
    # office's key (kept outside the data dir); each step's who and when; every change in a trail.
    """
    CREATE TABLE access_requests (
        id             TEXT PRIMARY KEY,
        be_year        INTEGER NOT NULL,
        number         INTEGER NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('received', 'checked', 'approved',
                                                       'rejected', 'revoked', 'expired')),
        full_name      TEXT NOT NULL,
        id_masked      TEXT NOT NULL,
        id_hmac        TEXT NOT NULL,
        id_key         TEXT NOT NULL,
        position       TEXT NOT NULL DEFAULT '',
        unit           TEXT NOT NULL DEFAULT '',
        phone          TEXT NOT NULL DEFAULT '',
        email          TEXT NOT NULL DEFAULT '',
        login          TEXT NOT NULL DEFAULT '',
        systems        TEXT NOT NULL,
        hosts          TEXT NOT NULL,
        purpose        TEXT NOT NULL DEFAULT '',
        duration_days  INTEGER NOT NULL,
        received_at    TEXT NOT NULL,
        received_by    TEXT NOT NULL DEFAULT '',
        checked_at     TEXT,
        checked_by     TEXT,
        decided_at     TEXT,
        decided_by     TEXT,
        note           TEXT NOT NULL DEFAULT '',
        expires        TEXT,
        ended_at       TEXT,
        ended_by       TEXT,
        UNIQUE (be_year, number)
    );
    CREATE INDEX access_requests_hmac ON access_requests (id_hmac);
    CREATE TABLE access_trail (
        id         INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES access_requests (id),
        at         TEXT NOT NULL,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX access_trail_request ON access_trail (request_id);
    """,
    # What a long run set out to do (an audit's areas and host pattern), so that an
    # interrupted one can be finished by `dlict audit --resume`.
    """
    CREATE TABLE run_plans (
        run_id       INTEGER PRIMARY KEY REFERENCES runs (id),
        plan         TEXT NOT NULL,
        interrupted  INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1))
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FINDINGS = "findings"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    kind: str
    command: str
    operator: str
    dlict_version: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    inventory: str = ""  # the inventory the run read, when it read one


@dataclass(frozen=True, slots=True)
class EnrolTokenRecord:
    """An enrolment token as the office keeps it: the secret's SHA-256, never the secret."""

    id: str
    secret_sha256: str
    site: str
    host: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    created_by: str = ""


@dataclass(frozen=True, slots=True)
class AgentCertRecord:
    """A certificate the enrolment CA issued to an agent, and its revocation if any."""

    serial: str  # hex
    fingerprint: str  # sha256 hex of the certificate's DER
    site: str
    host: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    token_id: str
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


def _create_private_file(path: Path) -> bool:
    """Create the store file 0640 (with its directory 0750) if missing; True if created now.

    Evidence is for the office's admins and auditors only: 0640 from the first byte.
    """
    try:
        make_private_dirs(path.parent)
    except OSError as exc:
        raise os_failure(path.parent, "create the data directory", exc) from exc
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, EVIDENCE_MODE)
    except FileExistsError:
        _require_regular_file(path)
        return False
    except OSError as exc:
        raise os_failure(path, "create the evidence store", exc) from exc
    os.close(fd)
    return True


def _require_regular_file(path: Path) -> None:
    """Refuse a directory, a device or a link to nowhere where the store should be (exit 2):
    SQLite would fail on the first, and create the link's target with its own mode."""
    try:
        is_file = stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        raise InputError(f"{path}: cannot open the evidence store: it is a symbolic link "
                         "to a missing file") from None
    except OSError as exc:
        raise os_failure(path, "open the evidence store", exc) from exc
    if not is_file:
        raise InputError(f"{path}: cannot open the evidence store: it is not a regular file")


def _remove_if_still_empty(path: Path) -> None:
    # Only an empty file: another process may have started filling a store we created.
    with suppress(OSError):
        if path.stat().st_size == 0:
            path.unlink()


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    # Switching the journal mode needs a moment alone with the file, and SQLite answers
    # "database is locked" at once instead of waiting while another process holds it: retry.
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _first_problem(rows: list[str]) -> str:
    """One line out of quick_check's answer: its first finding, and how many more."""
    lines = [line.strip() for row in rows for line in str(row).splitlines()
             if line.strip() and not line.startswith("***")]
    if not lines:
        return "quick_check failed"
    more = len(lines) - 1
    return f"{lines[0]}, and {more} more problem{'s' if more > 1 else ''}" if more else lines[0]


def _why_not_writable(path: Path) -> str | None:
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return "the file system is mounted read-only"
    except OSError:
        return None
    # access() also answers no for root when the file or its directory is immutable
    for target in (path, path.parent):
        if target.exists() and not os.access(target, os.W_OK):
            return (f"{'the file' if target == path else 'its directory'} is not writable "
                    "(permissions or immutable attribute)")
    return None


def _damaged(path: Path, doing: str, detail: str) -> StoreError:
    return StoreError(f"{path}: cannot {doing}: the file is damaged ({detail}); nothing was "
                      "written to it: restore it from a backup")


def _failure(path: Path, exc: sqlite3.Error, doing: str, busy_timeout_s: float
             ) -> StoreError | None:
    """One clear line for what the file or the disk did to SQLite; None for anything else
    (a bug of dlict's must stay visible as one)."""
    code = primary_code(exc)
    where = f"{path}: cannot {doing}"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return _damaged(path, doing, str(exc))
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and disk_is_full(path)):
        return StoreError(f"{where}: no space left on the device (disk or quota full); "
                          "nothing was written")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        cause = _why_not_writable(path) or ("the file is read-only"
                                             if code == sqlite3.SQLITE_READONLY else "")
        return StoreError(f"{where}: {cause} ({exc})" if cause else f"{where}: {exc}")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(f"{where}: another process kept it locked for more than "
                          f"{busy_timeout_s:g} s")
    if code == sqlite3.SQLITE_IOERR:
        return StoreError(f"{where}: input/output error from the disk ({exc})")
    return None


class EvidenceStore:
    """Runs and their results, kept for as long as the office needs to show them."""

    def __init__(self, conn: sqlite3.Connection, path: Path,
                 busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self._conn = conn
        self.path = path
        self._busy_timeout_s = busy_timeout_s

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> EvidenceStore:
        """Open (creating and migrating as needed) the store at ``path``.

        A store that may hold damage is checked (see ``QUICK_CHECK_*``) before anything is
        written to it; a store created by this call and left empty by a failure is removed.

        Arguments:
            path: the SQLite file; its directory is created 0750 if missing.
            busy_timeout_s: how long to wait for another process's write lock.

        Raises:
            StoreError: the file is damaged, not a dlict store, from a newer dlict, locked for
                longer than ``busy_timeout_s``, or on a full or read-only disk.
            InputError: the data dir or the store path names the wrong kind of thing (a file
                where a directory should be, a directory or a link to nowhere as the store).
            OperationalError: the data directory or the file cannot be created.
        """
        created = _create_private_file(path)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
            store = cls(conn, path, busy_timeout_s)
            store._prepare(may_hold_damage=not created)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if created:
                _remove_if_still_empty(path)
            if isinstance(exc, sqlite3.DatabaseError):
                # An open fails for the file's or the disk's sake, never for a bug of ours.
                failure = _failure(path, exc, "open the evidence store", busy_timeout_s)
                raise (failure or StoreError(f"{path}: cannot open the evidence store: {exc}")
                       ) from exc
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _prepare(self, may_hold_damage: bool) -> None:
        # The check comes first: even switching to WAL may write the header of the file.
        checked = self._check_if_due() if may_hold_damage else False
        _switch_to_wal(self._conn, self._busy_timeout_s)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        if checked and self._size() > QUICK_CHECK_EVERY_OPEN_MAX_BYTES:
            self._record_check()

    def _size(self) -> int:
        return self.path.stat().st_size

    def _check_if_due(self) -> bool:
        """Run quick_check if the store is small or its last check is old; True if it ran.

        Raises:
            StoreError: the store is damaged.
        """
        if self._size() > QUICK_CHECK_EVERY_OPEN_MAX_BYTES and not self._periodic_check_due():
            return False
        problems = self._quick_check()
        if problems:
            raise _damaged(self.path, "open the evidence store", _first_problem(problems))
        return True

    def _periodic_check_due(self) -> bool:
        has_table = self._conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'store_checks'"
        ).fetchone()
        if has_table is None:
            return True
        (last,) = self._conn.execute("SELECT max(checked_at) FROM store_checks").fetchone()
        if last is None:
            return True
        try:
            return utc_now() - datetime.fromisoformat(last) >= QUICK_CHECK_INTERVAL
        except (TypeError, ValueError):
            return True

    def _quick_check(self) -> list[str]:
        """quick_check's findings; empty when the store is sound."""
        rows = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    def _record_check(self) -> None:
        try:
            self._conn.execute(
                "INSERT INTO store_checks (kind, checked_at) VALUES ('quick_check', ?)",
                (utc_now().isoformat(),),
            )
        except sqlite3.OperationalError as exc:
            if primary_code(exc) != sqlite3.SQLITE_READONLY:
                raise
            # a read-only store can still be read; it is checked again on the next open

    def _failure(self, exc: sqlite3.Error, doing: str) -> StoreError | None:
        problems: list[str] = []
        if primary_code(exc) == sqlite3.SQLITE_IOERR and not disk_is_full(self.path):
            problems = self._quick_check_or_damage()  # a damaged file or a bad disk?
        if problems:
            return _damaged(self.path, doing, _first_problem(problems))
        return _failure(self.path, exc, doing, self._busy_timeout_s)

    def _quick_check_or_damage(self) -> list[str]:
        try:
            return self._quick_check()
        except sqlite3.Error as exc:
            return [str(exc)]

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.Error as exc:
            failure = self._failure(exc, "read the evidence store")
            if failure is None:
                raise
            raise failure from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        except sqlite3.Error as exc:
            failure = self._failure(exc, "write to the evidence store")
            if failure is None:
                raise
            raise failure from exc

    def _roll_back(self) -> None:
        # After SQLITE_FULL or an I/O error SQLite may have rolled back already.
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _migrate(self) -> None:
        if self.schema_version == SCHEMA_VERSION:
            return  # up to date: a reader needs no write lock
        with self._write() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this dlict "
                    f"understands ({SCHEMA_VERSION}); upgrade dlict"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        with self._reading() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
        return int(version)

    def start_run(self, kind: str, command: str = "", inventory: str = "") -> int:
        """Record that a run of ``kind`` (audit, apply, facts, …) starts now; returns its id.

        Commands record runs through ``dlict.runs``, which also judges them."""
        with self._write() as conn:
            return _insert_run(conn, kind, command, inventory)

    def add_results(self, run_id: int, results: Iterable[Result]) -> int:
        """Store a batch of results for a run in one transaction; returns how many."""
        with self._write() as conn:
            return _insert_results(conn, run_id, results)

    def finish_run(self, run_id: int, status: RunStatus) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                (status.value, utc_now().isoformat(), run_id),
            )

    def reopen_run(self, run_id: int) -> None:
        """Mark an interrupted run running again (``dlict audit --resume`` finishes it)."""
        with self._write() as conn:
            conn.execute("UPDATE runs SET status = ?, finished_at = NULL WHERE id = ?",
                         (RunStatus.RUNNING.value, run_id))
            conn.execute("UPDATE run_plans SET interrupted = 0 WHERE run_id = ?", (run_id,))

    def mark_interrupted(self, run_id: int) -> None:
        """Note that run ``run_id`` (one that kept a plan) was stopped by SIGINT or SIGTERM:
        it is an error run whose stored results may be completed by resuming it."""
        with self._write() as conn:
            conn.execute("UPDATE run_plans SET interrupted = 1 WHERE run_id = ?", (run_id,))

    def interrupted(self, run_id: int) -> bool:
        """Whether run ``run_id`` was interrupted (and not resumed since)."""
        with self._reading() as conn:
            row = conn.execute("SELECT interrupted FROM run_plans WHERE run_id = ?",
                               (run_id,)).fetchone()
        return bool(row and row[0])

    def set_run_plan(self, run_id: int, plan: Mapping[str, Any]) -> None:
        """Keep what run ``run_id`` set out to do (JSON-able), for resuming it."""
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO run_plans (run_id, plan) VALUES (?, ?)",
                         (run_id, json.dumps(plan, sort_keys=True)))

    def run_plan(self, run_id: int) -> dict[str, Any] | None:
        """What run ``run_id`` set out to do, if it kept a plan."""
        with self._reading() as conn:
            row = conn.execute("SELECT plan FROM run_plans WHERE run_id = ?",
                               (run_id,)).fetchone()
        if row is None:
            return None
        plan = json.loads(row[0])
        return plan if isinstance(plan, dict) else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction for a module that keeps its own tables beside the runs (the
        intake): what it writes, and runs added with ``insert_finished_run``, commit together
        or not at all. Failures of the file or the disk become ``StoreError`` as elsewhere."""
        with self._write() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for such a module's reads of its own tables."""
        with self._reading() as conn:
            yield conn

    def run(self, run_id: int) -> Run:
        """The run numbered ``run_id``.

        Raises:
            RunNotFoundError: the store holds no such run.
        """
        with self._reading() as conn:
            row = conn.execute(_RUN_SELECT + " WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"no run {run_id} in {self.path}")
        return _run_from_row(row)

    def runs(self, kind: str | None = None, limit: int = 20) -> list[Run]:
        """The most recent runs first, of one kind or of all."""
        with self._reading() as conn:
            if kind is None:
                rows = conn.execute(_RUN_SELECT + " ORDER BY id DESC LIMIT ?", (limit,))
            else:
                rows = conn.execute(
                    _RUN_SELECT + " WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit)
                )
            return [_run_from_row(row) for row in rows]

    def results(self, run_id: int) -> list[Result]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT site, host, status, control, target, evidence, observed_at"
                " FROM results WHERE run_id = ? ORDER BY id",
                (run_id,),
            )
            return [
                Result(site=s, host=h, status=Status(st), control=c, target=t, evidence=e,
                       observed_at=datetime.fromisoformat(o))
                for s, h, st, c, t, e, o in rows
            ]

    def count_results(self) -> int:
        with self._reading() as conn:
            (count,) = conn.execute("SELECT count(*) FROM results").fetchone()
        return int(count)

    def add_enrol_token(self, token: EnrolTokenRecord) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO enrol_tokens (id, secret_sha256, site, host, created_by,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token.id, token.secret_sha256, token.site, token.host,
                 token.created_by or _operator(),
                 _stamp(token.created_at), _stamp(token.expires_at)),
            )

    def enrol_token(self, token_id: str) -> EnrolTokenRecord | None:
        with self._reading() as conn:
            row = conn.execute(_ENROLMENT_SELECT + " WHERE id = ?", (token_id,)).fetchone()
        return None if row is None else _token_from_row(row)

    def enrol_tokens(self) -> list[EnrolTokenRecord]:
        with self._reading() as conn:
            rows = conn.execute(_ENROLMENT_SELECT + " ORDER BY created_at, id").fetchall()
        return [_token_from_row(row) for row in rows]

    def record_enrolment(self, cert: AgentCertRecord, now: datetime) -> bool:
        """Use up the certificate's token and record the certificate, in one transaction.

        Earlier certificates of the same site and host are revoked as superseded: one agent
        answers to a name at a time.

        Returns:
            False, recording nothing, when the token is used, expired, unknown or was made
            for another site or host (two agents racing with one token: one wins).
        """
        with self._write() as conn:
            used = conn.execute(
                "UPDATE enrol_tokens SET used_at = ? WHERE id = ? AND site = ? AND host = ?"
                " AND used_at IS NULL AND expires_at > ?",
                (_stamp(now), cert.token_id, cert.site, cert.host, _stamp(now)),
            ).rowcount
            if used != 1:
                return False
            _revoke_live_certs(conn, cert.site, cert.host, now, "superseded")
            conn.execute(
                "INSERT INTO agent_certs (serial, fingerprint, site, host, not_before,"
                " not_after, issued_at, token_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (cert.serial, cert.fingerprint, cert.site, cert.host, _stamp(cert.not_before),
                 _stamp(cert.not_after), _stamp(cert.issued_at), cert.token_id),
            )
        return True

    def agent_cert(self, fingerprint: str) -> AgentCertRecord | None:
        with self._reading() as conn:
            row = conn.execute(_CERT_SELECT + " WHERE c.fingerprint = ?",
                               (fingerprint,)).fetchone()
        return None if row is None else _cert_from_row(row)

    def agent_certs(self) -> list[AgentCertRecord]:
        with self._reading() as conn:
            rows = conn.execute(_CERT_SELECT + " ORDER BY c.site, c.host, c.issued_at").fetchall()
        return [_cert_from_row(row) for row in rows]

    def revoke_agent(self, site: str, host: str, now: datetime) -> tuple[int, int]:
        """Revoke every live certificate of ``site``/``host`` and void its unused tokens.

        Returns:
            (certificates revoked, tokens voided)
        """
        with self._write() as conn:
            certs = _revoke_live_certs(conn, site, host, now, "revoked")
            tokens = conn.execute(
                "UPDATE enrol_tokens SET used_at = ? WHERE site = ? AND host = ?"
                " AND used_at IS NULL", (_stamp(now), site, host)).rowcount
        return certs, tokens

    def integrity_ok(self) -> bool:
        with self._reading() as conn:
            (answer,) = conn.execute("PRAGMA integrity_check").fetchone()
        return bool(answer == "ok")


def _statements(script: str) -> Iterator[str]:
    """The script's statements one by one; a trigger's body (``BEGIN …; END``) stays whole."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""
    if pending.strip(" \n;"):
        yield pending


def _insert_run(conn: sqlite3.Connection, kind: str, command: str, inventory: str,
                status: RunStatus = RunStatus.RUNNING) -> int:
    now = utc_now().isoformat()
    cur = conn.execute(
        "INSERT INTO runs (kind, command, operator, dlict_version, started_at, inventory,"
        " status, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, command, _operator(), __version__, now, inventory, status.value,
         None if status is RunStatus.RUNNING else now),
    )
    return int(cur.lastrowid or 0)


def _insert_results(conn: sqlite3.Connection, run_id: int, results: Iterable[Result]) -> int:
    rows = [
        (run_id, r.site, r.host, r.control, r.target, r.status.value, r.evidence,
         r.observed_at.isoformat())
        for r in results
    ]
    conn.executemany(
        "INSERT INTO results (run_id, site, host, control, target, status, evidence,"
        " observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def insert_finished_run(conn: sqlite3.Connection, kind: str, results: Iterable[Result],
                        status: RunStatus, *, command: str = "") -> int:
    """Inside ``EvidenceStore.transaction``: a run that has already finished with
    ``results`` (judged ``status`` by the caller); returns its id."""
    run_id = _insert_run(conn, kind, command, "", status)
    _insert_results(conn, run_id, results)
    return run_id


_RUN_SELECT = (
    "SELECT id, kind, command, operator, dlict_version, started_at, finished_at, status,"
    " inventory FROM runs"
)


def _run_from_row(row: tuple[int, str, str, str, str, str, str | None, str, str]) -> Run:
    rid, kind, command, operator, version, started, finished, status, inventory = row
    return Run(
        id=rid,
        kind=kind,
        command=command,
        operator=operator,
        dlict_version=version,
        started_at=datetime.fromisoformat(started),
        finished_at=datetime.fromisoformat(finished) if finished else None,
        status=RunStatus(status),
        inventory=inventory,
    )


def _stamp(moment: datetime) -> str:
    # One fixed width, so that SQLite compares the texts as it would the times.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


_ENROLMENT_SELECT = ("SELECT id, secret_sha256, site, host, created_at, expires_at, used_at,"
                     " created_by FROM enrol_tokens")
_CERT_SELECT = (
    "SELECT c.serial, c.fingerprint, c.site, c.host, c.not_before, c.not_after, c.issued_at,"
    " c.token_id, r.revoked_at, r.reason"
    " FROM agent_certs c LEFT JOIN agent_revocations r ON r.serial = c.serial"
)


def _maybe_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _token_from_row(row: tuple[str, str, str, str, str, str, str | None, str]
                    ) -> EnrolTokenRecord:
    tid, digest, site, host, created, expires, used, created_by = row
    return EnrolTokenRecord(id=tid, secret_sha256=digest, site=site, host=host,
                            created_at=datetime.fromisoformat(created),
                            expires_at=datetime.fromisoformat(expires),
                            used_at=_maybe_time(used), created_by=created_by)


def _cert_from_row(row: tuple[str, str, str, str, str, str, str, str, str | None, str | None]
                   ) -> AgentCertRecord:
    serial, fingerprint, site, host, not_before, not_after, issued, token_id, revoked, why = row
    return AgentCertRecord(serial=serial, fingerprint=fingerprint, site=site, host=host,
                           not_before=datetime.fromisoformat(not_before),
                           not_after=datetime.fromisoformat(not_after),
                           issued_at=datetime.fromisoformat(issued), token_id=token_id,
                           revoked_at=_maybe_time(revoked), revoke_reason=why)


def _revoke_live_certs(conn: sqlite3.Connection, site: str, host: str, now: datetime,
                       reason: str) -> int:
    return conn.execute(
        "INSERT INTO agent_revocations (serial, revoked_at, reason)"
        " SELECT serial, ?, ? FROM agent_certs WHERE site = ? AND host = ?"
        " AND serial NOT IN (SELECT serial FROM agent_revocations)",
        (_stamp(now), reason, site, host),
    ).rowcount


def operator() -> str:
    """Who runs this process (the login behind sudo if any): what trails record."""
    return _operator()


def _operator() -> str:
    """Who ran it: the login behind sudo if any, for the audit trail."""
    return os.environ.get("SUDO_USER") or getpass.getuser()
