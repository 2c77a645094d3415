"""An office (or something posing as one on the path) that answers slowly, endlessly or not at
all cannot hold the agent past its push timeout or make it read an unbounded answer: the push
ends as a retry, in time, and the records stay in the outbox. Real TLS servers on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from dlict.agent.transport import HttpsSender, Office, Outcome
from tests.integration.agent.support import Pki, make_pki

Behaviour = Callable[[ssl.SSLSocket, threading.Event], None]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@contextmanager
def hostile_office(pki: Pki, behaviour: Behaviour) -> Iterator[str]:
    """A TLS server that reads the request's head, then does ``behaviour`` until stopped."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    context = pki.server_context()

    def serve() -> None:
        with suppress(OSError):
            raw, _ = listener.accept()
            with context.wrap_socket(raw, server_side=True) as conn:
                conn.settimeout(1)
                with suppress(OSError):
                    conn.recv(65536)
                behaviour(conn, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=10)


def drip(conn: ssl.SSLSocket, stop: threading.Event) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
        if stop.wait(0.2):
            return
        with suppress(OSError):
            conn.sendall(bytes([byte]))


def silent(_conn: ssl.SSLSocket, stop: threading.Event) -> None:
    stop.wait(60)


def endless_error(conn: ssl.SSLSocket, stop: threading.Event) -> None:
    with suppress(OSError):
        conn.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 1000000000\r\n\r\n")
        while not stop.is_set():
            conn.sendall(b"<" * 65536)


@pytest.mark.parametrize("behaviour", [drip, silent])
def test_a_slow_or_silent_office_cannot_hold_the_push_past_its_timeout(
        pki: Pki, behaviour: Behaviour) -> None:
    with hostile_office(pki, behaviour) as url:
        sender = HttpsSender(Office.from_url(url), pki.client_context(), 2)
        started = time.monotonic()
        delivery = sender.send_batch(b"\x1f\x8b")
        took = time.monotonic() - started
    assert delivery.outcome is Outcome.RETRY
    assert "no answer within 2 s" in delivery.detail
    assert took < 4


def test_an_endless_answer_is_read_only_so_far(pki: Pki, tmp_path: Path) -> None:
    with hostile_office(pki, endless_error) as url:
        sender = HttpsSender(Office.from_url(url), pki.client_context(), 10)
        started = time.monotonic()
        delivery = sender.send_batch(b"\x1f\x8b")
        took = time.monotonic() - started
    assert delivery.outcome is Outcome.RETRY and delivery.status == 503
    assert len(delivery.detail) < 400  # one line, not the megabytes sent
    assert "\n" not in delivery.detail
    assert took < 5
