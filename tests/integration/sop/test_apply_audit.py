"""apply all → audit all passes everywhere; a second apply changes nothing; an unreachable
host is reported as such while the others complete (real Ansible over real SSH)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dlict.controls import CheckedBy, load_catalog
from tests.integration.sop.conftest import SopFleet, failing, run_dlict

pytestmark = [pytest.mark.integration, pytest.mark.fleet]


def test_audit_after_apply_passes_every_control_on_every_host(sop_fleet: SopFleet,
                                                              audit) -> None:  # type: ignore[no-untyped-def]
    statuses = audit(sop_fleet)
    hosts = {h.name for h in sop_fleet.hosts}
    controls = {c.id for c in load_catalog().checked_by(CheckedBy.ANSIBLE)
                if "windows" not in c.platforms}  # the fleet is Linux
    assert {(h, c) for h in hosts for c in controls} == set(statuses)
    skipped = {k: v for k, v in statuses.items() if v == "skipped"}
    # Only auditd's "running" part may be skipped on the fleet (the kernel refuses audit to
    # a container), and the log server's controls on the hosts that are not log servers;
    # everything else must pass.
    log_server = {h.name for h in sop_fleet.hosts if h.is_office}
    server_only = {(h, c) for h in hosts - log_server for c in ("LOG-02", "LOG-03")}
    assert server_only <= set(skipped), skipped
    assert set(skipped) - server_only <= {(h, "EP-03") for h in hosts}, skipped
    assert failing({k: v for k, v in statuses.items() if v != "skipped"}) == {}


def test_second_apply_changes_nothing(sop_fleet: SopFleet, apply) -> None:  # type: ignore[no-untyped-def]
    data = apply(sop_fleet, ["all"])
    assert data["changed"] and set(data["changed"]) == {h.name for h in sop_fleet.hosts}
    assert sum(data["changed"].values()) == 0, data["changed"]


def test_audit_report_files(sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str],
                            tmp_path: Path) -> None:
    report = tmp_path / "audit.html"
    json_file = tmp_path / "audit.json"
    code, out, err = run_dlict(capsys, "-i", str(sop_fleet.inventory_path), "--data-dir",
                               str(sop_fleet.data_dir), "audit", "--report", str(report),
                               "--json", str(json_file))
    assert code == 0, err
    html = report.read_text()
    assert "รายงานผลการตรวจสอบมาตรการความมั่นคงปลอดภัยไซเบอร์" in html
    # the date line carries a Buddhist-Era year (25xx)
    assert " 25" in html.split("วันเวลาที่ตรวจ", 1)[1][:60]
    assert report.stat().st_mode & 0o777 == 0o640
    data = json.loads(json_file.read_text())
    district = [s for s in data["scores"] if s["site"] == "*"]
    assert {s["area"] for s in district} == {"firewall", "antivirus", "endpoint", "identity",
                                             "logging"}
    assert all(s["ratio"] == 1.0 for s in district)
    assert "score per site and area" not in out  # Thai by default
    assert "คะแนนรายหน่วยงานและด้าน" in out


def test_unreachable_host_is_reported_and_others_complete(
    sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DLICT_TEST_WINRM_PASSWORD", "refused-before-it-is-sent")
    inventory = yaml.safe_load(Path(sop_fleet.inventory_path).read_text())
    children = inventory["all"]["children"]
    first_school = next(iter(children["schools"]["children"].values()))
    first_school["hosts"]["ghost-srv"] = {"ansible_host": str(sop_fleet.subnet[200])}
    children["linux_servers"]["hosts"]["ghost-srv"] = None
    # A Windows PC whose WinRM does not answer (a closed port on loopback: no Windows can run
    # here): its own controls are unreachable, the Linux hosts are audited all the same.
    first_school["hosts"]["ghost-pc"] = {
        "ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "winrm",
        "ansible_winrm_transport": "ntlm", "ansible_user": "dlict",
        "ansible_password": "{{ lookup('ansible.builtin.env', 'DLICT_TEST_WINRM_PASSWORD') }}",
        "ansible_winrm_scheme": "https", "ansible_winrm_operation_timeout_sec": 5,
        "ansible_winrm_read_timeout_sec": 8}
    children["windows_endpoints"] = {"hosts": {"ghost-pc": None}}
    broken = tmp_path / "inventory.yml"
    broken.write_text(yaml.safe_dump(inventory, allow_unicode=True))
    code, out, err = run_dlict(capsys, "--json", "-i", str(broken), "--data-dir",
                               str(tmp_path / "data"), "audit")
    assert code == 3, err
    results = json.loads(out)["results"]
    ghost = {r["status"] for r in results if r["host"] == "ghost-srv"}
    assert ghost == {"unreachable"}
    playbook_controls = load_catalog().checked_by(CheckedBy.ANSIBLE)
    windows = {c.id for c in playbook_controls if "windows" in c.platforms}
    pc = {(r["control"], r["status"]) for r in results if r["host"] == "ghost-pc"}
    assert pc == {(control, "unreachable") for control in windows}
    ghosts = ("ghost-srv", "ghost-pc")
    others = {r["host"] for r in results if r["host"] not in ghosts
              and r["status"] in ("pass", "skipped")}
    assert others == {h.name for h in sop_fleet.hosts}
    assert len([r for r in results if r["host"] not in ghosts]) == (
        len(sop_fleet.hosts) * (len(playbook_controls) - len(windows)))
    # the run is in the evidence store: `runs list` shows one audit, judged error (exit 3)
    code, listed, err = run_dlict(capsys, "--json", "--data-dir", str(tmp_path / "data"),
                                  "runs", "list")
    assert code == 0, err
    runs = json.loads(listed)
    assert [(r["kind"], r["status"]) for r in runs] == [("audit", "error")], runs
