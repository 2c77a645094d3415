"""The agent's Windows host job, run here with a stand-in for powershell.exe that prints a
fixture document (no Windows can run here; the judging is tested on the fixtures in
test_windows_checks.py): the plumbing from the program's output to results, and every way
the program can fail."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dlict.agent.config import AgentConfig
from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.registry import build_jobs
from dlict.agent.jobs.runner import run_job
from dlict.agent.jobs.settings import HostJobSettings, WindowsHostSettings
from dlict.agent.jobs.windows_checks import CONTROLS
from dlict.agent.jobs.windows_host import WindowsHostJob, observe_script
from dlict.core.results import Status

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def _stand_in(tmp_path: Path, body: str) -> str:
    program = tmp_path / "powershell.exe"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return str(tmp_path)


def _job(path: str, **windows: object) -> WindowsHostJob:
    settings = HostJobSettings(command_timeout_s=2,
                               windows=WindowsHostSettings(**windows))  # type: ignore[arg-type]
    # The fixture PC is compliant at this moment (its signatures and updates are dated).
    return WindowsHostJob(settings, path=path, now=lambda: datetime(2026, 12, 2, 12, tzinfo=UTC))


def test_the_scripts_document_becomes_one_verdict_per_control(tmp_path: Path) -> None:
    path = _stand_in(tmp_path, f"cat '{FIXTURES / 'compliant.json'}'")
    verdicts = _job(path, approved_accounts=["somchai"]).verdicts()
    assert [(v.control, v.status) for v in verdicts] == [(c, Status.PASS) for c in CONTROLS]
    # Without a register the agent does not judge ID-24 (the office's audit does).
    unjudged = {v.control: v.status for v in _job(path).verdicts()}
    assert unjudged["ID-24"] is Status.SKIPPED


def test_a_missing_hung_or_garbled_powershell_is_an_error_for_every_control(
        tmp_path: Path) -> None:
    missing = _job(str(tmp_path / "empty")).verdicts()
    assert {v.status for v in missing} == {Status.ERROR}
    assert "powershell.exe not installed" in missing[0].evidence
    hung = _job(_stand_in(tmp_path, "exec sleep 30")).verdicts()
    assert {v.status for v in hung} == {Status.ERROR} and "no answer within 2 s" in hung[0].evidence
    garbled = _job(_stand_in(tmp_path, "echo 'Access is denied.' >&2; exit 1")).verdicts()
    assert len(garbled) == len(CONTROLS) and {v.status for v in garbled} == {Status.ERROR}
    assert "Access is denied." in garbled[0].evidence


def test_the_agent_picks_the_windows_job_on_windows_and_ships_the_script() -> None:
    config = AgentConfig.model_validate({"site": "4401010001", "host": "pc01",
                                         "office": "https://127.0.0.1:9443"})
    assert [type(j).__name__ for j in build_jobs(config, windows=True)
            if j.name == "host"] == ["WindowsHostJob"]
    assert [type(j).__name__ for j in build_jobs(config, windows=False)
            if j.name == "host"] == ["HostJob"]
    assert observe_script().is_file() and os.access(observe_script(), os.R_OK)


def test_without_fork_a_job_runs_in_the_agent_and_its_failure_is_one_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no fork: the runner runs the job in-process, through the same checks."""
    monkeypatch.delattr(os, "fork")
    context = JobContext(site="4401010001", host="pc01", now=datetime.now(UTC))
    good = run_job(_job(_stand_in(tmp_path, f"cat '{FIXTURES / 'compliant.json'}'"),
                        approved_accounts=["somchai"]), context)
    assert good.error is None and len(good.records) == len(CONTROLS)

    class Broken:
        name, interval_s, deadline_s = "host", 60.0, 5.0

        def run(self, context: JobContext) -> list[object]:
            raise RuntimeError("WMI repository is corrupt")

    failed = run_job(Broken(), context)  # type: ignore[arg-type]
    assert failed.error == "job host failed: RuntimeError: WMI repository is corrupt"
    assert len(failed.records) == 1
