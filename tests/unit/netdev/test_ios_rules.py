"""Cisco IOS device rules, judged on captured-format outputs (no live router here).

tests/unit/netdev/fixtures/ios/<case>/{config,version}.txt hold ``show running-config`` and
``show version`` as IOS prints them: "compliant" passes every control, "breaks-<ID>[-variant]"
makes exactly that control fail. What every platform's cases must show is checked in
test_platform_rules.py; these are the IOS parsers' own details.
"""

from __future__ import annotations

from dataclasses import replace

from dlict.core.results import Status
from dlict.netdev.platforms import IOS
from dlict.netdev.platforms.ios import rules as ios
from dlict.netdev.rules import AuditContext
from tests.unit.netdev.harness import CONTEXT, outputs_of
from tests.unit.netdev.harness import failing as failing_on

RULES = IOS.rules


def outputs(case: str) -> dict[str, str]:
    return outputs_of(IOS, case)


def failing(out: dict[str, str], context: AuditContext = CONTEXT) -> list[str]:
    return failing_on(IOS, out, context)


def test_firmware_version_from_show_version() -> None:
    assert IOS.firmware_version(outputs("compliant")) == "15.7(3)M9"
    catalyst = ("Cisco IOS Software, C3560CX Software (C3560CX-UNIVERSALK9-M), Version "
                "15.2(7)E4, RELEASE SOFTWARE (fc2)\n")
    assert IOS.firmware_version({"version": catalyst}) == "15.2(7)E4"
    assert IOS.firmware_version({"config": "version 15.7\n"}) is None


def test_wan_interface_named_by_the_inventory_replaces_nat_outside() -> None:
    out = outputs("compliant")
    assert failing(out, replace(CONTEXT, wan_interfaces=("Gi0/0",))) == []
    # Naming the LAN port as WAN: it has no inbound ACL, so nothing drops traffic to the router.
    lan = replace(CONTEXT, wan_interfaces=("GigabitEthernet0/1",))
    assert failing(out, lan) == ["FW-08", "FW-09"]
    assert "GigabitEthernet0/1 has no inbound access list" in RULES["FW-08"](out, lan).evidence


def test_a_wan_acl_that_drops_ssh_stands_in_for_a_missing_access_class() -> None:
    config = outputs("compliant")["config"].replace(" access-class MGMT-SSH in\n", "")
    finding = RULES["FW-06"]({"config": config}, CONTEXT)
    assert finding.status is Status.PASS
    assert "line vty 0 4: the WAN access list drops port 22" in finding.evidence


def test_without_a_known_wan_the_vty_lines_need_an_access_class() -> None:
    config = (outputs("compliant")["config"].replace(" access-class MGMT-SSH in\n", "")
              .replace(" ip nat outside\n", ""))
    finding = RULES["FW-06"]({"config": config}, CONTEXT)
    assert finding.status is Status.FAIL
    assert "no WAN interface is known" in finding.evidence


def test_an_implicit_final_deny_passes_and_says_drops_are_not_logged() -> None:
    config = outputs("compliant")["config"].replace(" deny   ip any any log\n", "")
    finding = RULES["FW-08"]({"config": config}, CONTEXT)
    assert finding.status is Status.PASS
    assert "implicit deny" in finding.evidence


def test_numbered_access_lists_are_read_like_named_ones() -> None:
    config = outputs("compliant")["config"].replace(
        " access-class MGMT-SSH in", " access-class 23 in").replace(
        "ip access-list standard NAT-INSIDE",
        "access-list 23 permit 192.0.2.0 0.0.0.255\naccess-list 23 permit any\n"
        "ip access-list standard NAT-INSIDE")
    config = config.replace(" permit tcp 198.51.100.0 0.0.0.255 host 203.0.113.2 eq 22",
                            " permit tcp any any range 20 23")
    finding = RULES["FW-06"]({"config": config}, CONTEXT)
    assert finding.status is Status.FAIL
    assert "access class 23, which lets in any source" in finding.evidence


VOLATILE_LINES = ("Building configuration...", "Current configuration : 6214 bytes",
                  "! Last configuration change at", "! NVRAM config last updated at",
                  "ntp clock-period 17208144")


def test_normalize_strips_volatile_lines_and_secrets() -> None:
    raw = outputs("compliant")["config"]
    normal = IOS.normalize(raw)
    assert not any(v in normal for v in VOLATILE_LINES)
    assert "$9$" not in normal and "s01-nms-7f3a2c" not in normal
    assert "enable secret 9 <redacted>\n" in normal
    assert "username netadmin privilege 15 secret 9 <redacted>\n" in normal
    assert "snmp-server community <redacted> RO SNMP-NMS\n" in normal
    assert "ntp server 198.51.100.1 prefer\n" in normal
    broken = IOS.normalize(outputs("breaks-ID-10")["config"])
    assert "username cisco privilege 15 password 7 <redacted>\n" in broken
    assert "02050D480809" not in broken
    # public is no secret and the audit of a kept backup still has to see it.
    assert "snmp-server community public RO" in IOS.normalize(
        outputs("breaks-ID-11")["config"])


def test_two_reads_differing_only_in_volatile_lines_normalize_equal() -> None:
    first = outputs("compliant")["config"]
    second = (first.replace("14:02:11 ICT Tue Mar 12 2024", "08:15:40 ICT Wed Mar 13 2024")
              .replace("14:02:15 ICT Tue Mar 12 2024", "08:15:44 ICT Wed Mar 13 2024")
              .replace("6214 bytes", "6221 bytes")
              .replace("ntp clock-period 17208144", "ntp clock-period 17208152")
              .replace("\n", "\r\n"))
    assert second != first
    assert IOS.normalize(second) == IOS.normalize(first)
    changed = first.replace("logging host 198.51.100.10", "logging host 198.51.100.9")
    assert IOS.normalize(changed) != IOS.normalize(first)


def test_how_an_access_list_exposes_a_port() -> None:
    def acl(*lines: str) -> list[ios.AclEntry]:
        return [e for line in lines if (e := ios.parse_entry(line, standard=False))]

    office_then_deny = acl("permit tcp any any established",
                           "permit tcp 198.51.100.0 0.0.0.255 any eq 22", "deny ip any any log",
                           "permit tcp any any eq 22")
    assert ios.exposing_entry(office_then_deny, "tcp", 22) is None
    several = acl("permit tcp any host 203.0.113.2 eq 22 443", "deny ip any any")
    assert ios.exposing_entry(several, "tcp", 443) == "permit tcp any host 203.0.113.2 eq 22 443"
    assert ios.exposing_entry(several, "tcp", 80) is None
    # A deny for one destination does not close the port to the router's other addresses.
    partial = acl("deny tcp any host 203.0.113.2 range 20 23", "permit tcp any any gt 1023",
                  "permit ip any any")
    assert ios.exposing_entry(partial, "tcp", 22) == "permit ip any any"
    assert ios.exposing_entry(partial, "udp", 161) == "permit ip any any"
    assert ios.exposing_entry(None, "tcp", 22) == "no inbound access list"
