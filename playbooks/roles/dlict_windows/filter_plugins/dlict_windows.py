"""The controller's side of the dlict_windows role: the observation document judged by the
same functions as the school agent on a Windows PC (dlict.agent.jobs.windows_checks)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from dlict.agent.jobs.windows_checks import WindowsLimits, approved_names, judge_all


def dlict_windows_verdicts(output: Sequence[Any], limits: Mapping[str, Any],
                           register: Sequence[Mapping[str, Any]], scope: Sequence[str],
                           today: str) -> dict[str, dict[str, str]]:
    """``win_powershell``'s output (the script's one JSON string) → control id → status and
    evidence."""
    text = output[0] if output and isinstance(output[0], str) else "{}"
    try:
        observed = json.loads(text)
    except ValueError:
        observed = {}
    settings = WindowsLimits(
        max_signature_age_days=float(limits["max_signature_age_days"]),
        max_update_age_days=float(limits["max_update_age_days"]),
        min_password_length=int(limits["min_password_length"]),
        max_lockout_threshold=int(limits["max_lockout_threshold"]),
        min_security_log_bytes=int(limits["min_security_log_kb"]) * 1024,
        usb_storage=str(limits["usb_storage"]),
        rdp=str(limits["rdp"]),
        rdp_networks=tuple(str(n) for n in limits["rdp_networks"]),
        bitlocker_exception=str(limits["bitlocker_exception"]),
    )
    approved = approved_names(register, scope, date.fromisoformat(today))
    verdicts = judge_all(observed if isinstance(observed, dict) else {}, settings,
                         datetime.now(UTC), approved)
    return {v.control: {"status": v.status.value, "evidence": v.evidence} for v in verdicts}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"dlict_windows_verdicts": dlict_windows_verdicts}
