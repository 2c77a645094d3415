"""The outbox benchmark runs end to end on a few records and prints its ratios.

The figures that count come from the full run (100,000 records); this keeps the script working.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bench_outbox_prints_its_ratios() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_outbox", "--records", "2000", "--single", "50",
         "--cap-mb", "0.5"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("ratio outbox / anchor = ") == 2
    assert "bytes per sample record" in run.stdout
    assert "file / cap = " in run.stdout
