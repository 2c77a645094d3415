"""The probe benchmark runs end to end on a few loopback targets and prints its figures.

The figures that count come from the full run (30,000 targets); this keeps the script
working. It does not judge the timing ratio: on a small run start-up costs dominate.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_bench_probe_prints_its_ratio_and_every_target_answers() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_probe", "--targets", "500", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "== 500 loopback targets" in run.stdout
    assert "every target answered on every run: yes" in run.stdout, run.stdout
    assert re.search(r"wall-time ratio dlict / fping = \d+\.\d\d", run.stdout), run.stdout
    assert re.search(r"wall-time ratio dlict engine / fping = \d+\.\d\d", run.stdout)
    for label in ("fping", "dlict probe", "dlict engine (Sweep)"):
        assert re.search(rf"^{re.escape(label)} +\d+\.\d+ s  peak RSS +\d+\.\d MiB",
                         run.stdout, re.MULTILINE), run.stdout
