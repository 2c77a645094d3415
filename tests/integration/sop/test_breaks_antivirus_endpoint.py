"""Break one antivirus or endpoint control on one fleet host: the audit fails exactly that
control on exactly that host, and re-applying the area restores a pass. The scan job finds the
EICAR test file, quarantines it and reports it to syslog (real ClamAV, auditd rules, AIDE and
Ansible over real SSH)."""

from __future__ import annotations

import base64
import time
import uuid

import pytest

from dlict.controls import CheckedBy, load_catalog
from tests.integration.sop.conftest import SopFleet, failing, on_host

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

OFFICE = "office-log"
SCHOOL_1 = "s4401000001-srv"
SCHOOL_2 = "s4401000002-srv"

# The fleet's kernel refuses audit to its hosts, so auditd's "running" is skipped there; the
# log server's controls are skipped on the schools.
MAY_BE_SKIPPED = {"EP-03", "LOG-02", "LOG-03"}

BREAKS = [
    pytest.param(SCHOOL_1, "service clamav-daemon stop", "antivirus", {"AV-01"},
                 id="clamd-stopped"),
    pytest.param(SCHOOL_2, "touch -d '30 days ago' /var/lib/clamav/*", "antivirus", {"AV-03"},
                 id="signatures-older-than-limit"),
    pytest.param(SCHOOL_1,
                 "sed -i 's/Unattended-Upgrade \"1\"/Unattended-Upgrade \"0\"/'"
                 " /etc/apt/apt.conf.d/20auto-upgrades",
                 "endpoint", {"EP-01"}, id="unattended-upgrades-disabled"),
    pytest.param(SCHOOL_2, "sed -i '\\|^-w /etc/sudoers -p|d' /etc/audit/rules.d/dlict.rules",
                 "endpoint", {"EP-02"}, id="sudoers-audit-rule-removed"),
    pytest.param(OFFICE, "echo x >> /etc/issue.net", "endpoint", {"EP-04"},
                 id="etc-changed-after-baseline"),
]


def not_passing(statuses: dict[tuple[str, str], str]) -> dict[str, set[str]]:
    """{host: controls neither passing nor allowed to be skipped on the fleet}."""
    ours = {c.id for c in load_catalog().checked_by(CheckedBy.ANSIBLE)
            if c.id.startswith(("AV-", "EP-")) and "windows" not in c.platforms}
    hosts = {host for host, _ in statuses}
    assert {OFFICE, SCHOOL_1, SCHOOL_2} <= hosts, statuses
    assert {(h, c) for h in hosts for c in ours} <= set(statuses), "a control was not reported"
    skipped = {control for (_, control), status in statuses.items() if status == "skipped"}
    assert skipped <= MAY_BE_SKIPPED, statuses
    return failing({key: status for key, status in statuses.items() if status != "skipped"})


def not_passing_on(statuses: dict[tuple[str, str], str], host: str) -> dict[str, set[str]]:
    """{host: controls not passing} for an audit limited to one host."""
    assert {name for name, _ in statuses} == {host}, statuses
    skipped = {control for (_, control), status in statuses.items() if status == "skipped"}
    assert skipped <= MAY_BE_SKIPPED, statuses
    return failing({key: status for key, status in statuses.items() if status != "skipped"})


@pytest.mark.parametrize(("host", "command", "area", "expected"), BREAKS)
def test_a_break_fails_exactly_its_control_and_reapply_restores_it(
    sop_fleet: SopFleet, audit, apply,  # type: ignore[no-untyped-def]
    host: str, command: str, area: str, expected: set[str],
) -> None:
    on_host(sop_fleet, host, command)
    try:
        assert not_passing(audit(sop_fleet)) == {host: expected}
    finally:
        apply(sop_fleet, [area], limit=host)
    # The other hosts were never touched (the audit above showed them passing): re-audit the
    # repaired host only.
    assert not_passing_on(audit(sop_fleet, limit=host), host) == {}


EICAR_HALVES = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"
QUARANTINE = "/var/lib/dlict/quarantine"


def test_the_scan_quarantines_eicar_and_reports_it_to_syslog(sop_fleet: SopFleet) -> None:
    # Built here from two halves so that no file in the repository is the test virus.
    eicar = "".join(EICAR_HALVES).encode()
    name = f"eicar-{uuid.uuid4().hex[:8]}.com"
    folder = "/srv/dlict-eicar-test"
    path = f"{folder}/{name}"
    on_host(sop_fleet, SCHOOL_1, f"mkdir -p {folder} && "
            f"echo {base64.b64encode(eicar).decode()} | base64 -d > {path}")
    try:
        scan = on_host(sop_fleet, SCHOOL_1, "/usr/local/sbin/dlict-clamscan; echo rc=$?")
        assert f"{path}: Dlict.Test.EICAR.UNOFFICIAL FOUND" in scan
        assert scan.rstrip().endswith("rc=1"), scan

        assert on_host(sop_fleet, SCHOOL_1, f"test -e {path} || echo gone").strip() == "gone"
        quarantined = on_host(sop_fleet, SCHOOL_1, f"md5sum {QUARANTINE}/{name}")
        assert quarantined.split()[0] == EICAR_MD5
        assert on_host(sop_fleet, SCHOOL_1, f"stat -c %a {QUARANTINE}").strip() == "700"

        logged = ""
        for _ in range(50):  # rsyslog writes asynchronously
            logged = on_host(sop_fleet, SCHOOL_1,
                             f"grep -h 'dlict-av: malware found: {path}' /var/log/auth.log || true")
            if logged:
                break
            time.sleep(0.1)
        assert "Dlict.Test.EICAR.UNOFFICIAL FOUND" in logged
    finally:
        on_host(sop_fleet, SCHOOL_1, f"rm -rf {folder} {QUARANTINE}/{name}")
