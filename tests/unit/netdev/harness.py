"""What the device-rule tests of every platform share: the captured outputs under
``fixtures/<platform>/<case>/<output>.txt`` and the district the rules judge them against.

A case folder holds one file per output of the platform's commands. ``compliant`` passes every
netdev control; ``breaks-<ID>[-variant]`` makes exactly control <ID> fail. Each fixture folder's
README.md says where its outputs come from.
"""

from __future__ import annotations

import re
from pathlib import Path

from dlict.core.results import Status
from dlict.netdev.platforms import REGISTRY, DevicePlatform
from dlict.netdev.rules import AuditContext, Finding, Outputs

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = AuditContext(log_servers=("198.51.100.10",),
                       min_firmware={"routeros": "7.12", "ios": "15.2(7)E", "fortios": "7.2.8"})


def cases(platform: DevicePlatform) -> list[str]:
    folder = FIXTURES / platform.name
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def platform_cases() -> list[tuple[DevicePlatform, str]]:
    """Every (platform, case) pair of the registry; a platform without fixtures has none."""
    return [(p, case) for p in REGISTRY for case in cases(p)]


def outputs_of(platform: DevicePlatform, case: str) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8")
            for p in (FIXTURES / platform.name / case).glob("*.txt")}


def broken_control(case: str) -> str | None:
    """``breaks-FW-06-winbox`` → FW-06; ``compliant`` → None."""
    match = re.match(r"breaks-([A-Z]+-\d+)", case)
    return match.group(1) if match else None


def audit(platform: DevicePlatform, outputs: Outputs,
          context: AuditContext = CONTEXT) -> dict[str, Finding]:
    return {control: rule(outputs, context) for control, rule in platform.rules.items()}


def failing(platform: DevicePlatform, outputs: Outputs,
            context: AuditContext = CONTEXT) -> list[str]:
    return sorted(c for c, f in audit(platform, outputs, context).items()
                  if f.status is Status.FAIL)
