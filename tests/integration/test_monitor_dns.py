"""`dlict monitor --once` checks a school's DNS server through the probe on dnspython: the
caller (plan, scheduler, report) sees the same result shape as before — up, seconds, the
answer code or the error.

The resolvers listen on port 53 (the port `services: dns` asks) of loopback addresses of the
test's own (127.53.x.y, drawn per run so parallel runs do not meet); the test runs as root.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.monitoring import School, write_district
from tests.conftest import CliRunner

FAST = {"count": 1, "period_ms": 100, "timeout_ms": 300, "services_interval_s": 5,
        "check_timeout_s": 1}


def _answer(query: bytes) -> bytes:
    """NOERROR with one A record 192.0.2.53 for the query's question (its EDNS0 record left
    out), written by hand."""
    offset = 12
    while query[offset]:
        offset += 1 + query[offset]
    question = query[12:offset + 5]
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 53])
    return query[:2] + struct.pack("!HHHHH", 0x8580, 1, 1, 0, 0) + question + record


@pytest.fixture
def resolver_address() -> Iterator[str]:
    """A loopback address with an answering resolver on UDP port 53."""
    address = f"127.53.{random.randrange(256)}.{random.randrange(1, 255)}"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, client = sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            sock.sendto(_answer(query), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield address
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def test_once_reports_a_school_dns_answer_and_a_dead_resolver(
        cli: CliRunner, tmp_path: Path, resolver_address: str) -> None:
    silent = resolver_address.rsplit(".", 1)[0] + ".255"  # nothing listens there
    inventory = write_district(tmp_path / "inv", [
        School("4401010001", services={"dns": [{"server": resolver_address,
                                                 "name": "www.school.example"}]}),
        School("4401010002", services={"dns": [{"server": silent,
                                                 "name": "www.school.example"}]}),
    ], FAST)
    result = cli("-i", str(inventory), "monitor", "--once", "--json")
    assert result.code == 1, result.stderr
    rows = {row["site"]: row for row in json.loads(result.stdout)}
    (healthy,), (dead,) = rows["4401010001"]["services"], rows["4401010002"]["services"]
    assert healthy["kind"] == "dns"
    assert healthy["target"] == f"{resolver_address}/www.school.example"
    assert healthy["up"] is True and healthy["detail"] == "NOERROR"
    assert 0 < healthy["seconds"] < 1
    assert dead["up"] is False and dead["detail"] == "connection refused"
    assert dead["seconds"] < 1
