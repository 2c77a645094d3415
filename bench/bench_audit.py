"""Benchmark: `dlict audit` against plain `ansible-playbook --check` of the same playbooks.

Both run over the same test fleet (office log server + schools, real SSH), with the same
Ansible configuration (playbooks/ansible.cfg), the same forks and a fresh SSH control
directory each run, alternating, several rounds. Prints each time, the medians and the ratio
(goal: dlict / ansible-playbook <= 1.15 — dlict adds event handling, the evidence store and
the report on top of the same Ansible run).

Run as root from the repository:  .venv/bin/python -m bench.bench_audit [--schools N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab.fleet.fleet import Fleet

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL = 1.15


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} exited {result.returncode}:\n{result.stderr[-2000:]}"
                         f"\n{result.stdout[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    with Fleet.start(schools=args.schools) as fleet, tempfile.TemporaryDirectory() as work:
        inventory = str(fleet.inventory_path)
        data = str(Path(work) / "data")
        print(f"fleet: {len(fleet.hosts)} hosts; applying every area once …", flush=True)
        subprocess.run([str(BIN / "dlict"), "-i", inventory, "--data-dir", data, "apply", "all"],
                       env=env, capture_output=True, check=True)
        dlict_times, anchor_times = [], []
        for round_number in range(1, args.rounds + 1):
            dlict_times.append(_timed(
                [str(BIN / "dlict"), "-i", inventory, "--data-dir", data, "audit"], env))
            control_dir = tempfile.mkdtemp(dir=work)
            anchor_env = {**env, "ANSIBLE_CONFIG": str(REPO / "playbooks" / "ansible.cfg"),
                          "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir}
            anchor_times.append(_timed(
                [str(BIN / "ansible-playbook"), "-i", inventory, "--check", "--diff",
                 "-e", "dlict_mode=audit", "--forks", "20",
                 str(REPO / "playbooks" / "site.yml")], anchor_env))
            print(f"round {round_number}: dlict audit {dlict_times[-1]:.2f} s, "
                  f"ansible-playbook --check {anchor_times[-1]:.2f} s", flush=True)
    dlict_median = statistics.median(dlict_times)
    anchor_median = statistics.median(anchor_times)
    ratio = dlict_median / anchor_median
    print(f"median: dlict audit {dlict_median:.2f} s, ansible-playbook --check "
          f"{anchor_median:.2f} s")
    print(f"ratio dlict/ansible-playbook = {ratio:.3f} (goal <= {GOAL}): "
          f"{'met' if ratio <= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
