"""Reading the captured observations (tests/unit/fixtures/linux_observed/<area>/) and
judging them as the area check does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dlict.controls.linux import judge_area
from dlict.core.results import Status

FIXTURES = Path(__file__).parent.parent / "fixtures" / "linux_observed"
Verdicts = dict[str, tuple[Status, str]]


def captured(area: str, name: str) -> dict[str, Any]:
    """A fixture: ``{observed, inputs}``, or the observation alone (the firewall's)."""
    data: dict[str, Any] = json.loads((FIXTURES / area / f"{name}.json").read_text())
    return data


def judge(area: str, observed: Any, inputs: Any) -> Verdicts:
    return {v.control: (v.status, v.evidence) for v in judge_area(area, observed, inputs)}


def failing(verdicts: Verdicts) -> set[str]:
    return {control for control, (status, _) in verdicts.items() if status is not Status.PASS}
