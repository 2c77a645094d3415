"""The Windows judges on observation documents in dlict-observe.ps1's format.

No Windows can run here: these documents are format-faithful fixtures (see
tests/unit/fixtures/windows/README.md), not captures from a real PC. Each breaking fixture
must fail exactly its own control, and the compliant one must pass every control.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dlict.agent.jobs.windows_checks import (
    CONTROLS,
    WindowsLimits,
    approved_names,
    judge_all,
    judge_ep22,
    judge_ep24,
    ps_datetime,
)
from dlict.controls import load_catalog
from dlict.core.results import Status

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
APPROVED = {"somchai"}


def _compliant() -> dict[str, object]:
    return json.loads((FIXTURES / "compliant.json").read_text(encoding="utf-8"))


def _statuses(document: dict[str, object], **limits: object) -> dict[str, Status]:
    verdicts = judge_all(document, WindowsLimits(**limits), NOW, APPROVED)  # type: ignore[arg-type]
    return {v.control: v.status for v in verdicts}


def test_the_compliant_pc_passes_every_control() -> None:
    statuses = _statuses(_compliant())
    assert list(statuses) == list(CONTROLS)
    assert {c: s for c, s in statuses.items() if s is not Status.PASS} == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_each_breaking_case_fails_exactly_its_control(control: str) -> None:
    document = _compliant()
    document.update(json.loads((FIXTURES / "breaking" / f"{control}.json").read_text()))
    statuses = _statuses(document)
    assert {c for c, s in statuses.items() if s is not Status.PASS} == {control}
    assert statuses[control] is Status.FAIL


def test_every_control_judged_here_is_in_the_catalog_for_windows() -> None:
    catalog = load_catalog()
    for control in CONTROLS:
        assert "windows" in catalog.by_id[control].platforms, control
    windows = [c.id for c in catalog.controls if "windows" in c.platforms]
    assert sorted(windows) == sorted(CONTROLS)


def test_nothing_observed_is_a_finding_never_a_crash() -> None:
    verdicts = judge_all({}, WindowsLimits(), NOW, APPROVED)
    assert {v.control for v in verdicts} == set(CONTROLS)
    # Unknown chassis: BitLocker not applicable; every other control fails or errs.
    statuses = {v.control: v.status for v in verdicts}
    assert statuses.pop("EP-22") is Status.SKIPPED
    assert set(statuses.values()) <= {Status.FAIL, Status.ERROR}
    hostile = {key: "x" * 10 + "{" for key in ("firewall_profiles", "defender", "rdp",
                                                "local_users", "auditpol", "net_accounts")}
    assert len(judge_all(hostile, WindowsLimits(), NOW, APPROVED)) == len(CONTROLS)


def test_powershell_dates_in_every_form() -> None:
    expected = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert ps_datetime("/Date(1796104800000)/") == expected
    assert ps_datetime("/Date(1796104800000+0700)/") == expected
    assert ps_datetime({"value": "/Date(1796104800000)/", "DateTime": "..."}) == expected
    assert ps_datetime("2026-12-01T06:00:00Z") == expected
    assert ps_datetime("yesterday") is None


def test_bitlocker_is_for_laptops_and_a_documented_exception_passes() -> None:
    off = [{"MountPoint": "C:", "VolumeType": 0, "ProtectionStatus": 0}]
    assert judge_ep22(off, {"ChassisTypes": [3]}, "").status is Status.SKIPPED  # a desktop
    assert judge_ep22(off, {"ChassisTypes": [10]}, "").status is Status.FAIL
    verdict = judge_ep22(off, {"ChassisTypes": [10]}, "TPM missing; memo 0012/2569")
    assert verdict.status is Status.PASS and "0012/2569" in verdict.evidence


def test_rdp_with_nla_only_from_the_office_networks() -> None:
    rdp = {"fDenyTSConnections": 0, "UserAuthentication": 1,
           "Rules": [{"Enabled": 1, "RemoteAddress": ["10.214.0.0/24"]}]}
    nla = WindowsLimits(rdp="nla", rdp_networks=("10.214.0.0/24",))
    assert judge_ep24(rdp, nla).status is Status.PASS
    wide = {**rdp, "Rules": [{"Enabled": 1, "RemoteAddress": ["Any"]}]}
    assert "Any" in judge_ep24(wide, nla).evidence
    assert judge_ep24(rdp, WindowsLimits()).status is Status.FAIL  # policy: off


def test_the_register_rule_is_the_linux_roles() -> None:
    register = [{"name": "somchai", "hosts": ["windows_endpoints"], "expires": "2027-03-31"},
                {"name": "old", "hosts": "all", "expires": "2026-11-30"},
                {"name": "other", "hosts": ["school-pc"], "expires": "2027-01-01"}]
    scope = ["all", "office-pc01", "windows_endpoints"]
    assert approved_names(register, scope, date(2026, 12, 2)) == {"somchai"}
