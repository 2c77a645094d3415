"""A remote_write receiver that misbehaves cannot hang the agent, fill its memory, put escape
sequences in its log line or send it elsewhere; a URL that would leak credentials or send
samples in clear text off this machine is refused before anything is sent.

The receivers are raw sockets on 127.0.0.1 of the test's own, so they can answer in ways no
well-behaved server would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dlict.agent.config import RemoteWriteSettings
from dlict.agent.records import Kind, Record, sample_record
from dlict.agent.remote_write import (
    RemoteWriteClient,
    RemoteWriteRejectedError,
    RetryableSendError,
)
from dlict.core.errors import ConfigError
from dlict.core.metric_names import LINK_UP
from tests.integration.agent.rw_receiver import Script, receiver

SAMPLE: list[Record] = [sample_record("4401010001", "srv", LINK_UP.name, {}, 1,
                                      datetime(2026, 12, 3, tzinfo=UTC))]


def _client(url: str, timeout_s: float = 1, **extra: object) -> RemoteWriteClient:
    return RemoteWriteClient(RemoteWriteSettings.model_validate(
        {"url": url, "timeout_s": timeout_s, **extra}))


@contextmanager
def raw_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback server that reads one request's head and then lets ``answer`` write what it
    likes; its URL. Stopped (and its connection closed) when the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        with suppress(OSError):
            connection, _ = listener.accept()
            connections.append(connection)
            connection.recv(65536)
            answer(connection, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1/write"
    finally:
        stop.set()
        for connection in connections:
            connection.close()
        listener.close()
        thread.join(timeout=5)


def _drip(connection: socket.socket, stop: threading.Event) -> None:
    for byte in b"HTTP/1.1 400 Bad Request\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 100:
        if stop.wait(0.2):
            return
        connection.sendall(bytes([byte]))


def test_a_receiver_answering_one_byte_at_a_time_is_cut_at_the_timeout() -> None:
    with raw_server(_drip) as url:
        started = time.monotonic()
        with pytest.raises(RetryableSendError) as failed:
            _client(url, timeout_s=1).send(SAMPLE)
        took = time.monotonic() - started
    assert str(failed.value) == f"remote_write to {url} did not answer within 1 s"
    assert took < 2.5


def _flood(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 200000000\r\n\r\n"
                       b"\x1b[2J\x1b[31mout of bounds\r\nfake: line " + b"y" * 2000)
    chunk = b"z" * 65536
    while not stop.is_set():
        try:
            connection.sendall(chunk)
        except OSError:
            return


def test_a_flood_of_an_answer_is_cut_and_its_text_made_harmless() -> None:
    with raw_server(_flood) as url:
        started = time.monotonic()
        with pytest.raises(RemoteWriteRejectedError) as refused:
            _client(url, timeout_s=5).send(SAMPLE)
        took = time.monotonic() - started
    message = str(refused.value)
    assert took < 2
    assert message.startswith(f"remote_write to {url}: 1 of 1 samples refused for good, "
                              "first: HTTP 400: \\x1b[2J\\x1b[31mout of bounds fake: line yyy")
    assert "\x1b" not in message and "\n" not in message and "\r" not in message
    assert len(message) < 500


def test_too_many_headers_is_a_failure_not_a_hang() -> None:
    def headers(connection: socket.socket, stop: threading.Event) -> None:
        with suppress(OSError):
            connection.sendall(b"HTTP/1.1 204 No Content\r\n"
                               + b"".join(b"X-%d: y\r\n" % n for n in range(500)) + b"\r\n")

    with raw_server(headers) as url, pytest.raises(RetryableSendError) as failed:
        _client(url).send(SAMPLE)
    assert str(failed.value) == (f"remote_write to {url} cannot be reached: got more than 100 "
                                 "headers")


def test_a_redirect_is_not_followed() -> None:
    elsewhere = Script()
    with receiver(elsewhere) as other:
        def redirect(connection: socket.socket, stop: threading.Event) -> None:
            connection.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: "
                               + f"{other.url}/api/v1/write".encode()
                               + b"\r\nContent-Length: 0\r\n\r\n")

        with raw_server(redirect) as url, pytest.raises(RemoteWriteRejectedError) as refused:
            _client(url).send(SAMPLE)
    assert str(refused.value).endswith("first: HTTP 307")
    assert elsewhere.requests == []


@pytest.mark.parametrize(("url", "message"), [
    ("https://agent:s3cret-pw@mimir.example.org/api/v1/push",
     "remote_write.url https://mimir.example.org: do not put credentials in the URL"),
    ("http://192.0.2.10:9090/api/v1/write",
     "remote_write.url http://192.0.2.10: plain http only to a loopback address; use https"),
])
def test_a_url_that_would_leak_is_refused_before_sending(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _client(url)
    assert str(refused.value) == message


def test_an_unreadable_ca_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope.crt"
    with pytest.raises(ConfigError) as refused:
        _client("https://127.0.0.1:1/api/v1/write", ca_file=missing)
    assert str(refused.value) == (f"remote_write.ca_file {missing}: cannot be read as CA "
                                  "certificates (no such file or directory)")


def test_a_ca_file_that_holds_no_certificate_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.crt"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as refused:
        _client("https://127.0.0.1:1/api/v1/write", ca_file=junk)
    assert str(refused.value).startswith(f"remote_write.ca_file {junk}: cannot be read as CA "
                                         "certificates (")


def test_values_no_receiver_could_take_are_reported_and_the_rest_delivered() -> None:
    """A label value with a lone surrogate (a JSON body can carry one) has no UTF-8; an integer
    past a double's range has no float64. Neither may stop the send of the others."""
    at = datetime(2026, 12, 3, tzinfo=UTC)
    odd = [sample_record("4401010001", "srv", LINK_UP.name, {"target": "\ud800"}, 1, at),
           Record(Kind.SAMPLE, "4401010001", "srv",
                  {"name": LINK_UP.name, "labels": {}, "value": 10**400}, at)]
    script = Script()
    with receiver(script) as served, pytest.raises(RemoteWriteRejectedError) as refused:
        _client(f"{served.url}/write").send([*odd, *SAMPLE])
    assert refused.value.rejected == 2
    assert str(refused.value).endswith(f"2 of 3 samples refused for good, first: "
                                       f"{LINK_UP.name}: label target is not UTF-8 text")
    assert len(script.requests) == 1


def test_a_key_in_the_urls_query_is_sent_but_never_shown() -> None:
    script = Script([503])
    with receiver(script) as served, pytest.raises(RetryableSendError) as failed:
        _client(f"{served.url}/api/v1/push?api_key=k3y-s3cret").send(SAMPLE)
    assert str(failed.value) == f"remote_write to {served.url}/api/v1/push answered HTTP 503"
    assert script.requests[0].path == "/api/v1/push?api_key=k3y-s3cret"
