"""The intake benchmark runs end to end with a few small batches and prints its figures.

The figures that count come from the full run (8 agents x 5 batches x 5,000 records); this
keeps the script working and checks it stores every record it sends."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bench_intake_prints_both_rates_and_their_ratio() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_intake", "--agents", "2", "--batches", "2",
         "--records", "500"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "2 concurrent agents x 2 batches x 500 records = 2000 records" in run.stdout
    assert "records/s, server CPU" in run.stdout
    assert "anchor (the same rows, SQLite executemany)" in run.stdout
    assert "ratio intake / anchor = " in run.stdout
    assert "stored 2000 of 2000 records" in run.stdout
