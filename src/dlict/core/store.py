"""The evidence store: SQLite in WAL mode, versioned migrations, a small typed API.

Several dlict processes may write at once (a cron audit while an admin runs another): every
write is one ``BEGIN IMMEDIATE`` transaction with a generous busy timeout, so writers queue
instead of failing, and a crash leaves either the whole batch or none of it.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from dlict import __version__
from dlict.core.clock import utc_now
from dlict.core.errors import StoreError
from dlict.core.results import Result, Status

BUSY_TIMEOUT_S = 60.0

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


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    if not path.exists():
        # Evidence is for the office's admins and auditors only: 0640 from the first byte.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o640))
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    _switch_to_wal(conn)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    # Switching the journal mode needs a moment alone with the file, and SQLite answers
    # "database is locked" at once instead of waiting while another process holds it: retry.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class EvidenceStore:
    """Runs and their results, kept for as long as the office needs to show them."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> EvidenceStore:
        """Open (creating and migrating as needed) the store at ``path``.

        Raises:
            StoreError: the file is not a dlict store, is from a newer dlict, or cannot be opened.
        """
        try:
            conn = _connect(path)
            store = cls(conn, path)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the evidence store: {exc}") from exc
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

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this dlict "
                    f"understands ({SCHEMA_VERSION}); upgrade dlict"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        (version,) = self._conn.execute("PRAGMA user_version").fetchone()
        return int(version)

    def start_run(self, kind: str, command: str = "") -> int:
        """Record that a run of ``kind`` (audit, apply, facts, …) starts now; returns its id."""
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (kind, command, operator, dlict_version, started_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (kind, command, _operator(), __version__, utc_now().isoformat()),
            )
            return int(cur.lastrowid or 0)

    def add_results(self, run_id: int, results: Iterable[Result]) -> int:
        """Store a batch of results for a run in one transaction; returns how many."""
        rows = [
            (run_id, r.site, r.host, r.control, r.target, r.status.value, r.evidence,
             r.observed_at.isoformat())
            for r in results
        ]
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO results (run_id, site, host, control, target, status, evidence,"
                " observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def finish_run(self, run_id: int, status: RunStatus) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                (status.value, utc_now().isoformat(), run_id),
            )

    def run(self, run_id: int) -> Run:
        row = self._conn.execute(_RUN_SELECT + " WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no run with id {run_id}")
        return _run_from_row(row)

    def runs(self, kind: str | None = None, limit: int = 20) -> list[Run]:
        """The most recent runs first, of one kind or of all."""
        if kind is None:
            rows = self._conn.execute(_RUN_SELECT + " ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._conn.execute(
                _RUN_SELECT + " WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit)
            )
        return [_run_from_row(row) for row in rows]

    def results(self, run_id: int) -> list[Result]:
        rows = self._conn.execute(
            "SELECT site, host, status, control, target, evidence, observed_at FROM results"
            " WHERE run_id = ? ORDER BY id",
            (run_id,),
        )
        return [
            Result(site=s, host=h, status=Status(st), control=c, target=t, evidence=e,
                   observed_at=datetime.fromisoformat(o))
            for s, h, st, c, t, e, o in rows
        ]

    def count_results(self) -> int:
        (count,) = self._conn.execute("SELECT count(*) FROM results").fetchone()
        return int(count)

    def integrity_ok(self) -> bool:
        (answer,) = self._conn.execute("PRAGMA integrity_check").fetchone()
        return bool(answer == "ok")


_RUN_SELECT = (
    "SELECT id, kind, command, operator, dlict_version, started_at, finished_at, status FROM runs"
)


def _run_from_row(row: tuple[int, str, str, str, str, str, str | None, str]) -> Run:
    rid, kind, command, operator, version, started, finished, status = row
    return Run(
        id=rid,
        kind=kind,
        command=command,
        operator=operator,
        dlict_version=version,
        started_at=datetime.fromisoformat(started),
        finished_at=datetime.fromisoformat(finished) if finished else None,
        status=RunStatus(status),
    )


def _operator() -> str:
    """Who ran it: the login behind sudo if any, for the audit trail."""
    return os.environ.get("SUDO_USER") or getpass.getuser()
