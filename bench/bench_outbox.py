"""Benchmark: the agent's outbox — how fast records go in, what one costs on the disk, and
whether the cap holds.

In one run, on the same disk, with the same records (metric samples as the link job makes):

* ``Outbox.put`` in puts of ``--put`` records (a job's run) and of one record;
* the anchor: plain ``sqlite3`` ``executemany`` of the same rows into one table keyed by the
  idempotency key, WAL and ``synchronous=FULL`` too — the least a durable keyed queue costs;
* bytes of file per stored sample, and the file's size against a cap when 10x the cap is put.

Prints records/s for each, the ratio outbox / anchor, and the bytes per sample.

Run from the repository:  .venv/bin/python -m bench.bench_outbox [--records 100000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from dlict.agent.outbox import Outbox
from dlict.agent.records import Record, sample_record

SITE, HOST = "4401010001", "s4401010001-srv"


def _samples(count: int, start: int = 0) -> list[Record]:
    return [sample_record(SITE, HOST, "dlict_agent_probe_rtt_seconds",
                          {"target": f"10.44.{i % 250}.1", "kind": "icmp"}, 0.0123 + i)
            for i in range(start, start + count)]


def _outbox_rate(path: Path, records: list[Record], put: int) -> float:
    with Outbox.open(path, 10**12) as outbox:
        started = time.perf_counter()
        for start in range(0, len(records), put):
            outbox.put(records[start:start + put])
        return len(records) / (time.perf_counter() - started)


def _anchor_rate(path: Path, records: list[Record], put: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE q (key TEXT PRIMARY KEY, kind TEXT, site TEXT, host TEXT,"
                     " at TEXT, body TEXT)")
        rows = [(r.key, str(r.kind), r.site, r.host, r.created_at.isoformat(),
                 json.dumps(dict(r.body), separators=(",", ":"))) for r in records]
        started = time.perf_counter()
        for start in range(0, len(rows), put):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO q VALUES (?, ?, ?, ?, ?, ?)", rows[start:start + put])
            conn.execute("COMMIT")
        return len(rows) / (time.perf_counter() - started)
    finally:
        conn.close()


def _cap_ratio(path: Path, cap: int) -> tuple[float, int]:
    """Put ten times the cap; the file's size over the cap, and the samples dropped."""
    with Outbox.open(path, cap) as outbox:
        for start in range(0, cap // 25, 1_000):
            outbox.put(_samples(1_000, start))
        dropped = outbox.stats().dropped["sample"]
    return path.stat().st_size / cap, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--put", type=int, default=500, help="records in one put")
    parser.add_argument("--single", type=int, default=2_000, help="puts of one record")
    parser.add_argument("--cap-mb", type=float, default=10.0)
    args = parser.parse_args()
    records = _samples(args.records)
    with tempfile.TemporaryDirectory(prefix="dlict-bench-outbox-") as tmp:
        base = Path(tmp)
        outbox_rate = _outbox_rate(base / "a" / "outbox.sqlite", records, args.put)
        anchor_rate = _anchor_rate(base / "anchor.sqlite", records, args.put)
        path = base / "a" / "outbox.sqlite"
        per_sample = path.stat().st_size / args.records
        single = records[: args.single]
        outbox_one = _outbox_rate(base / "b" / "outbox.sqlite", _samples(args.single), 1)
        anchor_one = _anchor_rate(base / "anchor1.sqlite", single, 1)
        ratio, dropped = _cap_ratio(base / "c" / "outbox.sqlite", int(args.cap_mb * 2**20))
    print(f"put {args.put} a time: outbox {outbox_rate:,.0f} records/s, sqlite3 anchor "
          f"{anchor_rate:,.0f} records/s; ratio outbox / anchor = {outbox_rate / anchor_rate:.2f}")
    print(f"put 1 a time (one fsync'd commit each): outbox {outbox_one:,.0f} records/s, "
          f"sqlite3 anchor {anchor_one:,.0f} records/s; ratio outbox / anchor = "
          f"{outbox_one / anchor_one:.2f}")
    print(f"outbox file: {per_sample:.0f} bytes per sample record ({args.records:,} samples)")
    print(f"cap {args.cap_mb:g} MiB, 10x put: file / cap = {ratio:.2f}, {dropped:,} oldest "
          "samples dropped and counted")


if __name__ == "__main__":
    main()
