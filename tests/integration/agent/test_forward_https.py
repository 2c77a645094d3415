"""Forwarding over real HTTPS with mutual TLS on 127.0.0.1 to a receiver that reads every batch
with the contract's ``decode_batch`` (a stand-in for the office's intake, which another helper
writes): every record arrives, a failed send is retried with the same keys, a refusal keeps
the records, and the batch header carries the outbox's depth and drop counts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from dlict.agent.forward import push_once
from dlict.agent.outbox import Outbox
from dlict.agent.records import Kind, Record, event_record, sample_record
from dlict.agent.transport import Delivery, HttpsSender, Office, Outcome
from dlict.agent.wire import BatchHeader
from dlict.core.clock import utc_now
from tests.integration.agent.support import HOST, SITE, Pki, closed_port, make_pki, receiving


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def mixed(count: int) -> list[Record]:
    out: list[Record] = []
    for i in range(count):
        if i % 10 == 0:
            out.append(Record(Kind.RESULT, SITE, HOST, {"status": "fail" if i % 20 else "pass",
                                                        "control": "FW-01", "evidence": str(i)}))
        elif i % 10 == 5:
            out.append(event_record(SITE, HOST, "unknown-device", f"aa:bb:cc:00:00:{i % 99:02d}"))
        else:
            out.append(sample_record(SITE, HOST, "dlict_test", {"i": str(i)}, float(i)))
    return out


def open_outbox(tmp_path: Path, cap: int = 10**10) -> Outbox:
    return Outbox.open(tmp_path / "state" / "outbox.sqlite", cap)


def header_of(outbox: Outbox) -> BatchHeader:
    stats = outbox.stats()
    return BatchHeader(SITE, HOST, utc_now(), stats.records, stats.dropped)


def push(outbox: Outbox, pki: Pki, url: str, batch: int = 500, **kw: object
         ) -> tuple[Outcome, int, str]:
    sender = HttpsSender(Office.from_url(url), pki.client_context(), 10)
    outcome = push_once(outbox, lambda: header_of(outbox), sender.send_batch,
                        batch_records=batch, **kw)  # type: ignore[arg-type]
    return outcome.outcome, outcome.delivered, outcome.detail


def test_every_record_arrives_once_in_order_and_leaves_the_outbox(tmp_path: Path,
                                                                  pki: Pki) -> None:
    records = mixed(2_345)
    with open_outbox(tmp_path) as outbox, receiving(pki) as receiver:
        outbox.put(records)
        assert push(outbox, pki, receiver.url) == (Outcome.DELIVERED, 2_345, "")
        assert outbox.stats().records == 0
    got = [r for b in receiver.batches for r in b.records]
    assert got == records  # kinds, bodies, times and keys as they were put
    assert len(receiver.batches) == 5
    assert [b.header.outbox_records for b in receiver.batches] == [2345, 1845, 1345, 845, 345]


def test_a_failed_send_is_retried_with_the_same_keys(tmp_path: Path, pki: Pki) -> None:
    with open_outbox(tmp_path) as outbox, receiving(pki) as receiver:
        outbox.put(mixed(1_200))
        receiver.answers = [503]
        outcome, delivered, detail = push(outbox, pki, receiver.url)
        assert (outcome, delivered) == (Outcome.RETRY, 0)
        assert "HTTP 503" in detail and "told to answer 503" in detail
        assert outbox.stats().records == 1_200
        tried = [r.key for r in receiver.batches[0].records]

        receiver.answers = [200, 502]
        outcome, delivered, _ = push(outbox, pki, receiver.url)
        assert (outcome, delivered) == (Outcome.RETRY, 500)
        assert outbox.stats().records == 700

        assert push(outbox, pki, receiver.url)[:2] == (Outcome.DELIVERED, 700)
    sent = [[r.key for r in b.records] for b in receiver.batches]
    assert sent[1] == tried  # the batch refused with 503 went again, the same keys
    assert sent[2] == sent[3]  # and the one refused with 502
    delivered_keys = receiver.keys()
    assert len(delivered_keys) == len(set(delivered_keys)) == 1_200


@pytest.mark.parametrize("status", [400, 403])
def test_a_refusal_stops_the_push_and_keeps_the_records(tmp_path: Path, pki: Pki,
                                                        status: int) -> None:
    with open_outbox(tmp_path) as outbox, receiving(pki) as receiver:
        outbox.put(mixed(1_200))
        receiver.answers = [status]
        outcome, delivered, detail = push(outbox, pki, receiver.url)
        assert (outcome, delivered) == (Outcome.REFUSED, 0)
        assert f"HTTP {status}" in detail
        assert len(receiver.batches) == 1  # stopped at once
        assert outbox.stats().records == 1_200


def test_an_unreachable_office_is_retried_later_and_nothing_leaves(tmp_path: Path,
                                                                   pki: Pki) -> None:
    with open_outbox(tmp_path) as outbox:
        outbox.put(mixed(10))
        outcome, delivered, detail = push(outbox, pki, f"https://127.0.0.1:{closed_port()}")
        assert (outcome, delivered) == (Outcome.RETRY, 0)
        assert "unreachable (connection refused)" in detail
        assert outbox.stats().records == 10


def test_an_office_certificate_not_from_the_pinned_ca_is_refused(tmp_path: Path,
                                                                 pki: Pki) -> None:
    other = make_pki(tmp_path / "other")
    with open_outbox(tmp_path) as outbox, receiving(other) as receiver:
        outbox.put(mixed(10))
        outcome, _, detail = push(outbox, pki, receiver.url)
        assert outcome is Outcome.REFUSED
        assert "not the pinned CA's" in detail
        assert receiver.batches == [] and outbox.stats().records == 10


def test_header_carries_drop_counts_and_an_empty_outbox_still_reports(tmp_path: Path,
                                                                     pki: Pki) -> None:
    with open_outbox(tmp_path, cap=60_000) as outbox, receiving(pki) as receiver:
        outbox.put([sample_record(SITE, HOST, "dlict_test", {"i": str(i)}, i)
                    for i in range(1_000)])
        dropped = outbox.stats().dropped
        assert dropped["sample"] > 0
        assert push(outbox, pki, receiver.url)[0] is Outcome.DELIVERED
        assert push(outbox, pki, receiver.url) == (Outcome.DELIVERED, 0, "")
    assert [dict(b.header.dropped) for b in receiver.batches] == [dropped, dropped]
    assert receiver.batches[-1].records == []  # the heartbeat: header only
    assert receiver.batches[-1].header.outbox_records == 0


def test_a_record_the_intake_could_not_read_is_dropped_counted_not_blocking(
        tmp_path: Path, pki: Pki) -> None:
    bad = sample_record(SITE, HOST, "not a metric name!", {}, 1.0)
    good = mixed(30)
    with open_outbox(tmp_path) as outbox, receiving(pki) as receiver:
        outbox.put([*good[:10], bad, *good[10:]])
        sender = HttpsSender(Office.from_url(receiver.url), pki.client_context(), 10)
        outcome = push_once(outbox, lambda: header_of(outbox), sender.send_batch)
        assert outcome.ok and outcome.unsendable == 1
        assert outbox.stats().dropped["sample"] == 1
    assert receiver.keys() == [r.key for r in good]


def test_with_remote_write_samples_go_there_and_the_rest_to_the_intake(
        tmp_path: Path, pki: Pki) -> None:
    """The remote_write client is another helper's; here a receiver of the same protocol
    that keeps what it is given."""
    taken: list[Record] = []

    def remote_write(records: Sequence[Record]) -> Delivery:
        taken.extend(records)
        return Delivery(Outcome.DELIVERED)

    records = mixed(300)
    with open_outbox(tmp_path) as outbox, receiving(pki) as receiver:
        outbox.put(records)
        outcome, delivered, _ = push(outbox, pki, receiver.url, samples=remote_write)
        assert (outcome, delivered) == (Outcome.DELIVERED, 300)
    assert taken == [r for r in records if r.kind is Kind.SAMPLE]
    at_intake = [r for b in receiver.batches for r in b.records]
    assert at_intake == [r for r in records if r.kind is not Kind.SAMPLE]
