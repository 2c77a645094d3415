"""``dlict netscan verify`` against the SOP fleet with its firewall applied: real SYN and UDP
probes from the controller, judged against the policy the firewall role rendered.

The controller (the scanner) is 10.213.<n>.1, inside the fleet inventory's
dlict_mgmt_networks and dlict_district_networks (both the fleet's /24): so SSH on every host,
and on the log server the syslog and RELP ports and NTP, must answer it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml

from dlict.core.store import EvidenceStore
from lab.fleet.fleet import Host
from tests.integration.sop.conftest import SopFleet, on_host, run_dlict

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

TEST_RULE = "dlict-netscan-test"


def verify(fleet: SopFleet, capsys: pytest.CaptureFixture[str],
           *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_dlict(capsys, "--json", "-i", str(fleet.inventory_path),
                               "--data-dir", str(fleet.data_dir), "netscan", "verify", *extra)
    assert code in (0, 1), f"netscan verify exited {code}: {err}"
    data: dict[str, Any] = json.loads(out)
    return code, data


def by_host(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["host"]: (r["status"], r["evidence"]) for r in data["results"]}


def office(fleet: SopFleet) -> Host:
    return next(h for h in fleet.fleet.hosts if h.is_office)


def school(fleet: SopFleet) -> Host:
    return next(h for h in fleet.fleet.hosts if not h.is_office)


@contextmanager
def port_opened_by_hand(fleet: SopFleet, host: Host, port: int) -> Iterator[None]:
    """An nft accept rule for ``port`` in the dlict input chain and a listener behind it;
    both removed again (rule by handle, listener by PID) whatever happens."""
    pid = ""
    try:
        on_host(fleet, host.name, f"nft insert rule inet dlict input tcp dport {port} accept "
                                  f"comment {TEST_RULE}")
        pid = on_host(fleet, host.name,
                      f"nohup nc -lk -p {port} </dev/null >/dev/null 2>&1 & echo $!").strip()
        on_host(fleet, host.name, f"for i in $(seq 20); do nc -z -w 1 127.0.0.1 {port} "
                                  "&& exit 0; sleep 0.2; done; exit 1")
        yield
    finally:
        if pid:
            on_host(fleet, host.name, f"kill {pid} 2>/dev/null || true")
        on_host(fleet, host.name,
                f"for h in $(nft -a list chain inet dlict input | sed -n "
                f"'s/.*comment \"{TEST_RULE}\" # handle \\([0-9]*\\)$/\\1/p'); do "
                f"nft delete rule inet dlict input handle $h; done")


@contextmanager
def sshd_stopped(fleet: SopFleet, host: Host) -> Iterator[None]:
    try:
        on_host(fleet, host.name, "/etc/init.d/ssh stop >/dev/null")
        yield
    finally:
        on_host(fleet, host.name, "/etc/init.d/ssh start >/dev/null")


def test_the_scanner_sits_in_the_fleets_management_and_district_networks(
        sop_fleet: SopFleet) -> None:
    """What the other tests here expect rests on this."""
    document = yaml.safe_load(sop_fleet.fleet.inventory_path.read_text())["all"]["vars"]
    scanner = ipaddress.ip_address(sop_fleet.fleet.controller_address)
    for name in ("dlict_mgmt_networks", "dlict_district_networks"):
        assert any(scanner in ipaddress.ip_network(n) for n in document[name]), name


def test_the_log_servers_allowed_ports_answer(
        sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str]) -> None:
    log_server = office(sop_fleet)
    code, data = verify(sop_fleet, capsys, "--limit", log_server.name)
    scanner = sop_fleet.fleet.controller_address
    assert by_host(data) == {log_server.name: (
        "pass",
        f"from {scanner}: tcp/22, tcp/514, tcp/2514, udp/123 open as allowed; "
        f"{data['probes'] - 4} other ports closed; not verifiable (the service never answers): "
        "udp/514")}
    assert code == 0
    with EvidenceStore.open(sop_fleet.data_dir / "evidence.sqlite") as store:
        run = store.run(data["id"])
        stored = store.results(run.id)
    assert (run.kind, run.status.value) == ("netscan", "ok")
    assert [(r.host, r.control, r.status.value) for r in stored] == [
        (log_server.name, "FW-11", "pass")]


def test_a_port_opened_by_hand_is_found_on_exactly_that_host(
        sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str]) -> None:
    target = school(sop_fleet)
    with port_opened_by_hand(sop_fleet, target, 8080):
        code, data = verify(sop_fleet, capsys)
    assert code == 1
    results = by_host(data)
    assert {h for h, (status, _e) in results.items() if status != "pass"} == {target.name}
    status, evidence = results[target.name]
    assert status == "fail"
    assert evidence == (f"from {sop_fleet.fleet.controller_address}: tcp/8080 open, not in the "
                        "policy\nconfirmed: tcp/22 open as allowed")
    assert data["status"] == "findings"

    # Rule and listener gone: the host is back to its policy.
    code, data = verify(sop_fleet, capsys, "--limit", target.name)
    assert (code, by_host(data)[target.name][0]) == (0, "pass")


def test_an_allowed_port_whose_service_stopped_is_found(
        sop_fleet: SopFleet, capsys: pytest.CaptureFixture[str]) -> None:
    target = school(sop_fleet)
    with sshd_stopped(sop_fleet, target):
        code, data = verify(sop_fleet, capsys, "--limit", target.name)
    assert code == 1
    assert by_host(data) == {target.name: (
        "fail", f"from {sop_fleet.fleet.controller_address}: tcp/22 closed, the policy allows "
                "it")}
