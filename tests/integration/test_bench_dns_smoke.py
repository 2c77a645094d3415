"""The DNS benchmark runs end to end on a few lookups and prints both sides and the ratio.

The figures that count come from the full run (30,000 lookups a side, docs/decisions.md);
this keeps the script, its responder and its anchor working."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_bench_dns_prints_cpu_and_p99_for_both_and_the_ratio() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.bench_dns", "--sites", "300"],
                         cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    # 1: the budget not held, which 300 lookups on a busy machine cannot tell; 2+: broken.
    assert run.returncode in (0, 1), run.stdout + run.stderr[-2000:]
    for side in ("hand-written", "dnspython"):
        assert re.search(rf"{side}: CPU [\d.]+ s, round [\d.]+ s, p99 [\d.]+ ms, 300/300 up",
                         run.stdout), run.stdout
    assert re.search(r"ratio dnspython / hand-written: CPU [\d.]+, p99 [\d.]+", run.stdout)
    assert re.search(r"dnspython (holds|does NOT hold) the monitor's budget at 30,000 sites",
                     run.stdout)
