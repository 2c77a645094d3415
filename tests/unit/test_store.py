"""The evidence store: migrations, round trip of the result model, file permissions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dlict.core.errors import RunNotFoundError, StoreError
from dlict.core.results import Result, Status
from dlict.core.store import SCHEMA_VERSION, EvidenceStore, RunStatus


def test_round_trip_of_a_run_and_its_results(tmp_path: Path) -> None:
    bangkok = timezone(timedelta(hours=7))
    observed = datetime(2026, 11, 21, 9, 30, tzinfo=bangkok)
    results = [
        Result(site="4401010001", host="s4401010001-srv", control="FW-01", status=Status.PASS,
               evidence="policy drop", observed_at=observed),
        Result(site="office", host="office-log", target="ssh", status=Status.UNREACHABLE,
               evidence="timed out"),
    ]
    with EvidenceStore.open(tmp_path / "e.sqlite") as store:
        run_id = store.start_run("audit", "dlict audit")
        assert store.add_results(run_id, results) == 2
        store.finish_run(run_id, RunStatus.FINDINGS)
        run = store.run(run_id)
        back = store.results(run_id)
    assert run.kind == "audit" and run.status is RunStatus.FINDINGS and run.finished_at
    assert back == results
    assert back[0].observed_at.tzinfo == UTC  # stored as UTC
    assert back[0].observed_at == observed


def test_store_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "evidence.sqlite"
    with EvidenceStore.open(path) as store:
        store.start_run("facts")
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.parent.stat().st_mode & 0o777 == 0o750


def test_migrations_bring_the_schema_up_once(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    with EvidenceStore.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.start_run("facts")
    with EvidenceStore.open(path) as store:  # reopening migrates nothing and keeps the data
        assert store.schema_version == SCHEMA_VERSION
        assert len(store.runs()) == 1


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    EvidenceStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this dlict"):
        EvidenceStore.open(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    path.write_bytes(b"this is a text file, not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the evidence store"):
        EvidenceStore.open(path)


def test_a_result_names_a_control_or_a_target() -> None:
    with pytest.raises(ValueError, match="names a control or a target"):
        Result(site="office", host="h", status=Status.PASS)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        Result(site="office", host="h", control="FW-01", status=Status.PASS,
               observed_at=datetime(2026, 1, 1))


def test_runs_filter_by_kind_newest_first(tmp_path: Path) -> None:
    with EvidenceStore.open(tmp_path / "e.sqlite") as store:
        a = store.start_run("facts")
        b = store.start_run("audit")
        c = store.start_run("facts")
        assert [r.id for r in store.runs("facts")] == [c, a]
        assert [r.id for r in store.runs()] == [c, b, a]
        with pytest.raises(RunNotFoundError, match="no run 99 in "):
            store.run(99)
