"""Break one firewall or identity control on one school host: the audit fails exactly the
controls that broke, on exactly that host; a re-apply (or, where the catalog says the fix is
not automatic, a hand repair) makes everything pass again. And the firewall really filters:
real TCP connections between fleet hosts and from the controller."""

from __future__ import annotations

import datetime
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.fleet.fleet import Host
from tests.integration.sop.conftest import SopFleet, failing, on_host, run_dlict

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

Statuses = dict[tuple[str, str], str]
# The conftest fixtures: audit(fleet, limit=None) and apply(fleet, areas, limit=None).
Audit = Callable[..., Statuses]
Apply = Callable[..., dict[str, object]]


@dataclass(frozen=True)
class Break:
    """One way of breaking a host, what the audit must then say, and how it is repaired."""

    name: str
    area: str
    command: str
    fails: frozenset[str]
    # None: the re-apply repairs it. Otherwise the re-apply must leave the same failure and
    # this command (run by hand, as the catalog says) repairs it.
    repair_by_hand: str | None = None
    # Run at the end whatever happened, to leave the shared fleet as it was.
    cleanup: str = "true"
    # An account the register approves for the target's school, with an approval that ended.
    expired_approval: str | None = None


BREAKS = [
    # The rule set is gone; /etc/nftables.conf and the boot link are intact, so FW-04 holds.
    Break("flush-ruleset", "firewall", "nft flush ruleset",
          frozenset({"FW-01", "FW-02", "FW-03", "FW-05"})),
    # A port opened by hand, inserted ahead of the final log rule (FW-03 still holds).
    Break("port-opened-by-hand", "firewall",
          "nft insert rule inet dlict input tcp dport 8080 accept",
          frozenset({"FW-02"})),
    # Before the Include line, so sshd reads it first and `sshd -T` shows it.
    Break("sshd-password-login", "identity",
          "sed -i '1i PasswordAuthentication yes' /etc/ssh/sshd_config",
          frozenset({"ID-01"})),
    # ID-04's fix is "none automatic": the re-apply leaves it failing, removal is by hand.
    # userdel -f: the UID is 0, so every root process "uses" the account.
    Break("second-uid-0", "identity", "useradd -o -u 0 -s /bin/bash toor",
          frozenset({"ID-04"}), repair_by_hand="userdel -f toor",
          cleanup="if id toor >/dev/null 2>&1; then userdel -f toor; fi"),
    # Not in the register: the re-apply locks it (password, expiry, nologin) and keeps /home.
    Break("login-not-in-register", "identity", "useradd -m -s /bin/bash -u 1500 intruder",
          frozenset({"ID-09"}),
          cleanup="if id intruder >/dev/null 2>&1; then userdel -r intruder 2>/dev/null; fi"),
    # In the register for this school, but the approval ended yesterday.
    Break("approval-expired", "identity", "useradd -m -s /bin/bash oldstaff",
          frozenset({"ID-09"}),
          cleanup="if id oldstaff >/dev/null 2>&1; then userdel -r oldstaff 2>/dev/null; fi",
          expired_approval="oldstaff"),
]


class _FleetWithInventory(SopFleet):
    """The shared fleet seen through another inventory file (the shared one stays as is)."""

    def __init__(self, base: SopFleet, inventory: Path) -> None:
        super().__init__(base.fleet, base.data_dir)
        self._inventory = inventory

    @property
    def inventory_path(self) -> Path:
        return self._inventory


def _school_hosts(fleet: SopFleet) -> list[Host]:
    return [h for h in fleet.fleet.hosts if not h.is_office]


def _not_passing(statuses: Statuses) -> dict[str, set[str]]:
    # Controls skipped for the fleet (auditd) are neither a pass nor a finding.
    return failing({k: v for k, v in statuses.items() if v != "skipped"})


def _with_expired_approval(fleet: SopFleet, name: str | None, school: Host,
                           directory: Path) -> SopFleet:
    if name is None:
        return fleet
    document = yaml.safe_load(fleet.fleet.inventory_path.read_text())
    document["all"]["vars"].setdefault("dlict_accounts", []).append({
        "name": name, "full_name": "นายทดสอบ ย้ายออกแล้ว", "position": "ครู",
        "approved_by": "ผอ.โรงเรียนจำลอง", "approved_on": "2024-05-01",
        "expires": (datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
        "hosts": [f"school_{school.school_code}"],
    })
    inventory = directory / "inventory.yml"
    inventory.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return _FleetWithInventory(fleet, inventory)


@pytest.mark.parametrize("case", BREAKS, ids=[b.name for b in BREAKS])
def test_a_break_fails_exactly_its_controls_and_reapply_restores(
    sop_fleet: SopFleet, audit: Audit, apply: Apply, case: Break, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = _school_hosts(sop_fleet)[0]
    fleet = _with_expired_approval(sop_fleet, case.expired_approval, target, tmp_path)
    restored = False
    try:
        on_host(fleet, target.name, case.command)

        # The whole fleet: the other hosts and the other controls of this one still pass.
        broken = audit(fleet)
        assert _not_passing(broken) == {target.name: set(case.fails)}
        assert {broken[(target.name, c)] for c in case.fails} == {"fail"}  # findings, not errors

        if case.repair_by_hand is None:
            apply(fleet, [case.area], limit=target.name)
        else:
            # No automatic fix: the re-apply reports the finding (exit 1) and leaves it.
            code, out, err = run_dlict(
                capsys, "--json", "-i", str(fleet.inventory_path), "--data-dir",
                str(fleet.data_dir), "apply", case.area, "--limit", target.name)
            assert code == 1, err
            statuses = {(r["host"], r["control"]): r["status"]
                        for r in json.loads(out)["results"]}
            assert _not_passing(statuses) == {target.name: set(case.fails)}
            assert _not_passing(audit(fleet, limit=target.name)) == {
                target.name: set(case.fails)}
            on_host(fleet, target.name, case.repair_by_hand)

        assert _not_passing(audit(fleet, limit=target.name)) == {}
        restored = True
    finally:
        on_host(fleet, target.name, case.cleanup)
        if not restored:  # leave the shared fleet compliant for the next test
            apply(sop_fleet, [case.area], limit=target.name)


def test_a_locked_account_keeps_its_home_and_cannot_log_in(
    sop_fleet: SopFleet, audit: Audit, apply: Apply
) -> None:
    target = _school_hosts(sop_fleet)[0]
    on_host(sop_fleet, target.name, "useradd -m -s /bin/bash -u 1501 visitor")
    try:
        apply(sop_fleet, ["identity"], limit=target.name)
        passwd = on_host(sop_fleet, target.name, "getent passwd visitor").strip().split(":")
        shadow = on_host(sop_fleet, target.name, "getent shadow visitor").strip().split(":")
        assert passwd[6] == "/usr/sbin/nologin"
        assert shadow[1].startswith("!")
        assert shadow[7] != "" and int(shadow[7]) <= 1  # account expired in 1970
        assert on_host(sop_fleet, target.name, "test -d /home/visitor && echo kept") == "kept\n"
        assert _not_passing(audit(sop_fleet, limit=target.name)) == {}
    finally:
        on_host(sop_fleet, target.name, "userdel -r visitor 2>/dev/null || true")


def _tcp_answers(fleet: SopFleet, source: Host, target: Host, port: int) -> bool:
    out = on_host(fleet, source.name, f"nc -z -w 2 {target.address} {port}; echo rc=$?")
    return out.strip().endswith("rc=0")


def _listen(fleet: SopFleet, host: Host, port: int) -> str:
    pid = on_host(fleet, host.name,
                  f"nohup nc -lk -p {port} </dev/null >/dev/null 2>&1 & echo $!").strip()
    # The listener itself is up (loopback is always accepted): a refused connection later
    # is the firewall, not a missing listener.
    on_host(fleet, host.name, f"for i in 1 2 3 4 5 6 7 8 9 10; do "
                              f"nc -z -w 1 127.0.0.1 {port} && exit 0; sleep 0.2; done; exit 1")
    return pid


def test_the_firewall_really_filters(sop_fleet: SopFleet) -> None:
    """Real connections against the applied rule sets.

    In the fleet inventory dlict_mgmt_networks is the fleet's own /24, which holds the
    controller (the office management network, where Ansible runs) and every host; so SSH
    must answer from the controller and from another host, while a port nobody allowed must
    not answer from another host. The log server's RELP port answers a school (district
    network), and the same port on a school host, which is no log server, does not.
    """
    school, other_school = _school_hosts(sop_fleet)[:2]
    office = next(h for h in sop_fleet.fleet.hosts if h.is_office)
    listeners = [(school, _listen(sop_fleet, school, 8081)),
                 (school, _listen(sop_fleet, school, 2514)),
                 (office, _listen(sop_fleet, office, 2514))]
    try:
        with socket.create_connection((school.address, 22), timeout=3) as ssh:
            assert ssh.recv(64).startswith(b"SSH-2.0-")
        assert _tcp_answers(sop_fleet, other_school, school, 22)

        assert not _tcp_answers(sop_fleet, other_school, school, 8081)
        assert not _tcp_answers(sop_fleet, office, school, 8081)

        assert _tcp_answers(sop_fleet, school, office, 2514)
        assert not _tcp_answers(sop_fleet, other_school, school, 2514)
    finally:
        for host, pid in listeners:
            on_host(sop_fleet, host.name, f"kill {pid} 2>/dev/null || true")


def test_ssh_is_refused_outside_the_management_network(
    sop_fleet: SopFleet, apply: Apply, tmp_path: Path
) -> None:
    """With only the controller as management network, another fleet host gets no SSH."""
    school, other_school = _school_hosts(sop_fleet)[:2]
    document = yaml.safe_load(sop_fleet.fleet.inventory_path.read_text())
    document["all"]["vars"]["dlict_mgmt_networks"] = [f"{sop_fleet.fleet.controller_address}/32"]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    narrowed = _FleetWithInventory(sop_fleet, inventory)
    try:
        apply(narrowed, ["firewall"], limit=school.name)
        assert not _tcp_answers(sop_fleet, other_school, school, 22)
        with socket.create_connection((school.address, 22), timeout=3) as ssh:
            assert ssh.recv(64).startswith(b"SSH-2.0-")
    finally:
        apply(sop_fleet, ["firewall"], limit=school.name)
    assert _tcp_answers(sop_fleet, other_school, school, 22)
