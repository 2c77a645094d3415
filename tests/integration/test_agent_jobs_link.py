"""The agent's link job from inside a school, for real on loopback: ICMP echoes to 127.0.0.x
through the monitor's sweep, a DNS resolver started here on 127.53.x.y port 53, an HTTP
server on 127.0.0.1, each run through the job runner (a forked child) as the agent runs it.

The samples carry the monitor's metric names and labels, plus ``vantage="agent"``; each
target is one result.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dlict.agent.config import AgentConfig
from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.link import LinkJob
from dlict.agent.jobs.registry import build_jobs
from dlict.agent.jobs.runner import run_job
from dlict.agent.jobs.settings import LinkJobSettings
from dlict.agent.records import Kind, Record, result_of
from dlict.core.metric_names import (
    DNS_LOOKUP,
    DNS_UP,
    HTTP_STATUS,
    HTTP_UP,
    LINK_UP,
    PROBE_LOSS,
    PROBE_RTT,
    PROBE_UP,
)
from dlict.core.results import Status
from tests.httpstub import QuietHandler, serving

SITE, HOST = "4401010001", "school-srv"
CONTEXT = JobContext(SITE, HOST, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))


def _answer(query: bytes) -> bytes:
    """NOERROR with one A record 192.0.2.53 for the query's question, written by hand."""
    offset = 12
    while query[offset]:
        offset += 1 + query[offset]
    question = query[12:offset + 5]
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 53])
    return query[:2] + struct.pack("!HHHHH", 0x8580, 1, 1, 0, 0) + question + record


@pytest.fixture
def resolver() -> Iterator[str]:
    """A loopback address with an answering resolver on UDP port 53."""
    address = f"127.53.{random.randrange(256)}.{random.randrange(1, 254)}"
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


class School(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path == "/":
            self.send_body(b"<html>school</html>", content_type="text/html")
        else:
            self.send_body(b"gone", status=404)


def samples(records: list[Record]) -> dict[tuple[str, str], float]:
    """(name, target label) -> value of every sample."""
    return {(r.body["name"], r.body["labels"].get("target", "")): r.body["value"]
            for r in records if r.kind is Kind.SAMPLE}


def verdicts(records: list[Record]) -> dict[str, Status]:
    return {str(result_of(r).target): result_of(r).status
            for r in records if r.kind is Kind.RESULT}


def test_link_job_probes_icmp_dns_and_http_from_inside(resolver: str) -> None:
    silent = resolver.rsplit(".", 1)[0] + ".255"  # nothing answers DNS there
    with serving(School) as web:
        settings = LinkJobSettings(
            icmp=["127.0.0.1", "127.0.0.2"], count=3, period_ms=20, timeout_ms=500,
            services={"dns": [{"server": resolver, "name": "obec.go.th"},
                              {"server": silent, "name": "obec.go.th"}],
                      "http": [f"{web.url}/", f"{web.url}/missing"]},
            check_timeout_s=1)
        run = run_job(LinkJob(settings), CONTEXT)
    assert (run.error, run.cut) == (None, False)
    records = list(run.records)
    assert {r.site for r in records} == {SITE}
    assert verdicts(records) == {
        "icmp 127.0.0.1": Status.PASS,
        "icmp 127.0.0.2": Status.PASS,
        f"dns {resolver}/obec.go.th": Status.PASS,
        f"dns {silent}/obec.go.th": Status.FAIL,
        f"http {web.url}/": Status.PASS,
        f"http {web.url}/missing": Status.FAIL,
    }
    values = samples(records)
    assert values[(PROBE_UP.name, "127.0.0.1")] == 1.0
    assert values[(PROBE_LOSS.name, "127.0.0.2")] == 0.0
    assert 0 < values[(PROBE_RTT.name, "127.0.0.1")] < 0.1
    assert values[(LINK_UP.name, "")] == 1.0
    assert values[(DNS_UP.name, f"{resolver}/obec.go.th")] == 1.0
    assert values[(DNS_UP.name, f"{silent}/obec.go.th")] == 0.0
    assert values[(DNS_LOOKUP.name, f"{resolver}/obec.go.th")] < 1
    assert values[(HTTP_UP.name, f"{web.url}/")] == 1.0
    assert values[(HTTP_STATUS.name, f"{web.url}/missing")] == 404.0
    for record in records:
        if record.kind is Kind.SAMPLE:
            labels = record.body["labels"]
            assert (labels["site"], labels["host"], labels["vantage"]) == (SITE, HOST, "agent")
    evidence = {str(result_of(r).target): result_of(r).evidence
                for r in records if r.kind is Kind.RESULT}
    assert evidence["icmp 127.0.0.1"].startswith("received 3/3, rtt ")
    assert evidence[f"http {web.url}/missing"] == "HTTP 404 Not Found"


def test_registry_builds_only_enabled_jobs_with_something_to_observe() -> None:
    base = {"site": SITE, "host": HOST, "office": "https://127.0.0.1:8443"}
    assert [j.name for j in build_jobs(AgentConfig.model_validate(base))] == ["host"]
    config = AgentConfig.model_validate({**base, "jobs": {
        "link": {"icmp": ["127.0.0.1"], "interval_s": 30},
        "dltv": {"enabled": False, "receivers": [{"source": "hls",
                                                  "address": "http://127.0.0.1:1/x",
                                                  "channels": [1]}]},
        "lan": {"networks": ["192.168.1.0/24"]},
        "host": {"enabled": False}}})
    jobs = build_jobs(config)
    assert [(j.name, j.interval_s, j.deadline_s) for j in jobs] == [
        ("link", 30, 30), ("lan", 900, 120)]


class Slow(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        time.sleep(1.0)
        self.send_body(b"late", content_type="text/plain")


def test_service_checks_run_while_the_icmp_sweep_paces_its_echoes() -> None:
    """A service answering in 1 s and an ICMP sweep of about 1 s take about 1 s together,
    not 2: a slow school server does not stretch the run past the monitor's pace."""
    with serving(Slow) as web:
        settings = LinkJobSettings(icmp=["127.0.0.1"], count=5, period_ms=250, timeout_ms=300,
                                   services={"http": [f"{web.url}/"]}, check_timeout_s=3)
        job = LinkJob(settings)
        started = time.monotonic()
        records = job.run(CONTEXT)
        took = time.monotonic() - started
    assert verdicts(list(records)) == {"icmp 127.0.0.1": Status.PASS,
                                       f"http {web.url}/": Status.PASS}
    assert 1.0 <= took < 1.7
