"""Hostile clients for the exporter's tests: raw sockets to 127.0.0.1 only, and the server
process's CPU time read from /proc."""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import select
import socket
import struct
import time
from pathlib import Path

import bcrypt

from lab.monitoring import School, write_district

FAST = {"count": 2, "period_ms": 100, "timeout_ms": 300, "services_interval_s": 5,
        "check_timeout_s": 2}
PARTIAL_REQUEST = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # the blank line never comes


def small_district(root: Path) -> Path:
    return write_district(root, [School("4401010001", ["127.0.0.1"])], FAST)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect_many(port: int, count: int, send: bytes = b"") -> list[socket.socket]:
    """``count`` connections begun at once (non-blocking: a server that stopped accepting
    must not make the test wait for each), each sending ``send`` once connected; returns when
    every one is connected, or after 5 s."""
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        socks.append(sock)
    deadline = time.monotonic() + 5
    pending = list(socks)
    while pending and time.monotonic() < deadline:
        _r, writable, _x = select.select([], pending, [], 0.2)
        for sock in writable:
            if send:
                with contextlib.suppress(OSError):  # closed already: what some tests look for
                    sock.send(send)
            pending.remove(sock)
    return socks


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed (or reset) the connection; never blocks."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(4096, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset, or the connection never got through
    finally:
        sock.settimeout(timeout)


def wait_closed(socks: list[socket.socket], within: float) -> list[socket.socket]:
    """Wait up to ``within`` seconds for the server to close each; the ones still open."""
    deadline = time.monotonic() + within
    still = [s for s in socks if not closed_by_server(s)]
    while still and time.monotonic() < deadline:
        time.sleep(0.1)
        still = [s for s in still if not closed_by_server(s)]
    return still


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a client that crashes or gives up does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def bcrypt_seconds(hashed: bytes) -> float:
    """What one bcrypt check of ``hashed`` costs on this machine now (median of three)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        bcrypt.checkpw(b"not the password", hashed)
        times.append(time.perf_counter() - started)
    return sorted(times)[1]


def status_from(source: str, port: int, user: str, password: str) -> int:
    """Status of GET /metrics on 127.0.0.1:``port`` with basic auth, sent from the loopback
    address ``source`` (any 127.0.0.0/8 address can be bound on Linux)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                            source_address=(source, 0))
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Basic {token}"})
        return connection.getresponse().status
    finally:
        connection.close()
