"""`dlict monitor`'s HTTP server against clients that hold connections open, trickle a request,
flood it with connections or leave in the middle: a real monitor process on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from lab.monitoring import fetch, running_monitor, self_signed_certificate
from tests.conftest import CliRunner
from tests.security.exporter_support import (
    PARTIAL_REQUEST,
    close_all,
    closed_by_server,
    connect_many,
    cpu_seconds,
    reset,
    small_district,
    wait_closed,
)

DEFAULT_REQUEST_TIMEOUT_S = 10
SLACK_S = 2.5  # the server looks for overdue connections 4 times a second; a busy machine


def test_idle_connections_at_the_descriptor_limit_neither_block_nor_spin(tmp_path: Path) -> None:
    """200 connections that send nothing, to a monitor allowed 128 file descriptors: a scrape is
    still answered, the server does not spin, and the idle ones are cut after the default
    request timeout."""
    inventory = small_district(tmp_path / "inv")
    with running_monitor(inventory, tmp_path, prefix=["prlimit", "--nofile=128:128"]) as monitor:
        port = int(monitor.url.rsplit(":", 1)[1])
        idle = connect_many(port, 200)
        try:
            time.sleep(1)  # the server has taken (or failed to take) them all
            started = time.monotonic()
            status, _h, body = fetch(f"{monitor.url}/metrics", timeout=5)
            assert status == 200 and b"dlict_link_up" in body
            assert time.monotonic() - started < 3
            before = cpu_seconds(monitor.process.pid)
            time.sleep(2)
            spent = cpu_seconds(monitor.process.pid) - before
            assert spent < 0.3, f"the server used {spent:.2f} s of CPU in 2 s while idle"
            still_open = wait_closed(idle, DEFAULT_REQUEST_TIMEOUT_S + SLACK_S)
            assert not still_open, f"{len(still_open)} idle connections still open"
            assert fetch(f"{monitor.url}/metrics", timeout=5)[0] == 200
        finally:
            close_all(idle)
        assert "Traceback" not in monitor.output()


def test_a_slowloris_request_is_cut_after_the_request_timeout(tmp_path: Path) -> None:
    """One byte of a request a second never completes a request: the connection is closed
    once the default request timeout is over, and scrapes are answered meanwhile."""
    inventory = small_district(tmp_path / "inv")
    with running_monitor(inventory, tmp_path) as monitor:
        port = int(monitor.url.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        started = time.monotonic()
        try:
            request = PARTIAL_REQUEST + b"X-Padding: " + b"a" * 100
            cut_after = None
            for byte in request:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    cut_after = time.monotonic() - started
                    break
                if closed_by_server(sock):
                    cut_after = time.monotonic() - started
                    break
                if time.monotonic() - started > DEFAULT_REQUEST_TIMEOUT_S + SLACK_S:
                    break
                assert fetch(f"{monitor.url}/healthz", timeout=5)[0] == 200
                time.sleep(1)
        finally:
            sock.close()
    assert cut_after is not None, "the slowloris connection was still open"
    assert DEFAULT_REQUEST_TIMEOUT_S - 1 <= cut_after <= DEFAULT_REQUEST_TIMEOUT_S + SLACK_S


def test_tls_handshakes_that_never_finish_are_cut(tmp_path: Path) -> None:
    """Under TLS the handshake is part of the request: a client that connects and sends
    nothing, or half a ClientHello, is closed after --request-timeout; HTTPS scrapes go on."""
    cert, key = self_signed_certificate(tmp_path)
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {cert.name}\n  key_file: {key.name}\n")
    trust = ssl.create_default_context(cafile=str(cert))
    inventory = small_district(tmp_path / "inv")
    with running_monitor(inventory, tmp_path, "--web-config", str(web), "--request-timeout",
                         "2", scheme="https", context=trust) as monitor:
        port = int(monitor.url.rsplit(":", 1)[1])
        silent = connect_many(port, 5)
        half_hello = connect_many(port, 5, send=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        try:
            assert fetch(f"{monitor.url}/metrics", context=trust)[0] == 200
            assert not wait_closed(silent + half_hello, 2 + SLACK_S)
            assert fetch(f"{monitor.url}/metrics", context=trust)[0] == 200
        finally:
            close_all(silent + half_hello)
        assert "Traceback" not in monitor.output()


def test_beyond_the_connection_cap_newcomers_are_served_and_the_flood_cut(
        tmp_path: Path) -> None:
    """With --max-connections 4, 40 connections that start a request and stall: all but the
    cap are closed at once, scrapes are answered during the flood and after it."""
    inventory = small_district(tmp_path / "inv")
    with running_monitor(inventory, tmp_path, "--max-connections", "4") as monitor:
        port = int(monitor.url.rsplit(":", 1)[1])
        flood = connect_many(port, 40, send=PARTIAL_REQUEST)
        try:
            still_open = wait_closed(flood, 2)
            assert len(still_open) <= 4
            before = cpu_seconds(monitor.process.pid)
            for _ in range(5):
                status, _h, body = fetch(f"{monitor.url}/metrics", timeout=5)
                assert status == 200 and b"dlict_link_up" in body
            assert cpu_seconds(monitor.process.pid) - before < 1.5
        finally:
            close_all(flood)
        time.sleep(0.5)
        for _ in range(5):
            assert fetch(f"{monitor.url}/metrics", timeout=5)[0] == 200
        assert fetch(f"{monitor.url}/healthz", timeout=5)[0] == 200


def _leave_early(port: int, how: str) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    if how == "before-the-answer":
        sock.sendall(request)
    elif how == "mid-answer":
        sock.sendall(request)
        sock.recv(64)
    elif how == "mid-request":
        sock.sendall(PARTIAL_REQUEST)
    reset(sock)


def test_clients_that_leave_early_leave_no_traceback(tmp_path: Path) -> None:
    """Clients that reset the connection before, during or after the answer, many at once:
    nothing but the monitor's own lines on its output, and it keeps answering."""
    inventory = small_district(tmp_path / "inv")
    with running_monitor(inventory, tmp_path) as monitor:
        port = int(monitor.url.rsplit(":", 1)[1])
        workers = [threading.Thread(target=lambda how=how: [
            _leave_early(port, how) for _ in range(20)])
            for how in ("before-the-answer", "mid-answer", "mid-request")]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        time.sleep(1)
        assert fetch(f"{monitor.url}/metrics", timeout=5)[0] == 200
        output = monitor.output()
    assert "Traceback" not in output and "Exception" not in output, output[-3000:]
    assert "Error" not in output, output[-3000:]


@pytest.mark.parametrize(("option", "value"), [
    ("--request-timeout", "nan"), ("--request-timeout", "inf"), ("--request-timeout", "0"),
    ("--max-connections", "0"), ("--max-connections", "1000000"),
])
def test_limits_out_of_range_are_one_line(cli: CliRunner, tmp_path: Path, option: str,
                                          value: str) -> None:
    result = cli("-i", str(small_district(tmp_path / "inv")), "monitor", option, value)
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0 and f"{option}:" in result.stderr
