"""The log-check benchmark runs end to end on a small tree and prints its ratios.

The figures that count come from the full run (README: 2 GB); this keeps the script working.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bench_logs_check_prints_its_ratios() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_logs_check", "--gb", "0.01", "--sources", "2",
         "--days", "10", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "throughput ratio dlict / sha256sum = " in run.stdout
    assert "throughput ratio dlict / (zcat | sha256sum) = " in run.stdout
    assert "peak RSS" in run.stdout
