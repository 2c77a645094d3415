"""Store one agent batch exactly once: its new records and the agent's state, in one transaction.

An agent sends each record until the office acknowledges it (at-least-once), so the same
record may arrive twice: after a lost answer, a restart of either side or an overlapping
batch. Every record key the intake has stored is kept (``agent_record_keys``); a batch's keys
are looked up and inserted in the same ``BEGIN IMMEDIATE`` transaction as its results,
samples, events and the agent's state, so a key is marked stored exactly when its record is.
A crash at any moment leaves the whole batch or none of it.

Results become one run of kind ``agent`` per batch (judged like any run); samples keep their
series name, labels and time, and the newest value of each series is kept apart for /metrics,
at most ``MAX_SERIES_PER_AGENT`` series an agent (the rest are stored and counted, not
served). Keys and samples older than the retention are pruned a bounded slice per batch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dlict.agent.records import Kind, Record, result_of
from dlict.agent.wire import BatchHeader
from dlict.core.clock import utc_now
from dlict.core.results import Result
from dlict.core.store import EvidenceStore, insert_finished_run
from dlict.intake.ca import AgentIdentity, Refused
from dlict.runs import judge

RUN_KIND = "agent"
RETENTION = timedelta(days=30)
PRUNE_ROWS_PER_BATCH = 2_000  # per table; more than a batch adds, so the backlog shrinks
MAX_SERIES_PER_AGENT = 1_000
_LOOKUP_CHUNK = 500  # keys per IN (...) query, well under SQLite's variable limit


@dataclass(frozen=True, slots=True)
class Ingested:
    """What a batch added: records stored now, and records the office already held."""

    accepted: int
    duplicates: int
    # what the incident intake reads (``dlict.incidents.findings``); not part of the count
    run_id: int | None = field(default=None, compare=False)  # the batch's run of kind agent
    results: tuple[Result, ...] = field(default=(), compare=False)


def check_site(identity: AgentIdentity, header: BatchHeader, records: Iterable[Record]) -> None:
    """Refuse a batch that speaks for another site than the agent's certificate names.

    Raises:
        Refused: the header or a record (the first one, by its line) names another site.
    """
    if header.site != identity.site:
        raise Refused(f"the batch header names site {header.site}; this agent's certificate "
                      f"is for site {identity.site}")
    for line, record in enumerate(records, start=2):
        if record.site != identity.site:
            raise Refused(f"batch line {line}: a record for site {record.site}; this agent's "
                          f"certificate is for site {identity.site}")


def ingest(store: EvidenceStore, identity: AgentIdentity, header: BatchHeader,
           records: Sequence[Record], *, now: datetime | None = None,
           retention: timedelta = RETENTION) -> Ingested:
    """Store the records of one batch not stored before, and the agent's state, atomically.

    Arguments:
        identity: the agent as its verified client certificate names it.
        header, records: the decoded batch (``dlict.agent.wire.decode_batch``).
        now: the time the batch was received (the clock offset is measured against it).
        retention: record keys and samples received longer ago are pruned.

    Returns:
        How many records were new and how many the office already held.

    Raises:
        Refused: the batch names another site than the certificate; nothing is stored.
        StoreError: the store could not be written; nothing is stored.
    """
    check_site(identity, header, records)
    received = now or utc_now()
    with store.transaction() as conn:
        fresh = _new_records(conn, records)
        stamp = received.isoformat()
        conn.executemany("INSERT OR IGNORE INTO agent_record_keys (key, received_at) VALUES (?, ?)",
                         [(record.key, stamp) for record in fresh])
        run_id, results = _store_results(conn, identity, fresh)
        _store_events(conn, fresh, stamp)
        over_cap = _store_samples(conn, identity, fresh, stamp)
        _store_state(conn, identity, header, received, over_cap)
        _prune(conn, (received - retention).isoformat())
    return Ingested(accepted=len(fresh), duplicates=len(records) - len(fresh), run_id=run_id,
                    results=results)


def _new_records(conn: sqlite3.Connection, records: Sequence[Record]) -> list[Record]:
    """The records whose key the store does not hold, each key once (a batch may repeat one)."""
    by_key = {record.key: record for record in reversed(records)}  # the first of a key wins
    keys = list(by_key)
    held: set[str] = set()
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start:start + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        held.update(row[0] for row in conn.execute(
            f"SELECT key FROM agent_record_keys WHERE key IN ({marks})", chunk))  # noqa: S608
    seen: set[str] = set()
    fresh = []
    for record in records:
        if record.key not in held and record.key not in seen:
            seen.add(record.key)
            fresh.append(record)
    return fresh


def _store_results(conn: sqlite3.Connection, identity: AgentIdentity,
                   records: Iterable[Record]) -> tuple[int | None, tuple[Result, ...]]:
    results = tuple(result_of(record) for record in records if record.kind is Kind.RESULT)
    if not results:
        return None, ()
    return insert_finished_run(conn, RUN_KIND, results, judge(results),
                               command=f"agent {identity.site}/{identity.host}"), results


def _store_events(conn: sqlite3.Connection, records: Iterable[Record], stamp: str) -> None:
    conn.executemany(
        "INSERT INTO agent_events (site, host, type, body, observed_at, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(r.site, r.host, str(r.body.get("type", "")), _json(r.body), r.created_at.isoformat(),
          stamp) for r in records if r.kind is Kind.EVENT])


def _series_key(record: Record) -> tuple[str, str]:
    return str(record.body["name"]), _json(record.body.get("labels", {}))


def _store_samples(conn: sqlite3.Connection, identity: AgentIdentity,
                   records: Iterable[Record], stamp: str) -> int:
    """Insert the samples and keep each series' newest value; returns how many samples fell
    on series over the agent's cap (stored, not served)."""
    samples = [r for r in records if r.kind is Kind.SAMPLE]
    if not samples:
        return 0
    conn.executemany(
        "INSERT INTO agent_samples (site, host, name, labels, value, observed_at, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(r.site, r.host, *_series_key(r), float(r.body["value"]), r.created_at.isoformat(),
          stamp) for r in samples])
    newest: dict[tuple[str, str], Record] = {}
    for record in samples:
        key = _series_key(record)
        if key not in newest or record.created_at >= newest[key].created_at:
            newest[key] = record
    known = {(name, labels) for name, labels in conn.execute(
        "SELECT name, labels FROM agent_series WHERE site = ? AND host = ?",
        (identity.site, identity.host))}
    room = max(0, MAX_SERIES_PER_AGENT - len(known))
    new_series = [key for key in newest if key not in known]
    refused = set(new_series[room:])
    conn.executemany(
        "INSERT INTO agent_series (site, host, name, labels, value, observed_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, host, name, labels) DO UPDATE SET"
        " value = excluded.value, observed_at = excluded.observed_at"
        " WHERE excluded.observed_at >= agent_series.observed_at",
        [(identity.site, identity.host, *key, float(record.body["value"]),
          record.created_at.isoformat()) for key, record in newest.items()
         if key not in refused])
    return sum(1 for record in samples if _series_key(record) in refused)


def _store_state(conn: sqlite3.Connection, identity: AgentIdentity, header: BatchHeader,
                 received: datetime, over_cap: int) -> None:
    dropped = header.dropped
    conn.execute(
        "INSERT INTO agent_state (site, host, last_seen, clock_offset_s, outbox_records,"
        " dropped_results, dropped_events, dropped_samples, series_over_cap)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, host) DO UPDATE SET"
        " last_seen = excluded.last_seen, clock_offset_s = excluded.clock_offset_s,"
        " outbox_records = excluded.outbox_records, dropped_results = excluded.dropped_results,"
        " dropped_events = excluded.dropped_events, dropped_samples = excluded.dropped_samples,"
        " series_over_cap = agent_state.series_over_cap + excluded.series_over_cap",
        (identity.site, identity.host, received.isoformat(),
         (received - header.sent_at).total_seconds(), header.outbox_records,
         dropped.get(Kind.RESULT.value, 0), dropped.get(Kind.EVENT.value, 0),
         dropped.get(Kind.SAMPLE.value, 0), over_cap))


def _prune(conn: sqlite3.Connection, before: str) -> None:
    """Forget keys and samples received before ``before``, a bounded slice per batch."""
    conn.execute("DELETE FROM agent_record_keys WHERE key IN (SELECT key FROM agent_record_keys"
                 " WHERE received_at < ? LIMIT ?)", (before, PRUNE_ROWS_PER_BATCH))
    conn.execute("DELETE FROM agent_samples WHERE id IN (SELECT id FROM agent_samples"
                 " WHERE received_at < ? ORDER BY received_at LIMIT ?)",
                 (before, PRUNE_ROWS_PER_BATCH))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
