"""A host's firewall policy from its inventory variables and the shipped role's defaults."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pytest

from dlict.inventory.models import Host, Role
from dlict.netscan.policy import (
    Policy,
    PolicyError,
    Port,
    Proto,
    firewall_defaults,
    parse_port,
    policy_for,
)

OFFICE_NET = IPv4Address("198.51.100.7")  # in the district network of these hosts
ELSEWHERE = IPv4Address("203.0.113.9")
DISTRICT = {"dlict_district_networks": ["198.51.100.0/24"],
            "dlict_mgmt_networks": ["198.51.100.0/25"]}


def tcp(n: int) -> Port:
    return Port(Proto.TCP, n)


def udp(n: int) -> Port:
    return Port(Proto.UDP, n)


def host(groups: set[str], settings: dict[str, Any], roles: set[Role] | None = None) -> Host:
    return Host(name="h1", address="198.51.100.10", site="office",
                roles=frozenset(roles if roles is not None else {Role.LINUX_SERVER}),
                groups=frozenset({"all", "office", "linux_servers", *groups}), settings=settings)


def policy(groups: set[str], settings: dict[str, Any],
           roles: set[Role] | None = None) -> Policy:
    found = policy_for(host(groups, settings, roles), firewall_defaults())
    assert found is not None
    return found


def test_a_log_and_time_server_opens_its_role_services_to_the_district() -> None:
    found = policy({"log_servers", "time_servers"}, DISTRICT)
    assert found.expected_open(OFFICE_NET) == {tcp(22), tcp(514), tcp(2514),
                                               udp(514), udp(123)}
    assert found.expected_open(ELSEWHERE) == set()
    # SSH only from the management /25, the services from the whole district /24
    assert found.expected_open(IPv4Address("198.51.100.200")) == {
        tcp(514), tcp(2514), udp(514), udp(123)}


def test_a_plain_server_opens_ssh_only_and_to_everyone_without_a_management_network() -> None:
    assert policy(set(), DISTRICT).expected_open(OFFICE_NET) == {tcp(22)}
    assert policy(set(), {}).expected_open(ELSEWHERE) == {tcp(22)}
    assert policy(set(), {"dlict_firewall_ssh_port": 2222}).expected_open(ELSEWHERE) == {tcp(2222)}


def test_variables_are_templated_as_ansible_would() -> None:
    found = policy(set(), {
        "dlict_district_networks": ["198.51.100.0/24"],
        "dlict_mgmt_networks": "{{ dlict_district_networks }}",
        "dlict_firewall_ssh_port": "{{ 2200 + 22 }}",
        "dlict_firewall_services": [
            {"name": "web", "proto": "tcp", "port": 443,
             "sources": "{{ dlict_mgmt_networks | default([]) }}"},
            {"name": "nothing-yet", "proto": "tcp", "port": 8443,
             "sources": "{{ dlict_backup_networks | default([]) }}"},
        ]})
    assert found.expected_open(OFFICE_NET) == {tcp(2222), tcp(443)}
    assert found.allows(tcp(8443), OFFICE_NET) is False  # a service with no source stays shut


def test_ranges_are_allowed_but_need_not_answer_and_any_means_any() -> None:
    found = policy(set(), DISTRICT | {"dlict_firewall_services": [
        {"name": "passive-ftp", "proto": "tcp", "port": "50000-50100", "sources": ["any"]},
        {"name": "v6-only", "proto": "tcp", "port": 8080, "sources": ["2001:db8::/32"]},
        {"name": "one-host", "proto": "udp", "port": 53, "sources": ["198.51.100.7"]},
    ]})
    assert found.expected_open(ELSEWHERE) == set()
    assert found.allows(tcp(50050), ELSEWHERE)
    assert not found.allows(tcp(50101), ELSEWHERE)
    assert not found.allows(tcp(8080), OFFICE_NET)
    assert found.expected_open(OFFICE_NET) == {tcp(22), udp(53)}
    assert {tcp(50000), tcp(50100), tcp(8080), udp(53)} <= found.ports()


def test_netscan_allowed_for_hosts_without_the_firewall_role() -> None:
    router = host({"network_devices"}, {"dlict_netscan_allowed": ["tcp/8291", "udp/161",
                                                                  "tcp/8000-8002"]},
                  roles={Role.NETWORK_DEVICE})
    found = policy_for(router, firewall_defaults())
    assert found is not None
    assert found.expected_open(ELSEWHERE) == {tcp(8291), udp(161)}
    assert found.allows(tcp(8001), ELSEWHERE)
    assert found.origin == "dlict_netscan_allowed"
    assert policy_for(host({"network_devices"}, {}, roles={Role.NETWORK_DEVICE}),
                      firewall_defaults()) is None
    # on a Linux server it extends the role's policy
    assert policy(set(), DISTRICT | {"dlict_netscan_allowed": ["tcp/443"]}).expected_open(
        ELSEWHERE) == {tcp(443)}


@pytest.mark.parametrize(("settings", "message"), [
    ({"dlict_firewall_services": [{"name": "x", "proto": "icmp", "port": 1, "sources": []}]},
     "host h1: dlict_firewall_services[0] (x): proto 'icmp' is not tcp or udp"),
    ({"dlict_firewall_services": [{"name": "x", "proto": "tcp", "port": "http"}]},
     "host h1: dlict_firewall_services[0] (x): port 'http' is not a number or 'first-last'"),
    ({"dlict_firewall_services": [{"name": "x", "proto": "tcp", "port": "90-80"}]},
     "port '90-80' is outside 1-65535 or reversed"),
    ({"dlict_firewall_services": [{"name": "x", "proto": "tcp", "port": 80,
                                   "sources": "198.51.100.0/24"}]},
     "sources must be a list of networks or 'any'"),
    ({"dlict_firewall_services": [{"name": "x", "proto": "tcp", "port": 80,
                                   "sources": ["the office"]}]},
     "source 'the office' is not a network (CIDR) or 'any'"),
    ({"dlict_mgmt_networks": "{{ my_networks }}"},
     "host h1: dlict_mgmt_networks: cannot evaluate '{{ my_networks }}': "
     "'my_networks' is undefined"),
    ({"dlict_mgmt_networks": "{{ dlict_district_networks }}",
      "dlict_district_networks": "{{ dlict_mgmt_networks }}"},
     "host h1: dlict_mgmt_networks refers to itself (dlict_mgmt_networks -> "
     "dlict_district_networks -> dlict_mgmt_networks)"),
    ({"dlict_netscan_allowed": ["https"]},
     "host h1: dlict_netscan_allowed: 'https' is not tcp/PORT, udp/PORT or tcp/FIRST-LAST"),
])
def test_bad_variables_name_host_and_variable(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_for(host(set(), settings), firewall_defaults())
    assert message in str(caught.value)


def test_a_template_cannot_reach_python_internals() -> None:
    with pytest.raises(PolicyError, match="cannot evaluate"):
        policy_for(host(set(), {"dlict_mgmt_networks":
                                "{{ ''.__class__.__mro__[1].__subclasses__() }}"}),
                   firewall_defaults())


def test_port_spellings() -> None:
    assert parse_port("8080") == tcp(8080)
    assert parse_port("UDP/161") == udp(161)
    with pytest.raises(ValueError, match="outside 1-65535"):
        parse_port("tcp/70000")
    with pytest.raises(ValueError, match="is not a port"):
        parse_port("tcp/1-2")
