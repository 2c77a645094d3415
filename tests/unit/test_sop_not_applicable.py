"""A control that does not concern a host (LOG-02 where the host is no log server) is shown as
"n/a": not a WARNING line, not in the "not passing" table, counted on its own.

The results come from Ansible events shaped like ansible-runner's, through the same mapping
and the same printing and logging code ``dlict audit`` uses; the real runs are in
tests/integration/sop (they need the fleet).
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from dlict.cli.results_view import log_results, print_summary
from dlict.controls import load_catalog
from dlict.core.logging import setup_logging
from dlict.core.results import Result, Status
from dlict.playbooks.runner import AnsibleEvent
from dlict.playbooks.sop import Mode, results_from_events
from tests.unit.test_sop_mapping import _inventory

CATALOG = load_catalog()
LOGGING = CATALOG.in_areas(["logging"])
NOT_A_LOG_SERVER = "not a log server (group log_servers): this host keeps no district log tree"


def _event(kind: str, action: str, control: str, **result: object) -> AnsibleEvent:
    return AnsibleEvent(kind=kind, host="a", task=f"{control} {action}", action=action,
                        tags=("logging", control), changed=False, ignore_errors=False,
                        result=dict(result))


def _audit_of_a_host_that_is_no_log_server() -> list[Result]:
    """LOG-02 skipped with the role's note, LOG-01 failing, every other control passing."""
    events = []
    for control in LOGGING:
        if control.id == "LOG-02":
            events += [_event("runner_on_ok", "debug", "LOG-02", msg=NOT_A_LOG_SERVER),
                       _event("runner_on_skipped", "assert", "LOG-02")]
        elif control.id == "LOG-01":
            events.append(_event("runner_on_failed", "assert", "LOG-01", msg="no forwarding"))
        else:
            events.append(_event("runner_on_ok", "assert", control.id, msg="ok"))
    return results_from_events(events, ["a"], LOGGING, _inventory(), Mode.AUDIT)


@pytest.mark.parametrize("lang", ["en", "th"])
def test_not_applicable_is_counted_apart_and_not_listed_as_not_passing(lang: str) -> None:
    results = _audit_of_a_host_that_is_no_log_server()
    assert {r.control: r.status for r in results}["LOG-02"] is Status.SKIPPED
    console = Console(record=True, width=200, highlight=False, emoji=False)
    print_summary(console, lang, CATALOG, results)
    out = console.export_text()
    title = "not passing" if lang == "en" else "รายการที่ไม่ผ่าน"
    listed, _, scores = out.partition("score per site" if lang == "en" else "คะแนนราย")
    assert title in listed
    assert "a LOG-01" in listed
    assert "LOG-02" not in listed and NOT_A_LOG_SERVER[:20] not in listed
    header = next(line for line in scores.splitlines() if "┃" in line)
    assert ("n/a" if lang == "en" else "ไม่เกี่ยวข้อง") in header
    assert "skipped" not in out and "ข้าม" not in out


def test_not_applicable_is_no_warning() -> None:
    results = _audit_of_a_host_that_is_no_log_server()
    console = io.StringIO()
    setup_logging("WARNING", stderr=lambda: console)
    try:
        log_results(Mode.AUDIT.value, 7, results)
    finally:
        setup_logging("WARNING")
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "a LOG-01 fail: no forwarding" in lines[0]
