"""A long audit keeps what it learned: each area's results are stored as its play ends on every
host, an audit stopped by Ctrl-C (SIGINT) keeps them, and `dlict audit --resume` judges only
what was left and completes the same run (real Ansible, the Mitogen strategy, real SSH).

Also: with the Mitogen strategy a host whose key is not the one known is still refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.sop.conftest import SopFleet, audit_stopped_by_ctrl_c

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

DLICT = str(Path(sys.executable).parent / "dlict")


def _dlict(fleet: SopFleet, data: Path, *args: str, inventory: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DLICT, "--json", "-i", str(inventory or fleet.inventory_path), "--data-dir", str(data),
         *args], capture_output=True, text=True, check=False, timeout=900)


def _statuses(out: str) -> dict[tuple[str, str], str]:
    return {(r["host"], r["control"]): r["status"] for r in json.loads(out)["results"]}


def test_interrupted_audit_keeps_finished_areas_and_resume_completes_it(
        sop_fleet: SopFleet, tmp_path: Path) -> None:
    whole = _dlict(sop_fleet, tmp_path / "whole", "audit")
    assert whole.returncode == 0, whole.stderr[-3000:]
    expected = _statuses(whole.stdout)

    data = tmp_path / "interrupted"
    audit_stopped_by_ctrl_c(sop_fleet, data)

    runs = _dlict(sop_fleet, data, "runs", "list")
    (run,) = json.loads(runs.stdout)
    assert run["status"] == "error"
    kept = _statuses(_dlict(sop_fleet, data, "runs", "show", str(run["id"])).stdout)
    # whole areas on every host, judged as the uninterrupted audit judged them
    assert 0 < len(kept) < len(expected)
    assert all(expected[key] == status for key, status in kept.items())
    kept_controls = {control for _host, control in kept}
    for control in kept_controls:
        assert {(h.name, control) for h in sop_fleet.hosts} <= set(kept), control
    assert "FW-01" in kept_controls

    resumed = _dlict(sop_fleet, data, "audit", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    done = json.loads(resumed.stdout)
    assert done["id"] == run["id"]  # the same run, completed
    assert done["status"] == "ok"
    assert _statuses(resumed.stdout) == expected
    # the resume judged only what was left: the firewall area was not run again
    assert "resuming audit run" in resumed.stderr
    assert "firewall" not in resumed.stderr.split("resuming audit run", 1)[1].splitlines()[0]

    again = _dlict(sop_fleet, data, "audit", "--resume")
    assert again.returncode == 2
    assert again.stderr.strip().endswith(f"(the last audit, run {run['id']}, ended ok)")


def test_resume_with_areas_or_limit_is_refused(sop_fleet: SopFleet, tmp_path: Path) -> None:
    result = _dlict(sop_fleet, tmp_path, "audit", "firewall", "--resume")
    assert result.returncode == 2
    assert "--resume takes the areas and --limit of the interrupted audit" in result.stderr
    nothing = _dlict(sop_fleet, tmp_path, "audit", "--resume")
    assert nothing.returncode == 2
    assert "no interrupted audit to resume (no audit was run yet)" in nothing.stderr


def test_a_host_with_an_unexpected_key_is_refused_with_mitogen(sop_fleet: SopFleet,
                                                               tmp_path: Path) -> None:
    office, school, *_ = sop_fleet.hosts
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{office.name},{office.address} {school.host_key}\n")
    inventory = yaml.safe_load(Path(sop_fleet.inventory_path).read_text())
    inventory["all"]["vars"]["ansible_ssh_common_args"] = (
        f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes")
    tampered = tmp_path / "inventory.yml"
    tampered.write_text(yaml.safe_dump(inventory, allow_unicode=True))

    result = _dlict(sop_fleet, tmp_path / "data", "audit", "firewall", "--limit",
                    office.name, "--no-devices", inventory=tampered)
    assert result.returncode == 3, result.stderr[-3000:]
    results = json.loads(result.stdout)["results"]
    assert results and {r["status"] for r in results} == {"unreachable"}
    assert any("host key" in r["evidence"].lower() for r in results), results[0]


def test_an_audit_split_over_two_ansible_programs_judges_as_one(sop_fleet: SopFleet,
                                                                tmp_path: Path) -> None:
    one = subprocess.run(
        [DLICT, "--json", "-i", str(sop_fleet.inventory_path), "--data-dir",
         str(tmp_path / "one"), "audit", "--no-devices"],
        capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, "DLICT_ANSIBLE_RUNS": "1"})
    two = subprocess.run(
        [DLICT, "--json", "-i", str(sop_fleet.inventory_path), "--data-dir",
         str(tmp_path / "two"), "audit", "--no-devices"],
        capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, "DLICT_ANSIBLE_RUNS": "2", "DLICT_LOG_LEVEL": "INFO"})
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    assert "hosts dealt over 2 Ansible programs at once" in two.stderr
    assert "Ansible programs" not in one.stderr
    assert _statuses(two.stdout) == _statuses(one.stdout)
    assert len(_statuses(one.stdout)) == len(sop_fleet.hosts) * 29
    # the evidence is the same too, host by host and control by control, but for the figures
    # measured live (the clock's offset)
    def evidence(out: str) -> dict[tuple[str, str], str]:
        return {(r["host"], r["control"]): re.sub(r"\d+(\.\d+)?", "N", r["evidence"])
                for r in json.loads(out)["results"]}
    assert evidence(two.stdout) == evidence(one.stdout)
