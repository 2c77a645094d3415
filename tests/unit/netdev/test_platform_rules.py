"""Every platform's device rules over every captured case (platforms × fixture cases).

What one platform's rules must do, the others must do too: so the checks that were once written
three times live here once, and a new platform's fixtures run through them unchanged.
"""

from __future__ import annotations

import pytest

from dlict.controls import CheckedBy, load_catalog
from dlict.core.results import Status
from dlict.netdev.platforms import REGISTRY, DevicePlatform
from tests.unit.netdev.harness import (
    audit,
    broken_control,
    cases,
    failing,
    outputs_of,
    platform_cases,
)

NETDEV_CONTROLS = {"FW-06", "FW-07", "FW-08", "FW-09", "FW-10", "ID-10", "ID-11", "LOG-05",
                   "LOG-06"}
# What the failing finding of each break case must name, so the reader sees where to look.
EVIDENCE: dict[str, dict[str, str]] = {
    "ios": {
        "breaks-FW-06": "permit tcp any host 203.0.113.2 eq 22",
        "breaks-FW-06-http": "ip http secure-server",
        "breaks-FW-07": "transport input ssh telnet",
        "breaks-FW-07-default": "line vty 5 15 has no transport input",
        "breaks-FW-07-http": "ip http server",
        "breaks-FW-08": "permit ip any any",
        "breaks-FW-09": "permit udp any eq domain any",
        "breaks-FW-10": "15.1(4)M4 is below the minimum 15.2(7)E",
        "breaks-ID-10": "username cisco has a type 7 password",
        "breaks-ID-10-enable": "no enable secret",
        "breaks-ID-10-nopassword": "username helpdesk has no password",
        "breaks-ID-11": "community public",
        "breaks-LOG-05": "logging host 198.51.100.9",
        "breaks-LOG-06": "no ntp server",
    },
    "fortios": {
        "breaks-FW-06": "WAN interface wan1 allows snmp",
        "breaks-FW-06-https": "WAN interface wan1 allows https ssh and not every administrator",
        "breaks-FW-07": "interface internal allows http",
        "breaks-FW-07-telnet": "interface internal allows telnet",
        "breaks-FW-08": "firewall policy 3 (temp test - remove) accepts all from wan1",
        "breaks-FW-09": "DNS service on WAN interface wan1",
        "breaks-FW-10": "version 7.0.12 is below the minimum 7.2.8",
        "breaks-ID-10": "administrator admin has no password",
        "breaks-ID-11": 'community "public" is enabled',
        "breaks-LOG-05": "log syslogd is disabled, server 198.51.100.10",
        "breaks-LOG-06": "ntpsync disable",
    },
    "routeros": {
        "breaks-FW-06": "winbox (8291) enabled for any address and the input chain accepts it",
        "breaks-FW-06-ssh-port": "ssh (2222) enabled for any address",
        "breaks-FW-07": "telnet (23) enabled in /ip service",
        "breaks-FW-08": "rule 7 'defconf: drop all not coming from LAN' is disabled",
        "breaks-FW-08-tcp-only": "protocol=tcp",
        "breaks-FW-09": "udp 53 from WAN (rule 3 'allow DNS')",
        "breaks-FW-10": "version 7.11.2 is below the minimum 7.12",
        "breaks-FW-10-v6": "version 6.49.10 is below the minimum 7.12",
        "breaks-ID-10": "system default user",
        "breaks-ID-11": "'public' (v1/v2c, any address)",
        "breaks-ID-11-private": "'private' (v1/v2c, 192.0.2.0/24, write)",
        "breaks-LOG-05": "no /system logging rule uses it",
        "breaks-LOG-05-other-server": "not to a district log server (198.51.100.10)",
        "breaks-LOG-06": "NTP client is disabled",
    },
}
PLATFORMS = pytest.mark.parametrize("platform", REGISTRY, ids=lambda p: p.name)
CASES = pytest.mark.parametrize(("platform", "case"), platform_cases(),
                                ids=[f"{p.name}-{c}" for p, c in platform_cases()])


@PLATFORMS
def test_the_rules_are_the_nine_netdev_controls(platform: DevicePlatform) -> None:
    assert set(platform.rules) == NETDEV_CONTROLS
    expected = {c.id for c in load_catalog().checked_by(CheckedBy.NETDEV)
                if platform.name in c.platforms}
    assert set(platform.rules) == expected


@PLATFORMS
def test_every_case_has_the_outputs_the_platform_produces(platform: DevicePlatform) -> None:
    assert "compliant" in cases(platform)
    for case in cases(platform):
        assert set(outputs_of(platform, case)) == set(platform.commands), case
    assert {broken_control(c) for c in cases(platform)} == NETDEV_CONTROLS | {None}


@PLATFORMS
def test_every_break_case_says_what_it_shows(platform: DevicePlatform) -> None:
    assert sorted(EVIDENCE[platform.name]) == [c for c in cases(platform) if c != "compliant"]


@CASES
def test_a_case_fails_exactly_the_control_it_breaks(platform: DevicePlatform, case: str) -> None:
    findings = audit(platform, outputs_of(platform, case))
    broken = broken_control(case)
    assert failing(platform, outputs_of(platform, case)) == ([broken] if broken else []), {
        c: f.evidence for c, f in findings.items()}
    for control, finding in findings.items():
        assert finding.control == control
        assert finding.status in (Status.PASS, Status.FAIL)
        assert finding.evidence and "\n" not in finding.evidence
    if broken:
        assert EVIDENCE[platform.name][case] in findings[broken].evidence


@CASES
def test_the_firmware_version_is_read(platform: DevicePlatform, case: str) -> None:
    assert platform.firmware_version(outputs_of(platform, case)) is not None


@CASES
def test_normalize_is_idempotent(platform: DevicePlatform, case: str) -> None:
    once = platform.normalize(outputs_of(platform, case)["config"])
    assert platform.normalize(once) == once


@CASES
def test_a_normalized_backup_is_judged_like_the_raw_config(platform: DevicePlatform,
                                                           case: str) -> None:
    out = outputs_of(platform, case)
    normal = {**out, "config": platform.normalize(out["config"])}
    assert failing(platform, normal) == failing(platform, out)
