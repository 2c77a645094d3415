"""Benchmark: `dlict report monthly` for a district of 500 schools and a month of Prometheus
history, against the raw `query_range` calls a report would need without Prometheus's own
aggregation (every school's 5-minute series of the same five families over the month).

The history is written as OpenMetrics (link up with a school-hours outage pattern, loss, RTT,
DLTV lock and receiver state, every 5 minutes for every school), backfilled with promtool and
served by Debian's Prometheus on a loopback port; the evidence store holds one logs check.
Timed: the whole command as a user runs it (a new process, HTML and A4 PDF written), and the
raw queries through the same client. Prints both, the ratio and whether the goal is met.

Goal: the report in under 60 s for 500 schools and 30 days.

Run from the repository:  .venv/bin/python -m bench.bench_monthly [--schools 500]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loguru import logger

from dlict.core.clock import BANGKOK
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.reports.prometheus_api import PrometheusClient
from dlict.runs import record_run
from lab.monitoring import School, write_district
from lab.promhistory import backfill, serving

GOAL_S = 60.0
STEP = 300
RAW = ('max by (site) (dlict_link_up{vantage=""})',
       'avg by (site) (dlict_probe_loss_ratio{vantage=""})',
       'avg by (site) (dlict_probe_rtt_seconds{vantage=""})',
       "max by (site) (dlict_dltv_locked)", "max by (site) (dlict_dltv_check_up)")


def last_whole_month() -> tuple[int, int, datetime, datetime]:
    ref = datetime.now(BANGKOK) - timedelta(hours=4)
    year, month = (ref.year, ref.month - 1) if ref.month > 1 else (ref.year - 1, 12)
    start = datetime(year, month, 1, tzinfo=BANGKOK)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=BANGKOK)
    return year, month, start, end


def write_history(path: Path, codes: list[str], start: datetime, days: int) -> int:
    """Five families for every school, every 5 minutes for ``days`` days; sample count."""
    first = int(start.timestamp())
    stamps = [str(ts) for ts in range(first, first + days * 86400, STEP)]
    local = [datetime.fromtimestamp(int(ts), BANGKOK) for ts in stamps]
    down = [m.weekday() < 5 and m.hour == 9 and m.day % 7 == 0 for m in local]
    count = 0
    with path.open("w") as out:
        for family, value_of in (
                ("dlict_link_up", lambda i, n: "0" if down[i] and n % 10 == 0 else "1"),
                ("dlict_probe_loss_ratio", lambda i, n: "1" if down[i] and n % 10 == 0
                 else "0.01"),
                ("dlict_probe_rtt_seconds", lambda i, n: "0.08" if local[i].hour == 12
                 else "0.02"),
                ("dlict_dltv_locked", lambda i, n: "0" if n % 7 == 0 else "1"),
                ("dlict_dltv_check_up", lambda i, n: "1")):
            out.write(f"# TYPE {family} gauge\n")
            for n, code in enumerate(codes):
                prefix = f'{family}{{job="dlict",site="{code}",target="gw"}} '
                out.write("".join(f"{prefix}{value_of(i, n)} {ts}\n"
                                  for i, ts in enumerate(stamps)))
                count += len(stamps)
        out.write("# EOF\n")
    return count


def fill_store(data_dir: Path, codes: list[str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
        record_run(store, "logs-check", [
            Result(code, f"s{code}-gw", Status.PASS, target="logs",
                   evidence="90/90 days covered", observed_at=datetime.now(UTC))
            for code in codes])


def time_report(inventory: Path, data_dir: Path, url: str, month: str, out: Path) -> float:
    began = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "dlict", "--data-dir", str(data_dir), "-i", str(inventory),
         "report", "monthly", "--month", month, "--prometheus", url,
         "--html", str(out / "monthly.html"), "--pdf", str(out / "monthly.pdf")],
        capture_output=True, text=True, check=False, timeout=1800)
    took = time.perf_counter() - began
    if run.returncode != 0:
        raise SystemExit(f"dlict report monthly failed ({run.returncode}): {run.stderr}")
    return took


def time_raw(url: str, start: datetime, end: datetime) -> tuple[float, int]:
    client = PrometheusClient(url, timeout_s=600)
    began = time.perf_counter()
    points = 0
    for query in RAW:
        for series in client.query_range(query, start.timestamp(), end.timestamp() - STEP,
                                         STEP):
            points += len(series.points)
    return time.perf_counter() - began, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=500)
    parser.add_argument("--days", type=int, default=30, help="days of history (at most the "
                        "month's)")
    args = parser.parse_args()
    logger.remove()  # the client's debug lines are not the benchmark's output
    year, month, start, end = last_whole_month()
    days = min(args.days, (end - start).days)
    codes = [f"44{n:08d}" for n in range(1, args.schools + 1)]
    work = Path(tempfile.mkdtemp(prefix="bench-monthly-"))
    try:
        inventory = write_district(work / "inventory", [School(c) for c in codes])
        fill_store(work / "data", codes)
        source = work / "history.om"
        began = time.perf_counter()
        samples = write_history(source, codes, start, days)
        backfill(source, work / "tsdb" / "data")
        source.unlink()
        print(f"history: {args.schools} schools, {days} days, {samples:,} samples "
              f"(written and backfilled in {time.perf_counter() - began:.0f} s)")
        with serving(work / "tsdb" / "data") as url:
            label = f"{year + 543}-{month:02d}"
            report_s = time_report(inventory, work / "data", url, label, work)
            raw_s, points = time_raw(url, start, end)
        size = (work / "monthly.pdf").stat().st_size
        print(f"dlict report monthly --month {label} (HTML + PDF, {size // 1024} KiB): "
              f"{report_s:.2f} s")
        print(f"raw query_range of the same five families ({points:,} points): {raw_s:.2f} s")
        print(f"ratio report / raw query_range = {report_s / raw_s:.3f}")
        met = report_s < GOAL_S
        print(f"goal: under {GOAL_S:.0f} s: {'met' if met else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
