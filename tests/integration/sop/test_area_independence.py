"""One area's failure never stops the host's other areas, and AV-01 names why clamd cannot
start: a fleet school switched to ClamAV's official source, with no way out to it, as an
independently built host would be (real ClamAV, freshclam, Ansible over real SSH)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dlict.controls import CheckedBy, load_catalog
from tests.integration.sop.conftest import SopFleet, on_host, run_dlict

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

# The fleet's kernel refuses audit to its hosts (EP-03 "running"); a school is no log server.
MAY_BE_SKIPPED = {"EP-03", "LOG-02", "LOG-03"}

# What the packages leave on a host built without dlict's offline set-up: clamd not running
# (its start-up refuses without the main and daily databases), freshclam started at boot.
AS_INSTALLED = (
    "service clamav-daemon stop"
    " && sed -i '/^DATABASEDIR=/d' /etc/default/clamav-daemon"
    " && rm -f /var/lib/clamav/*.cvd /var/lib/clamav/*.cld"
    " && update-rc.d -f clamav-freshclam remove >/dev/null"
    " && update-rc.d clamav-freshclam defaults >/dev/null"
)


def first_school(fleet: SopFleet) -> str:
    return next(h.name for h in fleet.hosts if not h.is_office)


def inventory_with(fleet: SopFleet, host: str, tmp_path: Path, **host_vars: str) -> Path:
    """The fleet's inventory with extra variables for one host."""
    inventory = yaml.safe_load(Path(fleet.inventory_path).read_text())
    for group in inventory["all"]["children"]["schools"]["children"].values():
        if host in group.get("hosts", {}):
            group["hosts"][host].update(host_vars)
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, allow_unicode=True))
    return path


def results_on(out: str, host: str) -> dict[str, tuple[str, str]]:
    """{control: (status, evidence)} of one host from dlict's --json output."""
    return {r["control"]: (r["status"], r["evidence"])
            for r in json.loads(out)["results"] if r["host"] == host}


def others_pass(results: dict[str, tuple[str, str]], areas: tuple[str, ...]) -> dict[str, str]:
    """{control: status} of the given areas' controls that neither pass nor may be skipped."""
    wanted = {c.id for c in load_catalog().checked_by(CheckedBy.ANSIBLE)
              if c.area in areas and "windows" not in c.platforms}  # the fleet is Linux
    assert wanted <= set(results), f"not reported: {wanted - set(results)}"
    return {c: results[c][0] for c in wanted
            if results[c][0] != "pass" and not (results[c][0] == "skipped"
                                                 and c in MAY_BE_SKIPPED)}


def run(capsys: pytest.CaptureFixture[str], fleet: SopFleet, inventory: Path,
        *args: str) -> tuple[int, str, str]:
    return run_dlict(capsys, "--json", "-i", str(inventory), "--data-dir",
                     str(fleet.data_dir), *args)


def test_no_signature_database_fails_av01_with_its_cause_and_every_other_area_is_applied(
    sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    host = first_school(sop_fleet)
    official = inventory_with(sop_fleet, host, tmp_path, dlict_antivirus_update_source="official")
    on_host(sop_fleet, host, AS_INSTALLED)
    try:
        code, out, err = run(capsys, sop_fleet, official, "apply", "all", "--limit", host)
        applied = results_on(out, host)
        code_audit, out_audit, err_audit = run(capsys, sop_fleet, official, "audit",
                                               "--limit", host)
        audited = results_on(out_audit, host)
    finally:
        # Back to the fleet's offline source; endpoint re-takes its baseline of /etc after it.
        restore_code, _, restore_err = run(capsys, sop_fleet, Path(sop_fleet.inventory_path),
                                           "apply", "antivirus", "endpoint", "--limit", host)
    for results, exit_code, stderr in ((applied, code, err), (audited, code_audit, err_audit)):
        # Findings (exit 1), not an operational failure: nothing stopped, nothing unchecked.
        assert exit_code == 1, stderr
        status, evidence = results["AV-01"]
        assert status == "fail", results["AV-01"]
        assert evidence.startswith("no ClamAV signature database (main, daily .cvd/.cld) in "
                                   "/var/lib/clamav, so clamd cannot start: freshclam could not "
                                   "download from the official source"), evidence
        assert "Couldn't resolve host name" in evidence, evidence  # what freshclam said
        assert "dlict_antivirus_update_source: offline" in evidence, evidence
        assert "clamd.ctl" not in evidence, evidence
        assert results["AV-03"][0] == "fail", results["AV-03"]
        assert {c: s for c, (s, _) in results.items()
                if c in ("AV-02", "AV-04", "AV-05") and s != "pass"} == {}
        assert others_pass(results, ("firewall", "endpoint", "identity", "logging")) == {}
    assert restore_code == 0, restore_err


def test_a_failing_task_stops_its_area_only_and_says_where(
    sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    host = first_school(sop_fleet)
    # The role refuses the value before changing anything: the area stops at its first task.
    bad = inventory_with(sop_fleet, host, tmp_path, dlict_antivirus_update_source="ftp")
    code, out, err = run(capsys, sop_fleet, bad, "apply", "antivirus", "identity",
                         "--limit", host)
    assert code == 3, err  # controls not checked: an operational failure
    results = results_on(out, host)
    antivirus = {c: r for c, r in results.items() if c.startswith("AV-")}
    assert antivirus and {s for s, _ in antivirus.values()} == {"error"}, antivirus
    for _, evidence in antivirus.values():
        assert "the antivirus area stopped on this host at " in evidence, evidence
        assert "dlict_antivirus_update_source" in evidence, evidence
    assert others_pass(results, ("identity",)) == {}
