"""FortiOS device rules, judged on captured-format outputs (no live FortiGate here).

tests/unit/netdev/fixtures/fortios/<case>/config.txt holds ``show full-configuration`` as a
FortiGate 60F on 7.2.8 prints it (trimmed): "compliant" passes every control,
"breaks-<ID>[-variant]" makes exactly that control fail. What every platform's cases must
show is checked in test_platform_rules.py; these are the FortiOS parser's own details.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dlict.core.results import Status
from dlict.netdev.platforms import FORTIOS
from dlict.netdev.platforms.fortios import rules as fortios
from dlict.netdev.rules import AuditContext
from tests.unit.netdev.harness import CONTEXT, outputs_of
from tests.unit.netdev.harness import failing as failing_on

RULES = FORTIOS.rules


def config(case: str) -> str:
    return outputs_of(FORTIOS, case)["config"]


def failing(out: dict[str, str], context: AuditContext = CONTEXT) -> list[str]:
    return failing_on(FORTIOS, out, context)


def test_firmware_version_from_the_config_header() -> None:
    assert FORTIOS.firmware_version({"config": config("compliant")}) == "7.2.8"
    assert FORTIOS.firmware_version({"config": "config system global\nend\n"}) is None


def test_the_parser_keeps_nested_blocks_and_multi_line_quoted_values() -> None:
    tree = fortios.parse(config("compliant"))
    ntp = next(fortios.blocks(tree, "system ntp"))
    assert ntp.value("server-mode") == "disable"  # a setting after the nested block
    assert ntp.configs["ntpserver"].entries["1"].value("server") == "198.51.100.1"
    cert = fortios.entries(tree, "vpn certificate local")["Fortinet_Factory"]
    assert cert.value("private-key").startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert cert.value("range") == "global"
    assert fortios.entries(tree, "system interface")["internal"].values("allowaccess") == [
        "ping", "https", "ssh", "snmp", "fgfm", "fabric"]


def test_vdom_mode_blocks_are_found_inside_config_global_and_vdom() -> None:
    text = config("compliant")
    header, body = text.split("config system global\n", 1)
    vdom_mode = (f"{header}config global\nconfig system global\n{body}end\n"
                 "config vdom\nedit root\nconfig firewall policy\nend\nnext\nend\n")
    assert failing({"config": vdom_mode}) == []


def test_https_on_the_wan_passes_when_every_administrator_has_trusted_hosts() -> None:
    text = config("compliant").replace(
        "203.0.113.2 255.255.255.252\n        set allowaccess ping\n",
        "203.0.113.2 255.255.255.252\n        set allowaccess ping https ssh\n")
    finding = RULES["FW-06"]({"config": text}, CONTEXT)
    assert finding.status is Status.PASS
    assert "every administrator is limited to trusted hosts" in finding.evidence
    # SNMP and FortiManager are not administrator logins: trusted hosts do not cover them.
    fgfm = text.replace("set allowaccess ping https ssh\n", "set allowaccess ping https fgfm\n")
    assert RULES["FW-06"]({"config": fgfm}, CONTEXT).evidence == (
        "WAN interface wan1 allows fgfm")


def test_telnet_in_allowaccess_counts_unless_admin_telnet_is_disabled() -> None:
    text = config("breaks-FW-07-telnet")
    assert RULES["FW-07"]({"config": text}, CONTEXT).status is Status.FAIL
    default = text.replace("    set admin-telnet enable\n", "")
    assert RULES["FW-07"]({"config": default}, CONTEXT).status is Status.FAIL
    off = text.replace("set admin-telnet enable", "set admin-telnet disable")
    assert RULES["FW-07"]({"config": off}, CONTEXT).status is Status.PASS


def test_wan_interfaces_named_by_the_inventory_replace_role_wan() -> None:
    out = {"config": config("compliant")}
    internal = replace(CONTEXT, wan_interfaces=("internal",))
    assert failing(out, internal) == ["FW-06", "FW-09"]
    no_wan = {"config": config("compliant").replace("set role wan", "set role lan")}
    assert failing(no_wan) == ["FW-06", "FW-08", "FW-09"]
    assert RULES["FW-08"](no_wan, CONTEXT).evidence.startswith("no WAN interface")


def test_an_allow_all_policy_through_an_sdwan_zone_counts_as_from_the_wan() -> None:
    policy = config("breaks-FW-08").replace('set srcintf "wan1"\n        set dstintf "internal"\n'
                                            '        set action accept\n        set srcaddr "all"',
                                            'set srcintf "virtual-wan-link"\n        set dstintf '
                                            '"internal"\n        set action accept\n        set '
                                            'srcaddr "all"')
    sdwan = policy.replace("config router static\n", 'config system sdwan\n    set status enable\n'
                           '    config members\n        edit 1\n            set interface "wan1"\n'
                           '            set zone "virtual-wan-link"\n        next\n    end\nend\n'
                           "config router static\n")
    assert RULES["FW-08"]({"config": policy}, CONTEXT).status is Status.PASS
    assert RULES["FW-08"]({"config": sdwan}, CONTEXT).status is Status.FAIL


def test_normalize_strips_the_file_counter_encrypted_values_and_private_keys() -> None:
    raw = config("compliant")
    normal = FORTIOS.normalize(raw)
    assert "#conf_file_ver=" not in normal
    assert "#config-version=FGT60F-7.2.8-FW-build1639-240313" in normal
    assert re.findall(r"set (\S+) ENC (\S+)", normal) == [
        ("password", "<redacted>"), ("password", "<redacted>"), ("auth-pwd", "<redacted>"),
        ("priv-pwd", "<redacted>"), ("password", "<redacted>"), ("psksecret", "<redacted>")]
    assert 'set private-key "<redacted>"\n' in normal
    assert "PRIVATE KEY" not in normal
    assert "-----BEGIN CERTIFICATE-----" in normal  # a certificate is public and stable


def test_two_reads_differing_only_in_volatile_values_normalize_equal() -> None:
    first = config("compliant")
    second = re.sub(r"(ENC )(\S+)", lambda m: m.group(1) + m.group(2)[::-1], first)
    second = second.replace("#conf_file_ver=81123472635817451", "#conf_file_ver=81123472635990213")
    second = re.sub(r"(PRIVATE KEY-----\n)(\S+)", lambda m: m.group(1) + m.group(2)[::-1], second)
    assert second != first
    assert FORTIOS.normalize(second) == FORTIOS.normalize(first)
    changed = first.replace('set server "198.51.100.10"', 'set server "198.51.100.9"')
    assert FORTIOS.normalize(changed) != FORTIOS.normalize(first)


