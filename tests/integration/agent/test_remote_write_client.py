"""What the remote_write client puts on the wire and how it takes each answer, seen from a
receiver of the test's own on 127.0.0.1 (tests/integration/agent/rw_receiver.py): the headers
the specification requires, labels sorted and cleaned, each series in time order; 5xx and 429
to retry, other 4xx refused for good; a retry after a partial delivery sends only what did not
arrive; TLS against a CA file."""

from __future__ import annotations

import datetime as dt
import ssl
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dlict.agent.records import Record, sample_record
from dlict.agent.remote_write import (
    MAX_SAMPLES_PER_REQUEST,
    USER_AGENT,
    RemoteWriteRejectedError,
    RetryableSendError,
)
from dlict.core.metric_names import LINK_UP, PROBE_LOSS
from tests.integration.agent.rw_receiver import Script, client, decoded, receiver, series_of
from tests.integration.test_probe_services import make_certificate

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 3, 2, 0, 0, 250_000, tzinfo=dt.UTC)
AT_MS = 1_796_263_200_250


def _loss(value: float, at: datetime, site: str = "4401010001", **labels: str) -> Record:
    return sample_record(site, f"s{site}-srv", PROBE_LOSS.name, labels, value, at)


def test_the_request_is_what_the_specification_asks(tmp_path: Path) -> None:
    script = Script()
    records = [
        _loss(0.5, AT + timedelta(seconds=30), target="dns", zone="", school="บ้านหนองบัว"),
        _loss(0.25, AT, target="dns", zone="", school="บ้านหนองบัว"),
        # the same series and millisecond twice: the later record's value is the one sent
        _loss(0.75, AT + timedelta(seconds=30, microseconds=400), target="dns",
              school="บ้านหนองบัว"),
        sample_record("4401010002", "gw", LINK_UP.name, {}, 1, AT),
    ]
    with receiver(script) as served:
        client(f"{served.url}/api/v1/push?tenant=district").send(records)
    [request] = script.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["content-encoding"] == "snappy"
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["x-prometheus-remote-write-version"] == "0.1.0"
    assert headers["user-agent"] == USER_AGENT
    assert series_of(decoded(request.body, tmp_path)) == [
        ([("__name__", PROBE_LOSS.name), ("host", "s4401010001-srv"),
          ("school", "บ้านหนองบัว"), ("site", "4401010001"), ("target", "dns")],
         [(0.25, AT_MS), (0.75, AT_MS + 30_000)]),
        ([("__name__", LINK_UP.name), ("host", "gw"), ("site", "4401010002")],
         [(1.0, AT_MS)]),
    ]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_server_error_or_too_many_requests_is_a_failure_to_retry(status: int) -> None:
    script = Script([status], reason=b"ingester unavailable")
    with receiver(script) as served, pytest.raises(RetryableSendError) as failed:
        client(f"{served.url}/write").send([_loss(0.1, AT)])
    assert str(failed.value) == (f"remote_write to {served.url}/write answered HTTP {status}: "
                                 "ingester unavailable")
    assert len(script.requests) == 1  # the caller backs off and retries, not the client


@pytest.mark.parametrize("status", [400, 401, 404, 409, 413])
def test_another_client_error_is_refused_for_good(status: int) -> None:
    script = Script([status], reason=b"err-mimir-sample-out-of-order")
    with receiver(script) as served, pytest.raises(RemoteWriteRejectedError) as refused:
        client(f"{served.url}/write").send([_loss(0.1, AT), _loss(0.2, AT, site="x")])
    assert refused.value.rejected == 2
    assert str(refused.value) == (
        f"remote_write to {served.url}/write: 2 of 2 samples refused for good, first: "
        f"HTTP {status}: err-mimir-sample-out-of-order")
    assert len(script.requests) == 1


def _many(count: int) -> list[Record]:
    return [_loss(n / count, AT + timedelta(seconds=n), site=f"44010100{n % 50:02d}")
            for n in range(count)]


def _samples_received(script: Script, schema_dir: Path) -> list[tuple[float, int]]:
    return [sample for request in script.requests
            for _labels, samples in series_of(decoded(request.body, schema_dir))
            for sample in samples]


def test_a_retry_after_a_partial_delivery_sends_only_what_did_not_arrive(
        tmp_path: Path) -> None:
    """Requests 1 and 2 arrive, 3 fails with 503; the caller's retry of the same records sends
    only the third request's samples: Prometheus would refuse the others' second copy as out
    of order, and the whole request with them."""
    records = _many(2 * MAX_SAMPLES_PER_REQUEST + 500)
    script = Script([204, 204, 503, 204])
    with receiver(script) as served:
        sender = client(f"{served.url}/write")
        with pytest.raises(RetryableSendError):
            sender.send(records)
        assert len(script.requests) == 3
        sender.send(records)
    assert len(script.requests) == 4
    sizes = [len(_samples_received(Script(requests=[r]), tmp_path)) for r in script.requests]
    assert sizes == [MAX_SAMPLES_PER_REQUEST, MAX_SAMPLES_PER_REQUEST, 500, 500]
    delivered = _samples_received(Script(requests=[script.requests[i] for i in (0, 1, 3)]),
                                  tmp_path)
    assert sorted(delivered) == sorted(
        (r.body["value"], AT_MS + n * 1000) for n, r in enumerate(records))


def test_the_remembered_deliveries_do_not_outlive_a_finished_send(tmp_path: Path) -> None:
    records = [_loss(0.1, AT)]
    script = Script([204])
    with receiver(script) as served:
        sender = client(f"{served.url}/write")
        sender.send(records)
        sender.send(records)  # handed over again (the caller lost its ack): sent again
    assert len(script.requests) == 2


def test_samples_that_cannot_be_valid_are_reported_and_the_rest_delivered(
        tmp_path: Path) -> None:
    good = _loss(0.1, AT)
    bad = [sample_record("4401010001", "srv", "dlict-link up", {}, 1, AT),
           _loss(0.2, AT, **{"__tenant": "x"}),
           sample_record("4401010001", "srv", LINK_UP.name, {"bad-label": "x"}, 1, AT)]
    script = Script()
    with receiver(script) as served, pytest.raises(RemoteWriteRejectedError) as refused:
        client(f"{served.url}/write").send([bad[0], good, *bad[1:]])
    assert refused.value.rejected == 3
    assert str(refused.value).endswith(
        "3 of 4 samples refused for good, first: metric name 'dlict-link up' is not a valid "
        "Prometheus name")
    [request] = script.requests
    assert [s for _l, s in series_of(decoded(request.body, tmp_path))] == [[(0.1, AT_MS)]]


@pytest.fixture
def tls_receiver(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    now = dt.datetime.now(dt.UTC)
    cert, key = make_certificate(tmp_path, "receiver", now - timedelta(days=1),
                                 now + timedelta(days=30))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


def test_tls_with_the_receivers_ca_file(tls_receiver: tuple[ssl.SSLContext, Path],
                                        tmp_path: Path) -> None:
    context, cert = tls_receiver
    script = Script()
    with receiver(script, context) as served:
        url = f"{served.url}/write"
        client(url, ca_file=cert).send([_loss(0.1, AT)])
        with pytest.raises(RetryableSendError, match="TLS certificate not trusted"):
            client(url).send([_loss(0.2, AT)])
    assert len(script.requests) == 1
