"""The host controls on a Windows PC: one run of dlict-observe.ps1 (the dlict_windows role's
own script), judged by :mod:`dlict.agent.jobs.windows_checks` as ``dlict audit`` judges it
over WinRM.

PowerShell starts slowly (a second or more), so everything is gathered in one run, bounded by
the job's command timeout; a missing PowerShell, a timeout or output that is not the script's
JSON gives an ``error`` result for every Windows control, naming the cause.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.host import run_command
from dlict.agent.jobs.host_checks import Verdict
from dlict.agent.jobs.recorder import Recorder
from dlict.agent.jobs.settings import HostJobSettings
from dlict.agent.jobs.windows_checks import CONTROLS, WindowsLimits, judge_all
from dlict.agent.records import Record
from dlict.core.clock import utc_now
from dlict.core.paths import data_path
from dlict.core.results import Status

NAME = "host"
SCRIPT = ("roles", "dlict_windows", "files", "dlict-observe.ps1")


def observe_script() -> Path:
    """The role's observation script, shipped with dlict."""
    return data_path("playbooks").joinpath(*SCRIPT)


def limits_of(settings: HostJobSettings) -> WindowsLimits:
    windows = settings.windows
    return WindowsLimits(
        max_signature_age_days=settings.max_signature_age_days,
        max_update_age_days=windows.max_update_age_days,
        min_password_length=windows.min_password_length,
        max_lockout_threshold=windows.max_lockout_threshold,
        min_security_log_bytes=windows.min_security_log_kb * 1024,
        usb_storage=windows.usb_storage,
        rdp=windows.rdp,
        rdp_networks=tuple(windows.rdp_networks),
        bitlocker_exception=windows.bitlocker_exception,
    )


class WindowsHostJob:
    """FW-21, AV-21..23, EP-21..25, ID-21..24 and LOG-21..22 of the agent's own PC."""

    name = NAME

    def __init__(self, settings: HostJobSettings, path: str | None = None,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.path = path
        self.now = now
        self.interval_s = settings.interval_s
        self.deadline_s = settings.deadline_s

    def verdicts(self) -> list[Verdict]:
        output = run_command([self.settings.windows.powershell, "-NoProfile", "-NonInteractive",
                              "-ExecutionPolicy", "Bypass", "-File", str(observe_script())],
                             self.settings.command_timeout_s, self.path)
        if not output.ran:
            return self._errors(output.problem or "PowerShell did not run")
        try:
            observed = json.loads(output.stdout or "null")
        except (ValueError, RecursionError):
            observed = None
        if not isinstance(observed, dict):
            tail = (output.stderr.strip().splitlines() or [""])[-1][:200]
            return self._errors(f"dlict-observe.ps1 printed no observation document"
                                f" (exit status {output.returncode}){': ' + tail if tail else ''}")
        approved = self.settings.windows.approved_accounts
        return judge_all(observed, limits_of(self.settings), self.now(),
                         set(approved) if approved is not None else None)

    @staticmethod
    def _errors(why: str) -> list[Verdict]:
        return [Verdict(control, Status.ERROR, why) for control in CONTROLS]

    def run(self, context: JobContext) -> Sequence[Record]:
        out = Recorder(context)
        for verdict in self.verdicts():
            out.result(verdict.status, verdict.evidence, control=verdict.control)
        return out.records
