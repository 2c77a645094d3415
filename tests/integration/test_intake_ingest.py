"""The intake stores each agent record exactly once, in one transaction per batch, with the
agent's state; a batch for another site stores nothing. Against a real SQLite store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from dlict.agent.records import Kind, sample_record
from dlict.agent.wire import BatchHeader, decode_batch
from dlict.core.clock import utc_now
from dlict.core.store import EvidenceStore, RunStatus
from dlict.intake import ingest as ingest_module
from dlict.intake.ca import AgentIdentity, Refused
from dlict.intake.ingest import Ingested, ingest
from dlict.intake.metrics import render
from tests.intake_support import SITE, batch, records_for

AGENT = AgentIdentity(SITE, "s1-srv", 1)


def _tables(store: EvidenceStore) -> dict[str, int]:
    with store.reading() as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("agent_record_keys", "results", "runs", "agent_samples",
                              "agent_events", "agent_state", "agent_series")}


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore.open(tmp_path / "evidence.sqlite")


def test_the_same_batch_twice_is_stored_once(store: EvidenceStore) -> None:
    header, records = decode_batch(batch(SITE, "s1-srv", records_for(SITE, "s1-srv", 3, 4, 2)))
    first = ingest(store, AGENT, header, records)
    before = _tables(store)
    again = ingest(store, AGENT, header, records)
    assert first == Ingested(accepted=9, duplicates=0)
    assert again == Ingested(accepted=0, duplicates=9)
    assert _tables(store) == before
    assert before["results"] == 3 and before["agent_samples"] == 4
    assert before["agent_events"] == 2 and before["agent_record_keys"] == 9
    (run,) = store.runs(kind="agent")
    assert run.status is RunStatus.FINDINGS  # one of the three results is a fail
    assert run.finished_at is not None
    assert {r.control for r in store.results(run.id)} == {"FW-01", "FW-02", "FW-03"}


def test_overlapping_batches_store_each_record_once(store: EvidenceStore) -> None:
    records = records_for(SITE, "s1-srv", results=10, samples=0, events=0)
    header = BatchHeader(SITE, "s1-srv", utc_now())
    assert ingest(store, AGENT, header, records[:6]) == Ingested(6, 0)
    assert ingest(store, AGENT, header, records[4:]) == Ingested(4, 2)
    # a batch that repeats a record within itself counts it once
    assert ingest(store, AGENT, header, [records[0], records[0]]) == Ingested(0, 2)
    assert store.count_results() == 10
    stored = sorted(r.evidence for run in store.runs(kind="agent") for r in store.results(run.id))
    assert stored == sorted(str(r.body["evidence"]) for r in records)


def test_a_batch_for_another_site_is_refused_and_stores_nothing(
        store: EvidenceStore) -> None:
    mine = records_for(SITE, "s1-srv", 2, 2, 1)
    theirs = records_for("44010002", "s2-srv", 1, 0, 0)
    header = BatchHeader(SITE, "s1-srv", utc_now())
    with pytest.raises(Refused, match="batch line 7: a record for site 44010002"):
        ingest(store, AGENT, header, [*mine, *theirs])
    with pytest.raises(Refused, match="header names site 44010002"):
        ingest(store, AGENT, BatchHeader("44010002", "s1-srv", utc_now()), mine)
    assert set(_tables(store).values()) == {0}
    # the refused records' keys were not taken: the agent's own records still go in later
    assert ingest(store, AGENT, header, mine) == Ingested(5, 0)


def test_the_agents_state_is_its_last_batch(store: EvidenceStore) -> None:
    now = utc_now()
    header = BatchHeader(SITE, "s1-srv", now - timedelta(seconds=90), outbox_records=1234,
                         dropped={"sample": 50, "result": 2})
    ingest(store, AGENT, header, records_for(SITE, "s1-srv", 1, 1, 0), now=now)
    text = render(store, now + timedelta(minutes=1))
    who = f'site="{SITE}",host="s1-srv"'
    assert f"dlict_agent_up{{{who}}} 1.0" in text
    assert f"dlict_agent_outbox_records{{{who}}} 1234.0" in text
    assert f"dlict_agent_clock_offset_seconds{{{who}}} 90.0" in text
    assert f'dlict_agent_dropped_total{{{who},kind="result"}} 2.0' in text
    assert f'dlict_agent_dropped_total{{{who},kind="sample"}} 50.0' in text
    assert f"dlict_agent_last_seen_timestamp_seconds{{{who}}} {now.timestamp()!r}" in text
    assert (f'dlict_agent_probe_rtt_seconds{{{who},target="10.0.0.1"}} 0.01'
            in text)
    assert f"dlict_agent_up{{{who}}} 0.0" in render(store, now + timedelta(minutes=11))


def test_only_the_newest_value_of_a_series_is_served_and_series_are_capped(
        store: EvidenceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "MAX_SERIES_PER_AGENT", 3)
    now = utc_now()
    older = sample_record(SITE, "s1-srv", "dlict_agent_link_up", {"target": "a"}, 0,
                          now - timedelta(minutes=5))
    newer = sample_record(SITE, "s1-srv", "dlict_agent_link_up", {"target": "a"}, 1,
                          now - timedelta(minutes=1))
    header = BatchHeader(SITE, "s1-srv", now)
    ingest(store, AGENT, header, [newer], now=now)
    ingest(store, AGENT, header, [older], now=now)  # arrives late: not the newest
    many = [sample_record(SITE, "s1-srv", "dlict_agent_link_up", {"target": f"t{i}"}, 1, now)
            for i in range(5)]
    ingest(store, AGENT, header, many, now=now)
    text = render(store, now)
    served = [line for line in text.splitlines() if line.startswith("dlict_agent_link_up{")]
    assert len(served) == 3
    assert f'dlict_agent_link_up{{site="{SITE}",host="s1-srv",target="a"}} 1.0' in served
    assert f'dlict_agent_series_over_cap_total{{site="{SITE}",host="s1-srv"}} 3.0' in text
    assert _tables(store)["agent_samples"] == 7  # every sample is still stored


def test_an_agent_cannot_overwrite_its_site_label_or_use_an_invalid_name(
        store: EvidenceStore) -> None:
    now = utc_now()
    records = [sample_record(SITE, "s1-srv", "dlict_agent_x", {"site": "99999999"}, 1, now),
               sample_record(SITE, "s1-srv", "bad.name", {}, 1, now),
               sample_record(SITE, "s1-srv", "dlict_agent_up", {}, 7, now)]
    ingest(store, AGENT, BatchHeader(SITE, "s1-srv", now), records, now=now)
    text = render(store, now)
    assert f'dlict_agent_x{{site="{SITE}",host="s1-srv"}} 1.0' in text
    assert "99999999" not in text and "bad.name" not in text
    assert f'dlict_agent_up{{site="{SITE}",host="s1-srv"}} 1.0' in text  # its own, not 7


def test_old_keys_and_samples_are_pruned_a_bounded_slice_at_a_time(
        store: EvidenceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "PRUNE_ROWS_PER_BATCH", 3)
    long_ago = utc_now() - timedelta(days=40)
    header = BatchHeader(SITE, "s1-srv", long_ago)
    ingest(store, AGENT, header, records_for(SITE, "s1-srv", 0, 5, 0), now=long_ago)
    ingest(store, AGENT, BatchHeader(SITE, "s1-srv", utc_now()),
           records_for(SITE, "s1-srv", 0, 1, 0))
    assert _tables(store)["agent_record_keys"] == 5 - 3 + 1
    assert _tables(store)["agent_samples"] == 5 - 3 + 1
    ingest(store, AGENT, BatchHeader(SITE, "s1-srv", utc_now()), [])
    assert _tables(store)["agent_record_keys"] == 1


def test_events_keep_their_body(store: EvidenceStore) -> None:
    records = records_for(SITE, "s1-srv", 0, 0, 1)
    ingest(store, AGENT, BatchHeader(SITE, "s1-srv", utc_now()), records)
    with store.reading() as conn:
        (kind, body) = conn.execute("SELECT type, body FROM agent_events").fetchone()
    assert records[0].kind is Kind.EVENT
    assert kind == "unknown_device" and json.loads(body) == dict(records[0].body)
