"""The agent's outbox on a real SQLite file: what is put comes out oldest first, once, until it
is acked; the disk cap drops the oldest samples first and counts every drop."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from dlict.agent.outbox import Outbox
from dlict.agent.records import Kind, Record, event_record, sample_record
from dlict.agent.wire import MAX_LINE_BYTES

SITE, HOST = "4401010001", "srv"


def samples(count: int, start: int = 0, pad: int = 0) -> list[Record]:
    return [sample_record(SITE, HOST, "dlict_test", {"n": str(i), "pad": "x" * pad}, float(i))
            for i in range(start, start + count)]


def results(count: int, start: int = 0) -> list[Record]:
    return [Record(Kind.RESULT, SITE, HOST,
                   {"status": "pass", "control": f"FW-{i:04d}", "evidence": "ok"})
            for i in range(start, start + count)]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "outbox.sqlite"


def test_put_then_next_batch_oldest_first_and_ack_removes(path: Path) -> None:
    put = samples(5) + results(3) + [event_record(SITE, HOST, "unknown-device", "aa:bb")]
    with Outbox.open(path, 10**9) as outbox:
        assert outbox.put(put) == 9
        first = outbox.next_batch(4)
        assert [r.key for r in first] == [r.key for r in put[:4]]
        assert first == put[:4]  # kind, site, host, body, time and key come back unchanged
        assert [r.key for r in outbox.next_batch(100, frozenset({Kind.RESULT}))] == [
            r.key for r in put[5:8]]
        assert outbox.ack([r.key for r in first]) == 4
        assert [r.key for r in outbox.next_batch(100)] == [r.key for r in put[4:]]
        stats = outbox.stats()
    assert stats.records == 5
    assert stats.by_kind == {"sample": 1, "result": 3, "event": 1}


def test_a_key_put_twice_is_stored_once(path: Path) -> None:
    batch = samples(3)
    with Outbox.open(path, 10**9) as outbox:
        outbox.put(batch)
        assert outbox.put(batch + samples(1, start=3)) == 1
        assert outbox.stats().records == 4


def test_file_is_0600_in_a_0700_directory(path: Path) -> None:
    with Outbox.open(path, 10**9) as outbox:
        outbox.put(samples(10))
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_wal_and_full_sync_are_on(path: Path) -> None:
    with Outbox.open(path, 10**9) as outbox:
        # synchronous is a setting of the connection: ask the outbox's own
        assert outbox._conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_cap_drops_oldest_samples_first_and_never_results_while_samples_remain(
        path: Path) -> None:
    kept_results = results(20)
    first_samples = samples(500, pad=100)
    with Outbox.open(path, 100_000) as outbox:
        outbox.put(kept_results)
        outbox.put(first_samples)
        outbox.put(samples(500, start=500, pad=100))
        stats = outbox.stats()
        left = outbox.next_batch(10_000)
    assert stats.bytes <= 100_000
    assert stats.by_kind["result"] == 20
    assert stats.dropped["result"] == 0 and stats.dropped["event"] == 0
    left_samples = [int(r.body["value"]) for r in left if r.kind is Kind.SAMPLE]
    # what is left is the newest samples, in order, without a gap
    assert left_samples == list(range(1000 - len(left_samples), 1000))
    assert stats.dropped["sample"] == 1000 - len(left_samples) > 0


def test_results_are_dropped_only_when_no_sample_is_left_and_drops_persist(
        path: Path) -> None:
    with Outbox.open(path, 20_000) as outbox:
        outbox.put(samples(10))
        outbox.put(results(200))
        stats = outbox.stats()
        assert stats.by_kind["sample"] == 0
        assert stats.dropped["sample"] == 10
        assert stats.dropped["result"] > 0
        remaining = [r.body["control"] for r in outbox.next_batch(1000)]
    assert remaining == [f"FW-{i:04d}" for i in range(200 - len(remaining), 200)]
    with Outbox.open(path, 10**9) as reopened:
        assert reopened.stats().dropped == stats.dropped  # a counter, never reset


def test_file_stays_near_the_cap(path: Path) -> None:
    """20,000 samples (~6 MB) into a 1 MB cap: the file (its WAL folded in) stays under it."""
    cap = 1_000_000
    with Outbox.open(path, cap) as outbox:
        for start in range(0, 20_000, 1_000):
            outbox.put(samples(1_000, start=start))
        stats = outbox.stats()
    assert stats.dropped["sample"] > 15_000
    assert path.stat().st_size <= cap * 1.1
    assert not path.with_name(path.name + "-wal").exists()


def test_a_record_too_large_for_the_wire_is_counted_as_dropped(path: Path) -> None:
    big = Record(Kind.RESULT, SITE, HOST, {"status": "fail", "control": "LOG-01",
                                           "evidence": "x" * MAX_LINE_BYTES})
    with Outbox.open(path, 10**9) as outbox:
        assert outbox.put([big, *results(1)]) == 1
        assert outbox.stats().dropped["result"] == 1


def test_push_state_counts_failures_until_a_success(path: Path) -> None:
    from dlict.core.clock import utc_now

    with Outbox.open(path, 10**9) as outbox:
        outbox.note_push(utc_now(), "retry", "office unreachable")
        outbox.note_push(utc_now(), "retry", "office unreachable")
    with Outbox.open(path, 10**9) as outbox:
        assert outbox.push_state().consecutive_failures == 2
        outbox.note_push(utc_now(), "delivered")
        state = outbox.push_state()
    assert state.consecutive_failures == 0 and state.last_outcome == "delivered"
