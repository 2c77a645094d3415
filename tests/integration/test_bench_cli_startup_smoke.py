"""The start-up benchmark runs end to end and prints its figures (it does not judge them:
which modules ``--version`` loads is tests/unit/test_cli_startup.py's question)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_bench_cli_startup_prints_each_side_and_its_ratio() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.bench_cli_startup", "--rounds", "1"],
                         cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    for side in ("python -c pass", "dlict --version", "dlict --help"):
        assert re.search(rf"^{re.escape(side)} +\d+\.\d ms  ratio to python -c pass = "
                         r"\d+\.\d\d$", run.stdout, re.MULTILINE), run.stdout
