"""From observed port states and ARP answers to FW-11 and EP-07 results (pure parts)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pytest

from dlict.core.errors import InputError
from dlict.core.results import Status
from dlict.inventory.models import Host, Role, Site, SiteKind, SiteMeta
from dlict.netscan.discover import Sweep, judge_lan
from dlict.netscan.engine import Neighbour, PortState
from dlict.netscan.policy import Policy, Port, Proto, Service, firewall_defaults, policy_for
from dlict.netscan.verify import HostPlan, judge, parse_extra_ports, plan_ports

SCANNER = IPv4Address("198.51.100.5")


def tcp(n: int) -> Port:
    return Port(Proto.TCP, n)


def udp(n: int) -> Port:
    return Port(Proto.UDP, n)


def log_server_plan(settings: dict[str, Any] | None = None) -> HostPlan:
    host = Host(name="office-log", address="198.51.100.10", site="office",
                roles=frozenset({Role.LINUX_SERVER, Role.LOG_SERVER}),
                groups=frozenset({"all", "office", "linux_servers", "log_servers"}),
                settings=settings or {"dlict_district_networks": ["198.51.100.0/24"],
                                      "dlict_mgmt_networks": ["198.51.100.0/24"]})
    policy = policy_for(host, firewall_defaults())
    assert policy is not None
    return HostPlan(host, IPv4Address(host.address), SCANNER, policy,
                    plan_ports(policy, SCANNER, [tcp(9999)]))


def states(plan: HostPlan, open_ports: set[Port],
           closed: set[Port] | None = None) -> dict[Port, PortState]:
    return {p: PortState.OPEN if p in open_ports else
            PortState.CLOSED if p in (closed or set()) else PortState.FILTERED
            for p in plan.ports}


def test_the_probe_plan_holds_policy_common_and_extra_ports() -> None:
    plan = log_server_plan()
    assert {tcp(22), tcp(514), tcp(2514), tcp(6514), tcp(8080), tcp(3389), tcp(9999),
            udp(53), udp(123), udp(161)} <= set(plan.ports)
    assert udp(514) not in plan.ports  # syslog over UDP never answers: not probed
    assert plan.expected_open == {tcp(22), tcp(514), tcp(2514)}


def test_pass_lists_the_confirmed_ports() -> None:
    plan = log_server_plan()
    result = judge(plan, states(plan, {tcp(22), tcp(514), tcp(2514)}))
    assert (result.status, result.control, result.host) == (Status.PASS, "FW-11", "office-log")
    others = len(plan.ports) - 3
    assert result.evidence == (
        f"from {SCANNER}: tcp/22, tcp/514, tcp/2514 open as allowed; {others} other "
        "ports closed; not verifiable (the service never answers): udp/514")


def test_fail_lists_every_mismatch() -> None:
    plan = log_server_plan()
    result = judge(plan, states(plan, {tcp(22), tcp(514), tcp(8080), udp(161)},
                                closed={tcp(2514)}))
    assert result.status is Status.FAIL
    assert result.evidence.splitlines() == [
        f"from {SCANNER}: tcp/2514 closed, the policy allows it; tcp/8080 open, not in the "
        "policy; udp/161 open, not in the policy",
        "confirmed: tcp/22, tcp/514 open as allowed; not verifiable (the service "
        "never answers): udp/514",
    ]


def test_a_port_open_to_a_source_the_policy_does_not_name() -> None:
    plan = log_server_plan({"dlict_district_networks": ["192.0.2.0/24"],
                            "dlict_mgmt_networks": ["198.51.100.0/24"]})
    assert plan.expected_open == {tcp(22)}
    result = judge(plan, states(plan, {tcp(22), tcp(2514)}))
    assert result.status is Status.FAIL
    assert result.evidence == (f"from {SCANNER}: tcp/2514 open to {SCANNER}, the policy allows "
                               "it only from 192.0.2.0/24\nconfirmed: tcp/22 open as allowed")


def test_no_answer_at_all_is_unreachable_not_a_finding() -> None:
    plan = log_server_plan()
    result = judge(plan, states(plan, set()))
    assert result.status is Status.UNREACHABLE
    assert "no answer to any of" in result.evidence


def test_a_host_nothing_may_reach_passes_when_nothing_answers() -> None:
    host = Host(name="gw", address="198.51.100.1", site="office",
                roles=frozenset({Role.NETWORK_DEVICE}))
    policy = Policy("gw", (Service("x", Proto.TCP, 8291, 8291, ("192.0.2.0/24",)),), "test")
    plan = HostPlan(host, IPv4Address(host.address), SCANNER, policy,
                    plan_ports(policy, SCANNER, []))
    result = judge(plan, states(plan, set()))
    assert result.status is Status.PASS
    assert result.evidence.startswith(f"from {SCANNER}: no port open, as the policy expects; ")


def test_extra_ports_option() -> None:
    assert parse_extra_ports("8080, tcp/9000,udp/161") == [tcp(8080), tcp(9000), udp(161)]
    with pytest.raises(InputError, match="udp/5353: UDP can only be probed where"):
        parse_extra_ports("udp/5353")
    with pytest.raises(InputError, match="--ports: 'http' is not a port"):
        parse_extra_ports("http")


def _site() -> Site:
    meta = SiteMeta(name_th="โรงเรียน", name_en="School", amphoe="เมือง",
                    province="มหาสารคาม", school_code="4401000001", lan=["192.0.2.0/24"])
    return Site(id="4401000001", kind=SiteKind.SCHOOL, group="school_4401000001", meta=meta,
                hosts=("srv", "ap"))


def _hosts() -> list[Host]:
    return [Host(name="srv", address="192.0.2.10", site="4401000001",
                 roles=frozenset({Role.LINUX_SERVER}), mac="00:16:3e:00:00:10"),
            Host(name="ap", address="192.0.2.2", site="4401000001",
                 roles=frozenset({Role.NETWORK_DEVICE}))]


def _vendor(mac: str) -> str:
    return {"b8": "Raspberry Pi Foundation", "00": "Xensource, Inc."}.get(mac[:2], "unknown")


SWEEP = Sweep(_site(), IPv4Network("192.0.2.0/24"), "eth1", IPv4Address("192.0.2.1"))


def test_known_devices_pass_per_lan() -> None:
    answers = [Neighbour(IPv4Address("192.0.2.10"), "00:16:3e:00:00:10"),
               Neighbour(IPv4Address("192.0.2.2"), "f4:bd:9e:00:00:02"),
               Neighbour(IPv4Address("192.0.2.1"), "00:16:3e:00:00:01")]  # the scanner itself
    results = judge_lan(SWEEP, _hosts(), answers, _vendor)
    assert [(r.site, r.host, r.control, r.status, r.evidence) for r in results] == [
        ("4401000001", "192.0.2.0/24", "EP-07", Status.PASS,
         "2 devices answered on 192.0.2.0/24 (eth1), all known")]


def test_unknown_device_and_mac_mismatch_are_findings() -> None:
    answers = [Neighbour(IPv4Address("192.0.2.10"), "00:16:3e:00:00:99"),
               Neighbour(IPv4Address("192.0.2.77"), "b8:27:eb:12:34:56"),
               Neighbour(IPv4Address("192.0.2.78"), "00:16:3e:00:00:10")]
    results = judge_lan(SWEEP, _hosts(), answers, _vendor)
    assert [(r.host, r.status, r.evidence) for r in results] == [
        ("192.0.2.10", Status.FAIL,
         "192.0.2.10 00:16:3e:00:00:99 (Xensource, Inc.) answers, but the inventory has srv "
         "with 00:16:3e:00:00:10 (Xensource, Inc.) at that address"),
        ("192.0.2.77", Status.FAIL,
         "192.0.2.77 b8:27:eb:12:34:56 (Raspberry Pi Foundation) is not in the inventory"),
        ("192.0.2.78", Status.FAIL,
         "192.0.2.78 00:16:3e:00:00:10 (Xensource, Inc.) is not in the inventory (its MAC is "
         "registered to srv at 192.0.2.10)"),
    ]


def test_a_lan_this_machine_is_not_on_is_an_error_not_a_sweep() -> None:
    """The real engine's routing table (no packet is sent by planning)."""
    from dlict.netscan.discover import plan_sweeps
    from dlict.netscan.scapy_loader import scapy_engine

    meta = _site().meta.model_copy(update={"lan": [IPv4Network("127.216.0.0/24"),
                                                   IPv4Network("203.0.113.0/24")]})
    site = _site().model_copy(update={"meta": meta})
    sweeps, errors = plan_sweeps([site], scapy_engine(), None)
    assert sweeps == []
    assert [(r.host, r.status) for r in errors] == [("127.216.0.0/24", Status.ERROR),
                                                    ("203.0.113.0/24", Status.ERROR)]
    assert errors[0].evidence.startswith("127.216.0.0/24 is not on a link of this machine "
                                         "(loopback)")
    assert errors[1].evidence.startswith("203.0.113.0/24 is not on a link of this machine (")


def test_hosts_without_policy_or_ipv4_address_get_a_result_not_a_probe() -> None:
    """Planning with the real engine's routing table; no packet is sent."""
    from dlict.netscan.policy import policies_for
    from dlict.netscan.scapy_loader import scapy_engine
    from dlict.netscan.verify import make_plans

    def server(name: str, address: str) -> Host:
        return Host(name=name, address=address, site="office",
                    roles=frozenset({Role.LINUX_SERVER}),
                    groups=frozenset({"all", "linux_servers"}))

    hosts = [server("by-name", "srv.example"), server("v6", "2001:db8::10"),
             server("local", "127.0.0.1"),
             Host(name="pc", address="127.0.0.2", site="office",
                  roles=frozenset({Role.WINDOWS_ENDPOINT}))]
    policies = policies_for(hosts, firewall_defaults())
    assert policies.problems == []
    plan = make_plans(hosts, policies.policies, scapy_engine(), [])
    assert [(p.host.name, str(p.source)) for p in plan.plans] == [("local", "127.0.0.1")]
    assert [(r.host, r.status) for r in plan.results] == [
        ("by-name", Status.ERROR), ("v6", Status.ERROR), ("pc", Status.SKIPPED)]
    assert plan.results[0].evidence == ("ansible_host 'srv.example' is not an IPv4 address: "
                                        "FW-11 is verified against one")
