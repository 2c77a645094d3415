"""Benchmark: what the evidence store's damage check costs a command, and why it is not run
on every open of a large store.

For stores of several sizes (results of ~300 bytes of evidence, as an audit writes them) it
times, alternating, several rounds of

* ``dlict runs list`` when the daily full check is due (``PRAGMA quick_check`` on open);
* ``dlict runs list`` when it is not (the last check is recent);
* the anchor: ``sqlite3 FILE 'PRAGMA quick_check'`` (SQLite's own shell, the same check).

Prints medians, the check's cost per MiB, and the ratio of a checked open to an unchecked
one. ``--cold`` drops the page cache before each round (root; the whole machine's cache, so
not while others measure: it stands for the first command of a day).

Run from the repository:  .venv/bin/python -m bench.bench_store_check [--results 100000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from dlict.core.clock import utc_now
from dlict.core.results import Result, Status
from dlict.core.store import QUICK_CHECK_EVERY_OPEN_MAX_BYTES, EvidenceStore, RunStatus

BIN = Path(sys.executable).parent
BATCH = 20_000


def _build(path: Path, results: int) -> None:
    with EvidenceStore.open(path) as store:
        for start in range(0, results, BATCH):
            run_id = store.start_run("audit", "dlict audit")
            store.add_results(run_id, [
                Result(site=f"44010{i % 500:05d}", host=f"s{i % 500}-srv",
                       control=f"FW-{i % 40:02d}",
                       status=Status.PASS if i % 7 else Status.FAIL,
                       evidence=f"nft list ruleset: input policy drop; row {i} " + "x" * 250)
                for i in range(start, min(results, start + BATCH))
            ])
            store.finish_run(run_id, RunStatus.OK)


def _set_last_check(path: Path, days_ago: float) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DELETE FROM store_checks")
        conn.execute("INSERT INTO store_checks (kind, checked_at) VALUES ('quick_check', ?)",
                     ((utc_now() - timedelta(days=days_ago)).isoformat(),))
    finally:
        conn.close()


def _timed(command: list[str], cold: bool) -> float:
    if cold:
        subprocess.run(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"], check=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _measure(path: Path, rounds: int, cold: bool) -> dict[str, float]:
    runs_list = [str(BIN / "dlict"), "--data-dir", str(path.parent), "runs", "list"]
    anchor = ["sqlite3", str(path), "PRAGMA quick_check"]
    times: dict[str, list[float]] = {"checked": [], "unchecked": [], "anchor": []}
    for _ in range(rounds):
        _set_last_check(path, days_ago=2)
        times["checked"].append(_timed(runs_list, cold))
        _set_last_check(path, days_ago=0)
        times["unchecked"].append(_timed(runs_list, cold))
        times["anchor"].append(_timed(anchor, cold))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="drop the page cache each round")
    args = parser.parse_args()
    print(f"checked on every open up to {QUICK_CHECK_EVERY_OPEN_MAX_BYTES / 2**20:.0f} MiB; "
          "larger stores once a day")
    with tempfile.TemporaryDirectory(prefix="dlict-bench-store-") as tmp:
        for count in args.results:
            path = Path(tmp) / str(count) / "evidence.sqlite"
            _build(path, count)
            mib = path.stat().st_size / 2**20
            got = _measure(path, args.rounds, args.cold)
            check_ms = (got["checked"] - got["unchecked"]) * 1000
            print(f"{count:>9} results {mib:7.1f} MiB: runs list {got['unchecked'] * 1000:6.0f} ms"
                  f" unchecked, {got['checked'] * 1000:6.0f} ms checked (check {check_ms:.0f} ms,"
                  f" {check_ms / mib:.1f} ms/MiB); sqlite3 quick_check {got['anchor'] * 1000:.0f}"
                  f" ms; ratio checked / unchecked = {got['checked'] / got['unchecked']:.2f}")


if __name__ == "__main__":
    main()
