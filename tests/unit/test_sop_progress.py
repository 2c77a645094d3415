"""The audit's progress line for a long run: hosts done, the running area, its slowest host.

Each Linux area judges all its controls in one verify task, so a host's count of judged
controls jumps from 0 to all; until then the slowest host is the one with the fewest tasks
finished in the area."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.progress import Progress

from dlict.cli.sop import _DistrictProgress
from dlict.playbooks.runner import AnsibleEvent


def _event(host: str, kind: str = "runner_on_ok", **result: Any) -> AnsibleEvent:
    return AnsibleEvent(kind=kind, host=host, task="t", action="dlict_state", tags=("firewall",),
                        changed=False, ignore_errors=False, result=result)


def _line(progress: Progress, bar: _DistrictProgress) -> str:
    return str(progress.tasks[bar.task].description)


def test_the_slowest_host_is_the_one_with_fewest_controls_then_fewest_tasks() -> None:
    progress = Progress(console=Console(file=io.StringIO()))
    bar = _DistrictProgress(progress, ["firewall", "identity"], hosts=3,
                            controls={"firewall": 5, "identity": 9})
    for host, tasks in (("srv-a", 3), ("srv-b", 1), ("srv-c", 2)):
        for _ in range(tasks):
            bar.event(_event(host))
    assert "slowest srv-b 0/5 controls, 1 tasks" in _line(progress, bar)

    verdicts = {f"FW-0{i}": {"status": "pass", "evidence": ""} for i in range(1, 6)}
    bar.event(_event("srv-b", dlict_verdicts=verdicts))
    assert "slowest srv-c 0/5 controls, 2 tasks" in _line(progress, bar)

    bar.event(_event("srv-c", kind="runner_on_unreachable"))
    assert "slowest srv-a 0/5 controls, 3 tasks" in _line(progress, bar)
    assert "1 unreachable" in _line(progress, bar)


def test_a_new_area_starts_counting_again() -> None:
    progress = Progress(console=Console(file=io.StringIO()))
    bar = _DistrictProgress(progress, ["firewall", "identity"], hosts=1,
                            controls={"firewall": 5, "identity": 9})
    bar.event(_event("srv-a"))
    bar.area_done([])
    assert "identity" in _line(progress, bar)
    assert "slowest" not in _line(progress, bar)
    bar.event(_event("srv-a"))
    assert "slowest srv-a 0/9 controls, 1 tasks" in _line(progress, bar)
