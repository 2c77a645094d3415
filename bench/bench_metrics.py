"""Benchmark: /metrics of `dlict monitor` for a country-sized district (30,000 sites).

A server process holds the exporter (the same plan, state, exposition and HTTP server that
`dlict monitor` runs) with every site's newest results: one ICMP target, one HTTP check and a
DLTV receiver with two channels per site — about 20 samples a site. A thread in it changes the
results as the monitor does (a new ICMP cycle every 10 s, a sixtieth of the service and DLTV
results every second), so scrapes keep meeting new text. Then
10 clients scrape concurrently, back to back, for `--seconds`; the bench prints p50/p99 latency,
the server's peak memory, and — the anchor — the time prometheus-client's own text writer
needs for the same samples (the ratio says how much the exposition gains over it).

Goals: p99 under 1 s under 10 concurrent scrapes, memory under 1 GB.

Run from the repository:  .venv/bin/python -m bench.bench_metrics [--sites 30000]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import random
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from dlict.exporter.exposition import Exposition
from dlict.exporter.plan import MonitorPlan
from dlict.exporter.server import Health, make_server
from dlict.exporter.state import MonitorState
from lab.world import country_plan, fill, fill_checks, fill_links

P99_GOAL_S = 1.0
MEMORY_GOAL_MIB = 1024


def _serve(sites: int, conn: Connection) -> None:
    plan = country_plan(sites)
    state = MonitorState()
    rng = random.Random(7)
    fill(plan, state, rng)
    health = Health(state, 10, True, lambda: None)
    from dlict.exporter.webconfig import WebConfig

    server = make_server("127.0.0.1:0", Exposition(plan, state), WebConfig(), health)

    def churn() -> None:
        # as `dlict monitor` runs: an ICMP cycle ends every 10 s; service and DLTV results
        # arrive one by one, every site once a minute
        per_second = max(1, sites // 60)
        for tick in itertools.count(1):
            time.sleep(1)
            if tick % 10 == 0:
                fill_links(plan, state, rng)
            fill_checks(plan, state, rng, (tick * per_second) % sites, per_second)

    threading.Thread(target=churn, daemon=True).start()
    conn.send(server.server_address[1])
    server.serve_forever()


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _scrape(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
        size = len(answer.read())
    return time.perf_counter() - started, size


def anchor_seconds(plan: MonitorPlan, state: MonitorState) -> tuple[float, int]:
    """prometheus-client's generic writer over the same samples (parsed back from ours)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = Exposition(plan, state).sites.render()
    families = []
    for family in text_string_to_metric_families(text):
        names = sorted({k for s in family.samples for k in s.labels})
        gauge = GaugeMetricFamily(family.name, family.documentation, labels=names)
        for sample in family.samples:
            gauge.add_metric([sample.labels[n] for n in names], sample.value)
        families.append(gauge)

    class Fixed:
        def collect(self) -> list[GaugeMetricFamily]:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())  # type: ignore[arg-type]
    started = time.perf_counter()
    body = generate_latest(registry)
    return time.perf_counter() - started, body.count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=30_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=45,
                        help="How long the clients keep scraping (several ICMP cycles).")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_serve, args=(args.sites, send), daemon=True)
    process.start()
    try:
        port = receive.recv()
        url = f"http://127.0.0.1:{port}/metrics"
        first, size = _scrape(url)
        until = time.monotonic() + args.seconds

        def client(_number: int) -> list[float]:
            times = []
            while time.monotonic() < until:
                times.append(_scrape(url)[0])
            return times

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            latencies = sorted(t for times in pool.map(client, range(args.clients))
                               for t in times)
        assert process.pid is not None
        peak = _peak_mib(process.pid)
    finally:
        process.terminate()
        process.join(timeout=10)

    plan = country_plan(args.sites)
    state = MonitorState()
    fill(plan, state, random.Random(7))
    ours = Exposition(plan, state).sites
    started = time.perf_counter()
    text = ours.render()
    render_s = time.perf_counter() - started
    anchor_s, anchor_lines = anchor_seconds(plan, state)

    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    print(f"sites {args.sites}, samples {samples}, body {size / 1e6:.1f} MB gzip "
          f"(first scrape {first:.2f} s)")
    print(f"{args.clients} concurrent clients for {args.seconds:.0f} s, {len(latencies)} "
          f"scrapes: p50 {p50:.3f} s, p99 {p99:.3f} s, max {latencies[-1]:.3f} s "
          f"(goal p99 < {P99_GOAL_S} s)")
    print(f"server peak memory {peak:.0f} MiB (goal < {MEMORY_GOAL_MIB} MiB)")
    print(f"render of the site families: dlict {render_s:.3f} s vs prometheus-client's writer "
          f"{anchor_s:.3f} s ({anchor_lines} lines): ratio {render_s / anchor_s:.2f}")
    ok = p99 < P99_GOAL_S and peak < MEMORY_GOAL_MIB
    print("PASS" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
