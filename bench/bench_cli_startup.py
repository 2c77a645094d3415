"""Benchmark: how long ``dlict --version`` takes to start, against the interpreter alone.

Runs, alternating so both see the same machine load, N times each

* ``python -c pass``          the anchor: starting the interpreter itself;
* ``python -m dlict --version`` the whole command line (dlict.cli.entry, as the console
  script), which should cost little more: command groups are imported when they run;
* ``python -m dlict --help``    the same, listing every command.

Prints the median wall time of each and the ratio to the anchor. A ratio is steadier than a
time on a shared machine; the test of the cause (which modules --version loads) is
tests/unit/test_cli_startup.py.

Run from the repository:  .venv/bin/python -m bench.bench_cli_startup [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

SIDES: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "dlict --version": [sys.executable, "-m", "dlict", "--version"],
    "dlict --help": [sys.executable, "-m", "dlict", "--help"],
}
ANCHOR = "python -c pass"


def wall_time(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=60)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="runs of each side")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    for _ in range(args.rounds):
        for side, command in SIDES.items():
            times[side].append(wall_time(command))
    medians = {side: statistics.median(runs) for side, runs in times.items()}
    print(f"== CLI start-up, median of {args.rounds} runs each")
    for side, median in medians.items():
        print(f"{side:16} {median * 1000:7.1f} ms  ratio to {ANCHOR} = "
              f"{median / medians[ANCHOR]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
