"""The /metrics benchmark runs end to end on a small district and prints its figures.

The figures that count come from the full run (30,000 sites, README); this keeps the script
working and checks that what it scrapes parses as the exposition format."""

from __future__ import annotations

import random
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from dlict.exporter.exposition import Exposition
from dlict.exporter.state import MonitorState
from lab.world import country_plan, fill
from tests.conftest import REPO


def test_bench_metrics_prints_its_figures() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_metrics", "--sites", "300", "--seconds", "2"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "concurrent clients for 2 s" in run.stdout and "p99" in run.stdout
    assert "server peak memory" in run.stdout
    assert "prometheus-client's writer" in run.stdout and "ratio" in run.stdout


def test_the_benchmarked_text_parses_with_every_sample() -> None:
    plan = country_plan(50)
    state = MonitorState()
    fill(plan, state, random.Random(1))
    families = {f.name: f for f in text_string_to_metric_families(
        Exposition(plan, state).sites.render())}
    assert len(families["dlict_link_up"].samples) == 50
    assert len(families["dlict_dltv_stream_up"].samples) == 100
    assert {s.labels["channel"] for s in families["dlict_dltv_stream_up"].samples} == {"1", "2"}
    assert all(0 < s.value < 15 for s in families["dlict_dltv_snr_db"].samples)
