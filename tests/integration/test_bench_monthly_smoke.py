"""The monthly report benchmark runs end to end on a small district and prints its ratio.

The figures that count come from the full run (500 schools, 30 days; README and the report of
issue 16); this keeps the script, promtool's backfill and Prometheus under it, working."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bench_monthly_prints_report_and_raw_times() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.bench_monthly", "--schools", "20",
                          "--days", "3"],
                         cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "history: 20 schools, 3 days, 86,400 samples" in run.stdout
    assert "raw query_range of the same five families (" in run.stdout
    assert "ratio report / raw query_range = " in run.stdout
    assert "goal: under 60 s: met" in run.stdout
