"""Benchmark: `dlict probe` against `fping` over the same loopback targets, same pacing.

Writes N loopback addresses (127.1.1.1 upwards; every 127.0.0.0/8 address answers ICMP) to
one file, then runs, alternating, several rounds of

* fping -q -c 1 -i 0 -r 0 -t TIMEOUT -f FILE   (as root -i 0 is allowed: no gap between
  any two pings; -c 1: one echo a target; -r 0: no retries, as dlict has none);
* dlict probe --file FILE --count 1 --interval 0 --timeout TIMEOUT   (the whole command:
  interpreter, CLI, reading the file, the sweep, printing one line a target);
* the sweep engine alone (dlict.probes.icmp.Sweep in a bare interpreter, same pacing), the
  part `dlict monitor` repeats every period, so the CLI's start-up cost shows separately.

Every target must answer on every run of every side. Prints the median wall times, the
ratio dlict / fping (goal <= 1.2) and peak RSS. --profile adds a cProfile of one sweep.

The bench re-runs itself in a network namespace of its own (loopback only): every raw ICMP
socket in a namespace gets a copy of every ICMP packet, so another program's sockets on a
shared machine (a smokeping prober holds hundreds) would otherwise slow both sides.

Run as root from the repository:  .venv/bin/python -m bench.bench_probe [--targets 30000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GOAL = 1.2
OWN_NAMESPACE = "DLICT_BENCH_PROBE_NETNS"
ANSWERED = re.compile(r"^\S+\s+: xmt/rcv/%loss = 1/1/0%", re.MULTILINE)

ENGINE = """
import sys, time
from dlict.probes.icmp import Sweep, fping_line
targets = [line.strip() for line in open(sys.argv[1]) if line.strip()]
sweep = Sweep(targets, count=1, interval_ms=0, timeout_ms=float(sys.argv[2]))
started = time.perf_counter()
results = sweep.run()
elapsed = time.perf_counter() - started
for result in results:
    print(fping_line(result))
print(f"# sweep {elapsed:.6f} s")
"""
SWEEP_TIME = re.compile(r"^# sweep (\d+\.\d+) s$", re.MULTILINE)


def loopback_targets(count: int) -> list[str]:
    """``count`` distinct loopback addresses, none ending in .0 or .255, none in 127.0.0/24."""
    if not 0 < count <= 126 * 62_500:
        raise SystemExit(f"--targets must be from 1 to {126 * 62_500}")
    return [f"127.{1 + n // 62_500}.{n // 250 % 250 + 1}.{n % 250 + 1}" for n in range(count)]


def _run(command: list[str], output: Path) -> tuple[float, float, int, str]:
    """Wall time, CPU time (user + system), peak RSS (KiB) and the output of one command."""
    with output.open("wb") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    text = output.read_text(errors="replace")
    if child.returncode not in (0, 1):  # 1: some target did not answer (counted below)
        raise SystemExit(f"{command[0]} exited {child.returncode}: {text[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss, text


def _profile(targets: list[str], timeout_ms: float) -> str:
    from dlict.probes.icmp import Sweep

    profiler = cProfile.Profile()
    sweep = Sweep(targets, count=1, interval_ms=0, timeout_ms=timeout_ms)
    profiler.runcall(sweep.run)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    return text.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1000.0,
                        help="ms both wait for the last replies")
    parser.add_argument("--profile", action="store_true", help="cProfile one sweep too")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: fping -i 0 and raw ICMP sockets need it")
    if not os.environ.get(OWN_NAMESPACE):
        sys.stdout.flush()
        return subprocess.run(
            ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
             sys.executable, "-m", "bench.bench_probe", *sys.argv[1:]],
            env={**os.environ, OWN_NAMESPACE: "1"}, check=False).returncode
    targets = loopback_targets(args.targets)
    timeout = f"{args.timeout:g}"
    with tempfile.TemporaryDirectory(prefix="dlict-bench-probe-") as work_dir:
        work = Path(work_dir)
        target_file = work / "targets.txt"
        target_file.write_text("\n".join(targets) + "\n")
        commands = {
            "fping": ["fping", "-q", "-c", "1", "-i", "0", "-r", "0", "-t", timeout,
                      "-f", str(target_file)],
            "dlict probe": [str(BIN / "dlict"), "probe", "--file", str(target_file),
                            "--count", "1", "--interval", "0", "--timeout", timeout],
            "dlict engine (Sweep)": [sys.executable, "-c", ENGINE, str(target_file), timeout],
            "dlict start-up (1 target)": [str(BIN / "dlict"), "probe", targets[0],
                                          "--timeout", timeout],
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        cpu: dict[str, list[float]] = {label: [] for label in commands}
        rss: dict[str, int] = dict.fromkeys(commands, 0)
        sweeps: list[float] = []
        missing: list[str] = []
        for _ in range(args.rounds):
            for label, command in commands.items():
                elapsed, cpu_time, peak, text = _run(command, work / "out.txt")
                answered = len(ANSWERED.findall(text))
                sweeps += [float(t) for t in SWEEP_TIME.findall(text)]
                expected = 1 if "1 target" in label else len(targets)
                if answered != expected:
                    missing.append(f"{label}: {answered} of {expected} answered")
                times[label].append(elapsed)
                cpu[label].append(cpu_time)
                rss[label] = max(rss[label], peak)
        profile = _profile(targets, args.timeout) if args.profile else ""

    print(f"== {len(targets)} loopback targets, one echo each, no gap between sends, "
          f"{args.rounds} rounds (median)")
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, value in medians.items():
        print(f"{label:28} {value:7.3f} s  peak RSS {rss[label] / 1024:6.1f} MiB  "
              f"cpu {statistics.median(cpu[label]):6.3f} s   "
              f"runs: {', '.join(f'{v:.3f}' for v in times[label])}")
    answered_all = not missing
    print("every target answered on every run: " + ("yes" if answered_all else
                                                    "NO: " + "; ".join(missing)))
    sweep = statistics.median(sweeps)
    print(f"{'  of which Sweep.run()':28} {sweep:7.3f} s  (what `dlict monitor` repeats)")
    ratio = medians["dlict probe"] / medians["fping"]
    engine_ratio = medians["dlict engine (Sweep)"] / medians["fping"]
    print(f"wall-time ratio dlict / fping = {ratio:.2f} (goal <= {GOAL})")
    print(f"wall-time ratio dlict engine / fping = {engine_ratio:.2f}")
    print(f"wall-time ratio Sweep.run() alone / fping = {sweep / medians['fping']:.2f}")
    if profile:
        print("\n== cProfile of one sweep (engine only)\n" + profile)
    ok = answered_all and ratio <= GOAL
    print("RESULT:", "goal met" if ok else "GOAL NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
