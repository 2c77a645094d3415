"""Benchmark: CPU of `dlict monitor` probing 30,000 loopback targets once a second, against
prometheus-smokeping-prober (Debian's package) on 1,000 of the same targets.

`dlict monitor` runs from a generated inventory (sites of 100 targets each, one echo per
target per second, 10 a cycle), exactly as an office would run it; once its first cycle is in,
the CPU time of the monitor and its ICMP process is read from /proc over `--seconds`. The same
is done for smokeping_prober (--privileged, --ping.interval=1s) on the first 1,000 targets.
Prints cores used, CPU per target and the ratio, and checks from /metrics that every target
answered.

Goal: `dlict monitor` at most 1 core for 30,000 targets.

Run as root from the repository:  .venv/bin/python -m bench.bench_monitor [--targets 30000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lab.monitoring import School, fetch, free_port, running_monitor, write_district

GOAL_CORES = 1.0
PER_SITE = 100
TICKS = os.sysconf("SC_CLK_TCK")


def addresses(count: int) -> list[str]:
    return [f"127.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(count)]


def _family_tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            found += _family_tree(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system time of a process and all its descendants still running."""
    total = 0
    for member in _family_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def measure(pid: int, seconds: float) -> float:
    """Cores used over a window."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def monitor_cores(targets: list[str], seconds: float, work: Path) -> tuple[float, int, float]:
    schools = [School(f"{1000000000 + n}", probe_targets=targets[i:i + PER_SITE])
               for n, i in enumerate(range(0, len(targets), PER_SITE))]
    inventory = write_district(work / "inventory", schools,
                               {"count": 10, "period_ms": 1000, "timeout_ms": 1000})
    with running_monitor(inventory, work, timeout=600) as monitor:
        cores = measure(monitor.process.pid, seconds)
        values = {}
        for family in text_string_to_metric_families(monitor.metrics()):
            if family.name in ("dlict_probe_up", "dlict_monitor_cycle_seconds"):
                values[family.name] = [s.value for s in family.samples]
    answered = int(sum(values.get("dlict_probe_up", [])))
    cycle = values.get("dlict_monitor_cycle_seconds", [float("nan")])[0]
    return cores, answered, cycle


def smokeping_cores(targets: list[str], seconds: float, work: Path) -> tuple[float, int]:
    program = shutil.which("prometheus-smokeping-prober")
    if program is None:
        raise SystemExit("prometheus-smokeping-prober is not installed (bootstrap.sh installs it)")
    port = free_port()
    config = work / "smokeping.yml"
    config.write_text("targets: []\n")
    with (work / "smokeping.log").open("w") as log:
        process = subprocess.Popen(
            [program, "--privileged", "--ping.interval=1s", f"--config.file={config}",
             f"--web.listen-address=127.0.0.1:{port}", *targets], stdout=log, stderr=log)
    try:
        time.sleep(5)  # every pinger started and settled
        cores = measure(process.pid, seconds)
        _s, _h, body = fetch(f"http://127.0.0.1:{port}/metrics")
        answered = 0
        for family in text_string_to_metric_families(body.decode()):
            if family.name == "smokeping_response_duration_seconds":
                answered = sum(1 for s in family.samples
                               if s.name.endswith("_count") and s.value > 0)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return cores, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=30_000)
    parser.add_argument("--anchor-targets", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    targets = addresses(args.targets)
    with tempfile.TemporaryDirectory(prefix="dlict-bench-monitor-") as tmp:
        work = Path(tmp)
        ours, answered, cycle = monitor_cores(targets, args.seconds, work)
        theirs, their_answered = smokeping_cores(targets[:args.anchor_targets], args.seconds,
                                                 work)
    per_ours = ours / args.targets
    per_theirs = theirs / args.anchor_targets
    print(f"dlict monitor: {args.targets} targets, 1 echo/s each: {ours:.2f} cores "
          f"({per_ours * 1e6:.1f} µcores/target), {answered}/{args.targets} answered, "
          f"cycle {cycle:.1f} s")
    print(f"smokeping_prober: {args.anchor_targets} targets, 1 echo/s each: {theirs:.2f} cores "
          f"({per_theirs * 1e6:.1f} µcores/target), {their_answered}/{args.anchor_targets} "
          f"answered")
    print(f"CPU per target ratio dlict / smokeping_prober = {per_ours / per_theirs:.3f}")
    ok = ours <= GOAL_CORES and answered == args.targets
    print(f"goal: at most {GOAL_CORES} core and every target answered: "
          f"{'PASS' if ok else 'FAIL'}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
