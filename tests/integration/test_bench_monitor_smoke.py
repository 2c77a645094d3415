"""The monitor CPU benchmark runs end to end on a few targets and prints its ratio.

The figures that count come from the full run (30,000 targets against smokeping_prober on
1,000, README); this keeps the script, and both programs it starts, working."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bench_monitor_prints_cpu_per_target_for_both() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_monitor", "--targets", "300",
         "--anchor-targets", "20", "--seconds", "3"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode in (0, 1), run.stdout + run.stderr[-2000:]
    assert "dlict monitor: 300 targets" in run.stdout
    assert "300/300 answered" in run.stdout
    assert "smokeping_prober: 20 targets" in run.stdout
    assert "CPU per target ratio dlict / smokeping_prober = " in run.stdout
