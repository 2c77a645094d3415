"""DESIGN: every metric dlict exports is in docs/metrics.md — checked against what the
exporter really serves, not against a list kept by hand."""

from __future__ import annotations

import random
import re

from prometheus_client.parser import text_string_to_metric_families

from bench.bench_metrics import country_plan, fill
from dlict.exporter.exposition import ALL_FAMILIES, Exposition
from dlict.exporter.state import MonitorState
from tests.conftest import REPO


def documented() -> set[str]:
    text = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(dlict_[a-z_]+)`", text, flags=re.MULTILINE))


def test_every_served_family_is_documented() -> None:
    plan = country_plan(3)
    state = MonitorState()
    fill(plan, state, random.Random(3))
    served = {f.name for f in text_string_to_metric_families(
        Exposition(plan, state).body(compressed=False).decode()) if f.name.startswith("dlict_")}
    assert {"dlict_link_up", "dlict_http_up", "dlict_dltv_locked",
            "dlict_monitor_targets"} <= served  # the check reads real output
    missing = (served | {f.name for f in ALL_FAMILIES}) - documented()
    assert not missing, f"not in docs/metrics.md: {sorted(missing)}"
