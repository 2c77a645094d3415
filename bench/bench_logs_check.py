"""Benchmark: `dlict logs check` against `sha256sum` over the same sealed log tree.

Builds a district log tree of at least 2 GB (20 sources x 120 days by default, sealed as
stored: the strict comparison, both sides hash every byte), then runs, alternating, several
rounds of

* dlict logs check over the tree (coverage, integrity, chain, signatures, fields, clocks);
* sha256sum over every day file (one process, the files in one list).

A second, compressed tree (what the log server keeps by default) is checked against the
anchor the issue names for it: `sha256sum` for plain files and `zcat | sha256sum` per .gz.
Prints throughputs and the ratios (goal: dlict >= 0.8 x sha256sum's throughput), and dlict's
peak memory on the full tree and on a quarter of it (memory must not grow with the tree).

Run as root from the repository:  .venv/bin/python -m bench.bench_logs_check [--gb 2.0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from lab.logtree import build_tree, day_lines

BIN = Path(sys.executable).parent
GOAL = 0.8


def _run(command: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one command."""
    script = ("import resource, subprocess, sys, time, json\n"
              "t = time.perf_counter()\n"
              "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
              "stderr=subprocess.PIPE)\n"
              "e = time.perf_counter() - t\n"
              "print(json.dumps([e, r.returncode, "
              "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.stderr.decode()[-500:]]))")
    out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True,
                         text=True, check=True).stdout
    elapsed, code, rss, err = json.loads(out)
    if code != 0:
        raise SystemExit(f"{command[0]} exited {code}: {err}")
    return elapsed, rss


def _tree_bytes(root: Path, pattern: str) -> tuple[list[Path], int]:
    files = sorted(root.rglob(pattern))
    return files, sum(f.stat().st_size for f in files)


def _check(policy_file: Path) -> list[str]:
    return [str(BIN / "dlict"), "logs", "check", "--policy", str(policy_file)]


def _anchor_plain(files: list[Path], listing: Path) -> list[str]:
    listing.write_text("\0".join(map(str, files)))
    return ["sh", "-c", f"xargs -0 sha256sum < {listing}"]


def _anchor_mixed(root: Path) -> list[str]:
    return ["sh", "-c", f"cd {root} && for f in */*/*.log*; do case $f in "
                        f"*.gz) zcat $f | sha256sum;; *) sha256sum $f;; esac; done"]


def _rounds(label_commands: list[tuple[str, list[str]]], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {label: [] for label, _ in label_commands}
    for _ in range(rounds):
        for label, command in label_commands:
            elapsed, _rss = _run(command)
            times[label].append(elapsed)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0, help="size of the plain tree")
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    files_count = args.sources * args.days
    sample = day_lines("bench-host", date.today(), 5000, "+07:00")
    repeats = max(1, int(args.gb * 1e9 / files_count / len(sample)) + 1)
    padding = sample * repeats
    with tempfile.TemporaryDirectory(prefix="dlict-bench-logs-") as work_dir:
        work = Path(work_dir)
        started = time.perf_counter()
        full = build_tree(work / "plain", sources=args.sources, days=args.days,
                          lines_per_day=60, compress=False, padding=padding)
        files, size = _tree_bytes(full.root, "*.log")
        print(f"plain tree: {len(files)} files, {size / 1e9:.2f} GB, built and sealed in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        if size < args.gb * 1e9 * 0.95:
            raise SystemExit(f"the tree came out smaller than {args.gb} GB")
        build_tree(work / "quarter", sources=max(1, args.sources // 4),
                             days=args.days, lines_per_day=60, compress=False,
                             padding=padding)
        packed = build_tree(work / "packed", sources=4, days=args.days, lines_per_day=60,
                            compress=True, padding=padding[: len(padding) // 4])
        _packed_files, packed_size = _tree_bytes(packed.root, "*.log*")

        policy_file = work / "plain" / "logging.json"
        times = _rounds([("dlict logs check", _check(policy_file)),
                         ("sha256sum", _anchor_plain(files, work / "files.lst"))],
                        args.rounds)
        _elapsed, rss_full = _run(_check(policy_file))
        _elapsed, rss_quarter = _run(_check(work / "quarter" / "logging.json"))
        packed_times = _rounds([("dlict logs check", _check(work / "packed" / "logging.json")),
                                ("sha256sum / zcat | sha256sum", _anchor_mixed(packed.root))],
                               args.rounds)

    print(f"\n== plain tree, {size / 1e9:.2f} GB, {args.rounds} rounds (median)")
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, value in medians.items():
        print(f"{label:32} {value:7.2f} s  {size / value / 1e6:8.0f} MB/s   "
              f"runs: {', '.join(f'{v:.2f}' for v in times[label])}")
    ratio = medians["sha256sum"] / medians["dlict logs check"]
    print(f"throughput ratio dlict / sha256sum = {ratio:.2f} (goal >= {GOAL})")
    print(f"\n== compressed tree (default on the server), {packed_size / 1e6:.0f} MB stored")
    packed_medians = {label: statistics.median(v) for label, v in packed_times.items()}
    for label, value in packed_medians.items():
        print(f"{label:32} {value:7.2f} s")
    packed_ratio = packed_medians["sha256sum / zcat | sha256sum"] / \
        packed_medians["dlict logs check"]
    print(f"throughput ratio dlict / (zcat | sha256sum) = {packed_ratio:.2f}")
    print(f"\n== memory: peak RSS {rss_full / 1024:.0f} MiB on the full tree, "
          f"{rss_quarter / 1024:.0f} MiB on a quarter of it")
    ok = ratio >= GOAL and rss_full < rss_quarter * 1.5
    print("RESULT:", "goal met" if ok else "GOAL NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
