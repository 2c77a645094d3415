"""The agent benchmark runs end to end on a short window and prints both sides and the goals.

The figures that count come from the full run (--window 600). This keeps the script, both
exporters it starts, the loopback targets they probe and the enrolled `dlict agent run`
against a real `dlict intake serve` working."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_bench_agent_measures_the_exporters_and_prints_the_goals() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_agent", "--window", "3"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode in (0, 1), run.stdout + run.stderr[-2000:]
    assert "== one school for 3 s: link every 60 s" in run.stdout
    anchor = re.search(r"^node-exporter \+ blackbox-exporter +cpu +\d+\.\d{3} s over "
                       r"\d+\.\d s = +\d+\.\d{3} % of one core; peak PSS +(\d+\.\d) MiB "
                       r"\(node-exporter \d+\.\d, blackbox-exporter \d+\.\d\)",
                       run.stdout, re.MULTILINE)
    assert anchor is not None, run.stdout
    assert float(anchor.group(1)) > 1  # both exporters really ran and were read from /proc
    agent = re.search(r"^dlict agent run +cpu .* peak PSS +(\d+\.\d) MiB \(agent ",
                      run.stdout, re.MULTILINE)
    assert agent is not None, run.stdout  # enrolled, ran and was read from /proc
    assert float(agent.group(1)) > 1
    assert re.search(r"^ratio agent / anchor: cpu ", run.stdout, re.MULTILINE)
    assert "goals: agent < 2 % of one core, < 60 MB: " in run.stdout
