"""DESIGN: every metric dlict exports is in docs/metrics.md — checked against what the
exporter really serves, not against a list kept by hand."""

from __future__ import annotations

import random
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from dlict.exporter.exposition import ALL_FAMILIES, Exposition
from dlict.exporter.state import MonitorState
from dlict.netdev.status import update_status
from lab.world import country_plan, fill
from tests.conftest import REPO


def documented() -> set[str]:
    text = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(dlict_[a-z_]+)`", text, flags=re.MULTILINE))


def test_every_served_family_is_documented() -> None:
    plan = country_plan(3)
    state = MonitorState()
    fill(plan, state, random.Random(3))
    # sample names: the parser names a counter's family without its _total
    served = {s.name for f in text_string_to_metric_families(
        Exposition(plan, state).body(compressed=False).decode()) for s in f.samples
        if s.name.startswith("dlict_")}
    assert {"dlict_link_up", "dlict_http_up", "dlict_dltv_locked",
            "dlict_monitor_targets"} <= served  # the check reads real output
    missing = (served | {f.name for f in ALL_FAMILIES}) - documented()
    assert not missing, f"not in docs/metrics.md: {sorted(missing)}"


def test_device_figures_come_from_what_netdev_recorded(tmp_path: Path) -> None:
    update_status(tmp_path, {
        "s1-gw": {"site": "4401010001", "reachable": True, "config_changed_at": 1700000000.0,
                  "audit_failures": 2, "audited_at": 1700000100.0},
        "s2-gw": {"site": "4401010002", "reachable": False},
    })
    body = Exposition(country_plan(1), MonitorState(), tmp_path).body(compressed=False).decode()
    samples = {(s.name, s.labels.get("host")): s.value
               for f in text_string_to_metric_families(body) for s in f.samples
               if s.name.startswith("dlict_netdev_")}
    assert samples[("dlict_netdev_up", "s1-gw")] == 1
    assert samples[("dlict_netdev_up", "s2-gw")] == 0
    assert samples[("dlict_netdev_config_last_change_timestamp_seconds", "s1-gw")] == 1.7e9
    assert samples[("dlict_netdev_audit_failures", "s1-gw")] == 2
    assert ("dlict_netdev_audit_failures", "s2-gw") not in samples  # never audited
    served = {name for name, _host in samples}
    assert served - documented() == set()
    assert len(served) == 5
