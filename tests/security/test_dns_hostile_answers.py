"""Hostile and broken DNS servers against the DNS probe (``dlict monitor``'s dns checks).

Each server is a real responder on an ephemeral 127.0.0.1 port (UDP and TCP), run in a thread
and closed in teardown; its answers are written byte by byte here, independently of dnspython.
Whatever it sends, the probe returns a failed result with a one-line reason, inside its one
deadline (timeout plus scheduling slack), and never raises.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from dlict.probes.dns import DnsResult, dns_lookup
from tests.dnswire import POINTER_TO_QUESTION, a_record, header, question_of, record

LOOPBACK = "127.0.0.1"
SLACK = 0.3  # thread wake-up and scheduling over a probe's timeout; never a second try
TIMEOUT_S = 0.6


class Responder:
    """Answers each UDP query with ``on_udp(query)`` (None: stays silent) and serves one TCP
    connection at a time with ``on_tcp(connection, query)``."""

    def __init__(self, on_udp: Callable[[bytes], list[bytes]],
                 on_tcp: Callable[[socket.socket, bytes], None] | None = None) -> None:
        self.on_udp, self.on_tcp = on_udp, on_tcp
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((LOOPBACK, 0))
        self.port = int(self.udp.getsockname()[1])
        self.tcp = socket.socket()
        self.tcp.bind((LOOPBACK, self.port))
        self.tcp.listen(4)
        self.transports: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _serve_udp(self) -> None:
        self.udp.settimeout(0.05)
        while not self.stop.is_set():
            try:
                query, client = self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.transports.append("udp")
            for datagram in self.on_udp(query):
                self.udp.sendto(datagram, client)

    def _serve_tcp(self) -> None:
        self.tcp.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _client = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    (length,) = struct.unpack("!H", conn.recv(2, socket.MSG_WAITALL))
                    query = conn.recv(length, socket.MSG_WAITALL)
                    self.transports.append("tcp")
                    if self.on_tcp is not None:
                        self.on_tcp(conn, query)
                except OSError:
                    continue

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(3)
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def responder() -> Iterator[Callable[..., Responder]]:
    started: list[Responder] = []

    def start(on_udp: Callable[[bytes], list[bytes]],
              on_tcp: Callable[[socket.socket, bytes], None] | None = None) -> Responder:
        started.append(Responder(on_udp, on_tcp))
        return started[-1]

    yield start
    for server in started:
        server.close()


def probe(server: Responder, name: str = "school.example") -> tuple[DnsResult, float]:
    started = time.monotonic()
    result = dns_lookup(LOOPBACK, name, TIMEOUT_S, port=server.port)
    return result, time.monotonic() - started


def assert_failed_in_time(result: DnsResult, elapsed: float, error_start: str) -> None:
    assert not result.up and result.addresses == []
    assert result.error is not None and result.error.startswith(error_start), result.error
    assert "\n" not in result.error and len(result.error) < 300
    assert elapsed < TIMEOUT_S + SLACK
    assert result.seconds < TIMEOUT_S + SLACK


def test_a_huge_answer_count_is_a_malformed_answer(
        responder: Callable[..., Responder]) -> None:
    server = responder(lambda q: [header(q, 65535) + question_of(q) + a_record()])
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, "malformed answer: ")


def test_a_compression_loop_is_a_malformed_answer(responder: Callable[..., Responder]) -> None:
    def answer(query: bytes) -> list[bytes]:
        start = 12 + len(question_of(query))
        loop = struct.pack("!H", 0xC000 | start)  # the owner name points at itself
        return [header(query, 1) + question_of(query) + a_record(owner=loop)]

    server = responder(answer)
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, "malformed answer: ")


def test_an_address_record_of_the_wrong_size_is_a_malformed_answer(
        responder: Callable[..., Responder]) -> None:
    server = responder(lambda q: [header(q, 1) + question_of(q)
                                  + record(POINTER_TO_QUESTION, 1, b"\x01\x02\x03\x04\x05")])
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, "malformed answer: ")


def test_a_flood_of_garbage_with_our_id_ends_on_time_in_bounded_memory(
        responder: Callable[..., Responder]) -> None:
    # 2,000 datagrams of 4 kB each (8 MB) carrying the query's id, none of them readable.
    garbage = bytes(range(256)) * 16
    server = responder(lambda q: [q[:2] + garbage[2:]] * 2000)
    tracemalloc.start()
    try:
        result, elapsed = probe(server)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_failed_in_time(result, elapsed, "malformed answer: ")
    assert peak < 2_000_000


def test_a_cname_loop_is_a_failed_lookup(responder: Callable[..., Responder]) -> None:
    def answer(query: bytes) -> list[bytes]:
        cname = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, 2) + b"\xc0\x0c"  # to itself
        return [header(query, 1) + question_of(query) + cname]

    server = responder(answer)
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, "malformed answer: ")


def test_truncated_then_a_tcp_server_that_never_answers_keeps_one_deadline(
        responder: Callable[..., Responder]) -> None:
    server = responder(lambda q: [header(q, 0, flags=0x8380) + question_of(q)],
                       on_tcp=lambda conn, q: time.sleep(TIMEOUT_S + 1))
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, f"timed out after {TIMEOUT_S} s")
    assert server.transports == ["udp", "tcp"]


def test_truncated_then_a_tcp_answer_trickled_byte_by_byte_keeps_one_deadline(
        responder: Callable[..., Responder]) -> None:
    def trickle(conn: socket.socket, query: bytes) -> None:
        body = header(query, 1) + question_of(query) + a_record()
        for byte in struct.pack("!H", len(body)) + body:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)

    server = responder(lambda q: [header(q, 0, flags=0x8380) + question_of(q)], on_tcp=trickle)
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, f"timed out after {TIMEOUT_S} s")


def test_an_answer_for_another_question_is_ignored_until_the_deadline(
        responder: Callable[..., Responder]) -> None:
    other = b"\x04evil\x07example\x00" + struct.pack("!HH", 1, 1)
    server = responder(lambda q: [header(q, 1) + other + a_record()])
    result, elapsed = probe(server)
    assert_failed_in_time(result, elapsed, f"timed out after {TIMEOUT_S} s")
    assert elapsed >= TIMEOUT_S
