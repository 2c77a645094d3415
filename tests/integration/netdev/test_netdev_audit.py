"""dlict netdev audit over real SSH and real netmiko: every fixture case served by a fake
device (FakeNOS for Cisco IOS, the paramiko device of lab/devices for RouterOS and FortiOS,
whose FakeNOS plugins are broken upstream). The compliant configurations pass; each breaking
configuration is found, for its control, on exactly its device."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlict.controls import CheckedBy, load_catalog
from dlict.core.store import EvidenceStore
from dlict.netdev.status import read_status
from lab.devices.devicelab import FIXTURES, DeviceLab, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD
from tests.conftest import CliRunner

NETDEV_CONTROLS = {c.id for c in load_catalog().checked_by(CheckedBy.NETDEV)}
CASES = [(p.parent.name, p.name) for p in sorted(FIXTURES.glob("*/*")) if p.is_dir()]


def device_name(platform: str, case: str) -> str:
    return f"{platform}-{case}".lower()


def broken_control(case: str) -> str | None:
    """breaks-FW-06-winbox → FW-06; compliant → None."""
    if case == "compliant":
        return None
    parts = case.split("-")
    return f"{parts[1]}-{parts[2]}"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DeviceLab]]:
    root = tmp_path_factory.mktemp("netdev-audit")
    with DeviceLab() as lab:
        for platform, case in CASES:
            lab.add(device_name(platform, case), platform,
                    outputs_from_case(platform, FIXTURES / platform / case),
                    fakenos=platform == "ios", enable_secret="En-Secret-1"
                    if platform == "ios" else None)
        known_hosts = lab.write_known_hosts(root / "known_hosts")
        inventory = write_device_district(root / "inventory", lab.devices, known_hosts)
        yield inventory, lab


@pytest.fixture
def device_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLICT_NETDEV_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setenv("DLICT_NETDEV_SECRET", "En-Secret-1")


def test_each_rule_is_found_on_exactly_the_device_that_breaks_it(
        audited: tuple[Path, DeviceLab], cli: CliRunner, tmp_path: Path,
        device_env: None) -> None:
    inventory, _lab = audited
    assert {p for p, _c in CASES} == {"routeros", "ios", "fortios"}
    for platform in ("routeros", "ios", "fortios"):  # every control broken on every platform
        broken = {broken_control(c) for p, c in CASES if p == platform} - {None}
        assert broken == NETDEV_CONTROLS, platform
    data_dir = tmp_path / "data"
    result = cli("--json", "-i", str(inventory), "netdev", "audit", "--report",
                 str(tmp_path / "report.html"), data_dir=data_dir)
    assert result.code == 1, result.stderr
    run = json.loads(result.stdout)
    by_device: dict[str, dict[str, str]] = {}
    for r in run["results"]:
        by_device.setdefault(r["host"], {})[r["control"]] = r["status"]
    assert set(by_device) == {device_name(p, c) for p, c in CASES}
    for platform, case in CASES:
        statuses = by_device[device_name(platform, case)]
        assert set(statuses) == NETDEV_CONTROLS
        failing = {c for c, s in statuses.items() if s != "pass"}
        expected = {broken_control(case)} - {None}
        assert failing == expected, f"{platform}/{case}: {statuses}"
    # Stored as evidence, in the report, and for the exporter.
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
        stored = store.results(run["id"])
    assert len(stored) == len(CASES) * len(NETDEV_CONTROLS)
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o640
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "routeros-breaks-fw-06" in html and "FW-06" in html
    status = read_status(data_dir)
    assert status["ios-compliant"].audit_failures == 0
    assert status["fortios-breaks-log-05"].audit_failures == 1
    assert status["routeros-compliant"].reachable is True


def test_dlict_audit_judges_the_devices_the_limit_names(
        audited: tuple[Path, DeviceLab], cli: CliRunner, tmp_path: Path,
        device_env: None) -> None:
    inventory, _lab = audited
    result = cli("--json", "-i", str(inventory), "audit", "--limit",
                 "routeros-breaks-id-10,fortios-compliant", data_dir=tmp_path / "data")
    run = json.loads(result.stdout)
    failing = {(r["host"], r["control"]) for r in run["results"] if r["status"] != "pass"}
    assert failing == {("routeros-breaks-id-10", "ID-10")}, result.stderr
    assert {r["host"] for r in run["results"]} == {"routeros-breaks-id-10", "fortios-compliant"}
    assert result.code == 1
    device_scores = [s for s in run["scores"] if s["area"] == "identity"]
    assert device_scores and any(s["counts"]["fail"] == 1 for s in device_scores)


def test_no_password_is_one_clear_line_and_nothing_is_written(
        audited: tuple[Path, DeviceLab], cli: CliRunner, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inventory, _lab = audited
    monkeypatch.delenv("DLICT_NETDEV_PASSWORD", raising=False)
    data_dir = tmp_path / "data"
    result = cli("-i", str(inventory), "netdev", "audit", "--limit", "ios-compliant",
                 data_dir=data_dir)
    assert result.code == 2
    assert "ios-compliant: no password for dlict" in result.stderr
    assert "DLICT_NETDEV_PASSWORD_IOS_COMPLIANT" in result.stderr
    assert not (data_dir / "netdev").exists()
    assert not (data_dir / "evidence.sqlite").exists()
