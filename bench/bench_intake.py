"""Benchmark: how many agent records a second `dlict intake serve` stores, over real TLS.

A real `dlict intake serve` (a subprocess, mutual TLS on 127.0.0.1) receives batches from
`--agents` concurrent agents, each enrolled with its own client certificate and sending its
`--batches` batches of `--records` records back to back on one kept-alive connection, as an
agent drains a day's backlog after its link comes back. A record mix like a school's day:
40 % compliance results, 55 % metric samples, 5 % events. The batches are encoded before the
clock starts (the agents' work, not the intake's).

The anchor, in the same run: the same rows inserted straight into SQLite with executemany,
one transaction a batch, into the same schema with the same durability (WAL,
synchronous=FULL) — the floor no intake built on this store can go below. The bench prints
records/s of both and their ratio, and checks that the store holds every record once.

Goal: at least 5,000 records/s (500 schools' day of backlog drained in minutes).

Run from the repository:  .venv/bin/python -m bench.bench_intake [--agents 8]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from dlict.agent.records import Kind, Record, event_record, result_record, sample_record
from dlict.agent.wire import BATCH_PATH, MEDIA_TYPE, BatchHeader, decode_batch, encode_batch
from dlict.core.clock import utc_now
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from lab.intake_pki import Credentials, enrol, init_district

GOAL_RECORDS_S = 5_000
BIN = Path(sys.executable).parent


def _records(site: str, host: str, count: int, seed: int) -> list[Record]:
    start = utc_now() - timedelta(hours=24)
    made: list[Record] = []
    for i in range(count):
        at = start + timedelta(seconds=i)
        share = (i * 7 + seed) % 100
        if share < 40:
            made.append(result_record(Result(
                site=site, host=host, control=f"FW-{i % 12 + 1:02d}", observed_at=at,
                status=Status.PASS if i % 9 else Status.FAIL,
                evidence=f"nft list ruleset: chain input policy drop; rule {i}")))
        elif share < 95:
            made.append(sample_record(site, host, "dlict_agent_probe_rtt_seconds",
                                      {"target": f"10.{seed % 250}.0.{i % 4 + 1}"},
                                      0.01 + (i % 50) / 1000, at))
        else:
            made.append(event_record(site, host, "unknown_device",
                                     f"02:00:00:{seed % 256:02x}:{i // 256 % 256:02x}:"
                                     f"{i % 256:02x} on the school LAN", at))
    return made


@dataclass
class Agent:
    site: str
    host: str
    creds: Credentials
    bodies: list[bytes]


def _prepare(data_dir: Path, agents: int, batches: int, records: int) -> list[Agent]:
    init_district(data_dir)
    made = []
    for n in range(agents):
        site, host = f"44010{n:03d}", f"school{n}-srv"
        creds = enrol(data_dir, site, host, data_dir.parent / "agents" / host)
        bodies = []
        for b in range(batches):
            batch = _records(site, host, records, seed=n * 1000 + b)
            bodies.append(encode_batch(BatchHeader(site, host, utc_now(), 0, {}), batch))
        made.append(Agent(site, host, creds, bodies))
    return made


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _intake(data_dir: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port, metrics_port = _free_port(), _free_port()
    log = (data_dir.parent / "intake.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "dlict"), "--data-dir", str(data_dir), "intake", "serve", "--listen",
         f"127.0.0.1:{port}", "--metrics-listen", f"127.0.0.1:{metrics_port}"],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("dlict intake serve did not start: "
                                     + (data_dir.parent / "intake.log").read_text()) from None
                time.sleep(0.05)
        yield port, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _send_all(port: int, agent: Agent, errors: list[str]) -> None:
    context = ssl.create_default_context(cafile=str(agent.creds.ca))
    context.load_cert_chain(agent.creds.cert, agent.creds.key)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)
    try:
        for body in agent.bodies:
            conn.request("POST", BATCH_PATH, body=body, headers={"Content-Type": MEDIA_TYPE})
            answer = conn.getresponse()
            text = answer.read()
            if answer.status != 200:
                errors.append(f"{agent.host}: HTTP {answer.status}: {text[:200]!r}")
                return
    finally:
        conn.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure_intake(data_dir: Path, agents: list[Agent]) -> tuple[float, float]:
    """Seconds from the first byte to the last answer, and the server's CPU seconds."""
    errors: list[str] = []
    with _intake(data_dir) as (port, process):
        cpu_before = _cpu_seconds(process.pid)
        threads = [threading.Thread(target=_send_all, args=(port, agent, errors))
                   for agent in agents]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid) - cpu_before
    if errors:
        raise SystemExit("the intake refused batches:\n" + "\n".join(errors[:5]))
    return elapsed, cpu


def _anchor_rows(agents: list[Agent]) -> list[dict[str, list[tuple[object, ...]]]]:
    """Each batch's rows for the store's tables, as the intake would write them."""
    now = utc_now().isoformat()
    batches = []
    for agent in agents:
        for body in agent.bodies:
            _header, records = decode_batch(body)
            rows: dict[str, list[tuple[object, ...]]] = {
                "keys": [], "results": [], "samples": [], "events": []}
            for r in records:
                rows["keys"].append((r.key, now))
                when = r.created_at.isoformat()
                if r.kind is Kind.RESULT:
                    rows["results"].append((r.site, r.host, r.body["control"], None,
                                            r.body["status"], r.body["evidence"], when))
                elif r.kind is Kind.SAMPLE:
                    rows["samples"].append((r.site, r.host, r.body["name"],
                                            '{"target":"' + r.body["labels"]["target"] + '"}',
                                            r.body["value"], when, now))
                else:
                    rows["events"].append((r.site, r.host, r.body["type"],
                                           '{"detail":"' + r.body["detail"] + '"}', when, now))
            batches.append(rows)
    return batches


def _measure_anchor(path: Path, batches: list[dict[str, list[tuple[object, ...]]]]) -> float:
    EvidenceStore.open(path).close()  # the same schema, indexes and pragmas
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO agent_record_keys (key, received_at) VALUES (?, ?)",
                         rows["keys"])
        cur = conn.execute("INSERT INTO runs (kind, command, operator, dlict_version,"
                           " started_at, finished_at, status) VALUES ('agent', '', '', '',"
                           " '', '', 'ok')")
        conn.executemany(
            "INSERT INTO results (run_id, site, host, control, target, status, evidence,"
            " observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, *row) for row in rows["results"]])
        conn.executemany(
            "INSERT INTO agent_samples (site, host, name, labels, value, observed_at,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows["samples"])
        conn.executemany(
            "INSERT INTO agent_events (site, host, type, body, observed_at, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", rows["events"])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _stored(path: Path) -> int:
    with EvidenceStore.open(path) as store, store.reading() as conn:
        (count,) = conn.execute("SELECT count(*) FROM agent_record_keys").fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=8, help="concurrent agents")
    parser.add_argument("--batches", type=int, default=5, help="batches an agent sends")
    parser.add_argument("--records", type=int, default=5_000, help="records a batch")
    args = parser.parse_args()
    total = args.agents * args.batches * args.records
    with tempfile.TemporaryDirectory(prefix="dlict-bench-intake-") as tmp:
        data_dir = Path(tmp) / "data"
        agents = _prepare(data_dir, args.agents, args.batches, args.records)
        size = sum(len(body) for agent in agents for body in agent.bodies)
        elapsed, cpu = _measure_intake(data_dir, agents)
        stored = _stored(data_dir / "evidence.sqlite")
        anchor_s = _measure_anchor(Path(tmp) / "anchor.sqlite", _anchor_rows(agents))
    intake_rate, anchor_rate = total / elapsed, total / anchor_s
    print(f"{args.agents} concurrent agents x {args.batches} batches x {args.records} records "
          f"= {total} records, {size / 1e6:.1f} MB gzip over TLS")
    print(f"intake (TLS, decode, de-duplicate, store): {elapsed:.2f} s, "
          f"{intake_rate:,.0f} records/s, server CPU {cpu:.2f} s")
    print(f"anchor (the same rows, SQLite executemany): {anchor_s:.2f} s, "
          f"{anchor_rate:,.0f} records/s")
    print(f"ratio intake / anchor = {intake_rate / anchor_rate:.3f}")
    print(f"stored {stored} of {total} records (goal: every one, once)")
    ok = stored == total and intake_rate >= GOAL_RECORDS_S
    print(f"goal >= {GOAL_RECORDS_S:,} records/s: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
