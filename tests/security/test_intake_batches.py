"""Hostile and broken batches against a real ``dlict intake serve`` over TLS on 127.0.0.1: each
gets one clear HTTP error and stores nothing; a server killed mid-batch leaves the whole
batch or none of it."""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlict.agent.wire import BATCH_PATH, ENROLL_PATH, MAX_BATCH_BYTES, MAX_RECORDS
from dlict.core.clock import utc_now
from lab.intake_pki import Credentials, enrol, init_district
from tests.intake_support import (
    SITE,
    Served,
    batch,
    client_context,
    count,
    intake_serve,
    post,
    raw_batch,
    records_for,
)

STORED = ("agent_record_keys", "results", "runs", "agent_samples", "agent_events",
          "agent_state")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Credentials]]:
    root = tmp_path_factory.mktemp("intake")
    data_dir = root / "data"
    init_district(data_dir)
    creds = enrol(data_dir, SITE, "s1-srv", root / "agent")
    with intake_serve(data_dir) as server:
        yield server, creds


def _nothing_stored(server: Served) -> None:
    assert {table: count(server.store_path, table) for table in STORED} == dict.fromkeys(
        STORED, 0)


def _header() -> dict[str, object]:
    return {"v": 1, "site": SITE, "host": "s1-srv", "sent_at": utc_now().isoformat(),
            "outbox_records": 0, "dropped": {}}


def _record_line(key: str = "0" * 32) -> dict[str, object]:
    return {"key": key, "kind": "result", "site": SITE, "host": "s1-srv",
            "at": utc_now().isoformat(), "body": {"status": "pass", "control": "FW-01"}}


def _gzip_bomb() -> bytes:
    """~100 MB of newlines in ~100 kB of gzip: more than the decoder takes once inflated."""
    return gzip.compress(b"\n" * (100 * 2**20), compresslevel=9)


BAD = {
    "not gzip": (b"this is not gzip", 400, "not gzip data"),
    "gzip cut short": (raw_batch([_header(), _record_line()])[:-12], 400, "cut short"),
    "gzip bomb": (_gzip_bomb(), 400, "once decompressed"),
    "too many records": (raw_batch([_header()] + [
        _record_line(f"{i:032x}") for i in range(MAX_RECORDS + 1)]), 400,
        f"at most {MAX_RECORDS} a batch"),
    "wrong version": (raw_batch([{**_header(), "v": 9}, _record_line()]), 400,
                      "batch line 1: version 9"),
    "header is not JSON": (raw_batch(["{not json", _record_line()]), 400, "batch line 1: not JSON"),
    "bad record at line 3": (raw_batch([_header(), _record_line(),
                                        {**_record_line("1" * 32), "kind": "secret"}]), 400,
                             "batch line 3: unknown kind"),
    "header for another site": (raw_batch([{**_header(), "site": "44010002"}, _record_line()]),
                                403, "header names site 44010002"),
    "record for another site": (raw_batch([_header(), _record_line(),
                                           {**_record_line("1" * 32), "site": "44010002"}]),
                                403, "batch line 3: a record for site 44010002"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_batch_gets_one_clear_line_and_stores_nothing(
        served: tuple[Served, Credentials], case: str) -> None:
    server, creds = served
    body, status, text = BAD[case]
    answer = post(server.port, body, client_context(creds, creds.ca))
    assert answer.status == status, answer
    line = answer.body.decode()
    assert text in line and line.count("\n") == 1 and "Traceback" not in line, line
    _nothing_stored(server)
    assert server.process.poll() is None


@pytest.mark.parametrize(("path", "length", "status", "text"), [
    (BATCH_PATH, str(MAX_BATCH_BYTES + 1), 413, f"at most {MAX_BATCH_BYTES} are taken"),
    (BATCH_PATH, "9" * 5000, 413, "are taken"),
    (ENROLL_PATH, str(64 * 1024 + 1), 413, f"at most {64 * 1024} are taken"),
    (BATCH_PATH, None, 411, "send the body with a Content-Length"),
    (BATCH_PATH, "-5", 411, "send the body with a Content-Length"),
])
def test_a_body_of_no_or_too_large_a_length_is_refused_before_it_is_read(
        served: tuple[Served, Credentials], path: str, length: str | None, status: int,
        text: str) -> None:
    server, creds = served
    conn = http.client.HTTPSConnection("127.0.0.1", server.port,
                                       context=client_context(creds, creds.ca), timeout=30)
    try:
        conn.putrequest("POST", path)
        if length is not None:
            conn.putheader("Content-Length", length)
        conn.endheaders()
        conn.send(b"x" * 1024)  # the rest never comes: the answer must not wait for it
        answer = conn.getresponse()
        assert answer.status == status
        assert text in answer.read().decode()
    finally:
        conn.close()
    _nothing_stored(server)
    assert server.process.poll() is None


def test_a_batch_without_a_client_certificate_is_refused(
        served: tuple[Served, Credentials]) -> None:
    server, creds = served
    body = batch(SITE, "s1-srv", records_for(SITE, "s1-srv"))
    answer = post(server.port, body, client_context(None, creds.ca))
    assert answer.status == 401
    assert b"client certificate" in answer.body
    _nothing_stored(server)


def test_a_certificate_from_another_ca_does_not_get_through_tls(
        served: tuple[Served, Credentials], tmp_path: Path) -> None:
    server, creds = served
    other = tmp_path / "other"
    init_district(other)
    forged = enrol(other, SITE, "s1-srv", tmp_path / "forged")
    body = batch(SITE, "s1-srv", records_for(SITE, "s1-srv"))
    with pytest.raises((ssl.SSLError, ConnectionError)):
        post(server.port, body, client_context(forged, creds.ca))
    _nothing_stored(server)
    assert server.process.poll() is None


def test_a_client_that_stops_sending_mid_body_stores_nothing(
        served: tuple[Served, Credentials]) -> None:
    server, creds = served
    body = batch(SITE, "s1-srv", records_for(SITE, "s1-srv", 50, 50, 5))
    context = client_context(creds, creds.ca)
    with socket.create_connection(("127.0.0.1", server.port)) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(f"POST {BATCH_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])
    time.sleep(0.5)
    _nothing_stored(server)


def test_killed_mid_batch_leaves_all_of_it_or_none_and_a_resend_completes_it(
        tmp_path: Path) -> None:
    """SIGKILL at several moments while a 20,000-record batch is being received and stored:
    each time the store holds the whole batch or nothing of it; sent again to a restarted
    intake, every record is there exactly once."""
    data_dir = tmp_path / "data"
    init_district(data_dir)
    creds = enrol(data_dir, SITE, "s1-srv", tmp_path / "agent")
    records = records_for(SITE, "s1-srv", results=10_000, samples=9_000, events=1_000)
    body = batch(SITE, "s1-srv", records)
    seen_partial_states = set()
    for delay in (0.05, 0.25, 0.35, 0.45, 1.0):  # a batch takes ~0.5 s here
        with intake_serve(data_dir) as server:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", server.port, context=client_context(creds, creds.ca), timeout=60)
            conn.request("POST", BATCH_PATH, body=body)
            time.sleep(delay)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=15)
            conn.close()
        stored = count(server.store_path, "agent_record_keys")
        assert stored in (0, len(records)), f"killed after {delay} s: {stored} keys stored"
        assert count(server.store_path, "results") == (10_000 if stored else 0)
        assert count(server.store_path, "agent_samples") == (9_000 if stored else 0)
        seen_partial_states.add(stored)
    with intake_serve(data_dir) as server:
        answer = post(server.port, body, client_context(creds, creds.ca))
        assert answer.status == 200, answer
        done = json.loads(answer.body)
        assert done["accepted"] + done["duplicates"] == len(records)
        assert done["accepted"] == (0 if len(records) in seen_partial_states else len(records))
    assert count(server.store_path, "agent_record_keys") == len(records)
    assert count(server.store_path, "results") == 10_000
    assert count(server.store_path, "agent_events") == 1_000
