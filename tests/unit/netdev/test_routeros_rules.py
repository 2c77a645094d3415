"""RouterOS device rules, tested as pure parsers on captured-format outputs (no RouterOS runs
here; tests/unit/netdev/fixtures/routeros/README.md says how the fixtures were written). What
every platform's cases must show is checked in test_platform_rules.py; these are the RouterOS
lexer's, parsers', firewall evaluator's and normaliser's own details."""

from __future__ import annotations

import pytest

from dlict.core.results import Status
from dlict.netdev.platforms import ROUTEROS
from dlict.netdev.platforms.routeros.firewall import Firewall, Probe, parse_firewall
from dlict.netdev.platforms.routeros.parsers import parse_export, parse_print, services
from dlict.netdev.rules import AuditContext, Finding, Outputs
from tests.unit.netdev.harness import CONTEXT
from tests.unit.netdev.harness import audit as audit_on
from tests.unit.netdev.harness import failing as failing_on
from tests.unit.netdev.harness import outputs_of as outputs_on

RULES = ROUTEROS.rules
firmware_version = ROUTEROS.firmware_version
normalize_config = ROUTEROS.normalize


def outputs_of(case: str) -> dict[str, str]:
    return outputs_on(ROUTEROS, case)


def audit(outputs: Outputs, context: AuditContext = CONTEXT) -> dict[str, Finding]:
    return audit_on(ROUTEROS, outputs, context)


def failing(outputs: Outputs, context: AuditContext = CONTEXT) -> set[str]:
    return set(failing_on(ROUTEROS, outputs, context))


def test_evidence_names_what_was_seen() -> None:
    fw06 = audit(outputs_of("breaks-FW-06"))["FW-06"].evidence
    assert fw06 == ("winbox (8291) enabled for any address and the input chain accepts it from "
                    "WAN (rule 4 'winbox for the vendor's remote support')")
    assert audit(outputs_of("compliant"))["LOG-05"].evidence == (
        "logging action 'district' sends info,warning,error,critical to 198.51.100.10")


# --- the factory default configuration of a v7 router (WAN by DHCP on ether1) ---------------

DEFCONF = """\
# 2024-05-02 10:11:12 by RouterOS 7.14.3
# software id = 7KQN-Z3XW
#
# model = RB5009UG+S+
# serial number = HFA09C4RD2X
/interface bridge add admin-mac=48:A9:8A:10:20:30 auto-mac=no comment=defconf name=bridge
/interface list add comment=defconf name=WAN
/interface list add comment=defconf name=LAN
/ip pool add name=default-dhcp ranges=192.0.2.10-192.0.2.254
/ip dhcp-server add address-pool=default-dhcp interface=bridge name=defconf
/interface bridge port add bridge=bridge comment=defconf interface=ether2
/ip neighbor discovery-settings set discover-interface-list=LAN
/interface list member add comment=defconf interface=bridge list=LAN
/interface list member add comment=defconf interface=ether1 list=WAN
/ip address add address=192.0.2.1/24 comment=defconf interface=bridge network=192.0.2.0
/ip dhcp-client add comment=defconf interface=ether1
/ip dns set allow-remote-requests=yes
/ip firewall filter add action=accept chain=input comment="defconf: accept established,related,untracked" connection-state=established,related,untracked
/ip firewall filter add action=drop chain=input comment="defconf: drop invalid" connection-state=invalid
/ip firewall filter add action=accept chain=input comment="defconf: accept ICMP" protocol=icmp
/ip firewall filter add action=accept chain=input comment="defconf: accept to local loopback (for CAPsMAN)" dst-address=127.0.0.1
/ip firewall filter add action=drop chain=input comment="defconf: drop all not coming from LAN" in-interface-list=!LAN
/ip firewall nat add action=masquerade chain=srcnat comment="defconf: masquerade" ipsec-policy=out,none out-interface-list=WAN
/tool mac-server set allowed-interface-list=LAN
/tool mac-server mac-winbox set allowed-interface-list=LAN
"""  # noqa: E501
DEFCONF_SERVICES = """\
Flags: X - disabled, I - invalid
 0    name="telnet" port=23 address="" vrf=main max-sessions=20
 1    name="ftp" port=21 address="" vrf=main max-sessions=20
 2    name="www" port=80 address="" vrf=main max-sessions=20
 3    name="ssh" port=22 address="" vrf=main max-sessions=20
 4 X  name="www-ssl" port=443 address="" vrf=main certificate=none tls-version=any
      max-sessions=20
 5    name="api" port=8728 address="" vrf=main max-sessions=20
 6    name="winbox" port=8291 address="" vrf=main max-sessions=20
 7 X  name="api-ssl" port=8729 address="" vrf=main certificate=none tls-version=any
      max-sessions=20
"""
DEFCONF_USERS = """\
Flags: X - disabled
 0   ;;; system default user
     name="admin" group=full address="" last-logged-in=2024-05-02 10:11:12
"""
DEFCONF_OUTPUTS = {"config": DEFCONF, "services": DEFCONF_SERVICES, "users": DEFCONF_USERS}


def test_the_factory_default_firewall_holds_but_the_defaults_fail_the_rest() -> None:
    findings = audit(DEFCONF_OUTPUTS)
    assert failing(DEFCONF_OUTPUTS) == {"FW-07", "ID-10", "LOG-05", "LOG-06"}
    assert findings["FW-07"].evidence == "telnet (23), ftp (21), www (80) enabled in /ip service"
    # Every service is open to any address, and the default drop of "not from LAN" stops them.
    assert "winbox (8291) dropped from WAN by rule 4 'defconf: drop all not coming from LAN'" in (
        findings["FW-06"].evidence)
    assert findings["ID-11"].evidence == "SNMP is disabled"
    assert findings["LOG-06"].evidence == "no NTP client configured"


def test_without_the_final_drop_the_factory_services_are_open_from_wan() -> None:
    config = DEFCONF.replace(" comment=\"defconf: drop all not coming from LAN\"",
                             " comment=\"defconf: drop all not coming from LAN\" disabled=yes")
    findings = audit({**DEFCONF_OUTPUTS, "config": config})
    assert {"FW-06", "FW-08", "FW-09"} <= failing({**DEFCONF_OUTPUTS, "config": config})
    assert ("telnet (23) enabled for any address and no input rule drops it from WAN"
            in findings["FW-06"].evidence)
    assert "udp 53" in findings["FW-09"].evidence and "tcp 53" in findings["FW-09"].evidence


# --- the input chain evaluator ---------------------------------------------------------------

BASE = """\
/interface list add name=WAN
/interface list add name=LAN
/interface list member add interface=ether1 list=WAN
/interface list member add interface=bridge list=LAN
/ip address add address=203.0.113.2/29 interface=ether1 network=203.0.113.0
/ip address add address=192.0.2.1/24 interface=bridge network=192.0.2.0
"""


def firewall(*rules: str, extra: str = "") -> Firewall:
    """A firewall of BASE plus ``rules`` (each the words after ``/ip firewall filter add``)."""
    lines = [f"/ip firewall filter add {rule}" for rule in rules]
    return parse_firewall(BASE + extra + "\n".join(lines) + "\n")


def accepts(fw: Firewall, port: int | None, protocol: str | None = "tcp",
            interface: str | None = "ether1") -> bool:
    return fw.verdict(Probe(interface, protocol, port)).action == "accept"


def test_an_empty_input_chain_accepts_everything() -> None:
    assert accepts(firewall(), 8291)


def test_a_negated_interface_list_drops_wan_and_not_lan() -> None:
    fw = firewall("action=drop chain=input in-interface-list=!LAN")
    assert not accepts(fw, 22)
    assert accepts(fw, 22, interface="bridge")
    # An interface the configuration does not name is in no list, so not in LAN either.
    assert not accepts(fw, 22, interface=None)


def test_port_lists_and_ranges() -> None:
    fw = firewall("action=accept chain=input dst-port=22,8000-8999 protocol=tcp",
                  "action=drop chain=input in-interface-list=WAN")
    assert accepts(fw, 8291) and accepts(fw, 22)
    assert not accepts(fw, 443) and not accepts(fw, 9000)
    assert not accepts(fw, 8291, protocol="udp")


def test_disabled_rules_are_ignored() -> None:
    fw = firewall("action=accept chain=input disabled=yes dst-port=8291 protocol=tcp",
                  "action=drop chain=input in-interface=ether1")
    assert not accepts(fw, 8291)
    fw = firewall("action=drop chain=input disabled=yes in-interface=ether1")
    assert accepts(fw, 8291)


def test_established_related_accepts_do_not_open_new_connections() -> None:
    fw = firewall("action=accept chain=input connection-state=established,related,untracked",
                  "action=drop chain=input in-interface-list=WAN")
    assert not accepts(fw, 8291)
    fw = firewall("action=accept chain=input connection-state=!established,related",
                  "action=drop chain=input in-interface-list=WAN")
    assert accepts(fw, 8291)


def test_sources_an_internet_address_is_not_in() -> None:
    office = "/ip firewall address-list add address=198.51.100.0/24 list=office-mgmt\n"
    everyone = "/ip firewall address-list add address=0.0.0.0/0 list=everyone\n"
    drop = "action=drop chain=input in-interface-list=WAN"
    assert not accepts(firewall("action=accept chain=input src-address-list=office-mgmt", drop,
                                extra=office), 22)
    assert accepts(firewall("action=accept chain=input src-address-list=everyone", drop,
                            extra=everyone), 22)
    assert not accepts(firewall("action=accept chain=input src-address=198.51.100.7", drop), 22)
    assert accepts(firewall("action=accept chain=input src-address=!192.0.2.0/24", drop), 22)


def test_destinations_other_than_the_wan_address_do_not_open_the_wan() -> None:
    drop = "action=drop chain=input in-interface-list=WAN"
    assert not accepts(firewall("action=accept chain=input dst-address=127.0.0.1", drop), 22)
    assert not accepts(firewall("action=accept chain=input dst-address=192.0.2.1", drop), 22)
    assert accepts(firewall("action=accept chain=input dst-address=203.0.113.2", drop), 22)
    assert accepts(firewall("action=accept chain=input dst-address-type=local", drop), 22)


def test_jumps_follow_the_target_chain_and_its_return() -> None:
    fw = firewall("action=jump chain=input in-interface-list=WAN jump-target=from-wan",
                  "action=drop chain=from-wan dst-port=8291 protocol=tcp",
                  "action=return chain=from-wan",
                  "action=accept chain=input")
    assert not accepts(fw, 8291)
    assert accepts(fw, 22)


def test_a_condition_the_evaluator_cannot_judge_counts_against_the_router() -> None:
    # limit= may or may not hold: an accept with it may let the connection in, a drop with it
    # may not stop it.
    fw = firewall("action=accept chain=input dst-port=8291 limit=10,5:packet protocol=tcp",
                  "action=drop chain=input in-interface-list=WAN")
    assert accepts(fw, 8291)
    fw = firewall("action=drop chain=input in-interface-list=WAN limit=10,5:packet")
    assert accepts(fw, 8291)


def test_wan_from_the_inventory_overrides_the_interface_list() -> None:
    outputs = outputs_of("compliant")
    config = outputs["config"].replace(
        '/ip firewall filter add action=drop chain=input comment="defconf: drop all not coming '
        'from LAN" in-interface-list=!LAN',
        '/ip firewall filter add action=drop chain=input comment="drop from the uplink" '
        'in-interface=ether1')
    changed = {**outputs, "config": config}
    assert "FW-08" not in failing(changed)
    pppoe = AuditContext(log_servers=CONTEXT.log_servers, min_firmware=CONTEXT.min_firmware,
                         wan_interfaces=("pppoe-out1",))
    assert "FW-08" in failing(changed, pppoe)


def test_without_a_wan_list_the_evidence_says_how_wan_was_judged() -> None:
    outputs = outputs_of("compliant")
    config = outputs["config"].replace(
        "/interface list member add comment=defconf interface=ether1 list=WAN\n", "")
    findings = audit({**outputs, "config": config})
    assert findings["FW-08"].status is Status.PASS
    assert "no interface list WAN" in findings["FW-08"].evidence


# --- other rule details ----------------------------------------------------------------------


def test_services_come_from_the_export_when_the_print_is_missing() -> None:
    outputs = {"config": outputs_of("compliant")["config"]}
    found = {s.name: s for s in services(outputs)}
    assert found["winbox"].addresses == ("192.0.2.0/24", "198.51.100.0/24")
    assert found["telnet"].disabled and not found["ssh"].disabled
    assert not {"FW-06", "FW-07"} & failing(outputs)


def test_a_disabled_admin_passes_and_a_missing_user_list_fails() -> None:
    outputs = outputs_of("breaks-ID-10")
    disabled = outputs["users"].replace(" 0   ;;; system default", " 0 X ;;; system default")
    assert RULES["ID-10"]({**outputs, "users": disabled}, CONTEXT).status is Status.PASS
    assert RULES["ID-10"]({"config": outputs["config"]}, CONTEXT).status is Status.FAIL


def test_snmp_disabled_default_community_or_v3_only() -> None:
    config = outputs_of("breaks-ID-11")["config"]
    off = config.replace("enabled=yes location=", "enabled=no location=")
    assert RULES["ID-11"]({"config": off}, CONTEXT).status is Status.PASS
    v3 = config + ("/snmp community set [ find default=yes ] disabled=yes\n"
                   "/snmp community add authentication-protocol=SHA1 encryption-protocol=AES "
                   "name=nms security=private\n")
    finding = RULES["ID-11"]({"config": v3}, CONTEXT)
    assert finding.status is Status.PASS
    assert "'nms' (v3 auth+priv, any address)" in finding.evidence


def test_log05_needs_a_known_log_server() -> None:
    outputs = outputs_of("compliant")
    finding = RULES["LOG-05"](outputs, AuditContext())
    assert finding.status is Status.FAIL
    assert "no district log server is known" in finding.evidence


@pytest.mark.parametrize("lines", [
    "/system ntp client set enabled=yes servers=198.51.100.1",  # 7.0 to 7.x before servers menu
    "/system ntp client set enabled=yes server-dns-names=ntp.example.org",
    "/system ntp client set enabled=yes mode=unicast primary-ntp=198.51.100.1",
])
def test_ntp_client_forms(lines: str) -> None:
    assert RULES["LOG-06"]({"config": lines + "\n"}, CONTEXT).status is Status.PASS


def test_firmware_version_from_the_export_header() -> None:
    assert firmware_version(outputs_of("compliant")) == "7.14.3"
    assert firmware_version(outputs_of("breaks-FW-10-v6")) == "6.49.10"
    assert firmware_version({"config": normalize_config(DEFCONF)}) == "7.14.3"
    assert firmware_version({"config": "/system identity set name=gw\n"}) is None
    finding = RULES["FW-10"]({"config": ""}, CONTEXT)
    assert finding.status is Status.FAIL


# --- parsing ---------------------------------------------------------------------------------


def test_export_lines_quoted_values_escapes_and_selectors() -> None:
    text = ('/interface ethernet set [ find default-name=ether1 ] comment="WAN \\"uplink\\"" '
            'name=wan1\n'
            '/ip firewall filter add action=accept chain=input comment="\\E0\\B8\\81 school"\n'
            '/ip service set telnet disabled=yes\n')
    ether, rule, telnet = parse_export(text)
    assert (ether.path, ether.verb, ether.target) == (
        "/interface ethernet", "set", "[ find default-name=ether1 ]")
    assert ether.args == {"comment": 'WAN "uplink"', "name": "wan1"}
    assert rule.args["comment"] == "\u0e01 school"
    assert (telnet.path, telnet.target, telnet.args) == ("/ip service", "telnet",
                                                         {"disabled": "yes"})


def test_the_wrapped_export_form_reads_like_terse() -> None:
    wrapped = ("/ip firewall filter\n"
               "add action=accept chain=input comment=\"defconf: accept ICMP\" \\\n"
               "    protocol=icmp\n"
               "/ip service\n"
               "set telnet disabled=yes\n")
    terse = ('/ip firewall filter add action=accept chain=input comment="defconf: accept ICMP" '
             "protocol=icmp\n/ip service set telnet disabled=yes\n")
    assert parse_export(wrapped) == parse_export(terse)


def test_print_detail_flags_comments_and_wrapped_lines() -> None:
    admin, www_ssl = parse_print(DEFCONF_USERS)[0], parse_print(DEFCONF_SERVICES)[4]
    assert admin.comment == "system default user"
    assert admin.props["last-logged-in"] == "2024-05-02 10:11:12"
    assert (www_ssl.flags, www_ssl.props["max-sessions"]) == ("X", "20")
    v6 = parse_print(outputs_of("breaks-FW-10-v6")["services"])
    assert [e.flags for e in v6] == ["X", "X", "X", "", "XI", "X", "", "X"]
    user = parse_print(outputs_of("breaks-FW-10-v6")["users"])[0]
    assert user.props["last-logged-in"] == "may/02/2024 09:58:41"


# --- backup history --------------------------------------------------------------------------

SENSITIVE = """\
# 2024-05-02 10:11:12 by RouterOS 7.14.3
# software id = 7KQN-Z3XW
/interface wireguard add listen-port=13231 mtu=1420 name=wg-office private-key="eB3v+Kk1b2example="
/interface wireguard peers add allowed-address=198.51.100.0/24 interface=wg-office preshared-key="aa bb" public-key="pub1="
/interface wireless security-profiles add authentication-types=wpa2-psk mode=dynamic-keys name=staff wpa2-pre-shared-key="Kru 2024!"
/ppp secret add name=teacher password=p4ss service=l2tp
/snmp community add authentication-password=authpass1 encryption-password=privpass1 name=nms security=private
/ip ipsec identity add peer=office secret="s3cr\\"et"
/user aaa set use-radius=no
/system identity set name="school1-gw" comment="password=not-a-key"
/ppp secret add name=guest password=""
"""  # noqa: E501


def test_normalize_drops_the_date_and_every_secret() -> None:
    normal = normalize_config(SENSITIVE)
    assert normal.splitlines()[0] == "# RouterOS 7.14.3"
    assert "10:11:12" not in normal
    for secret in ("eB3v", "aa bb", "Kru 2024", "p4ss", "authpass1", "privpass1", "s3cr"):
        assert secret not in normal
    assert 'public-key="pub1="' in normal
    assert 'comment="password=not-a-key"' in normal
    assert 'password=""' in normal  # a blank password is a finding to keep, not a secret
    assert normal.count('"<secret removed by dlict>"') == 7
    commands = parse_export(normal)
    assert commands[0].args["listen-port"] == "13231"


def test_normalize_is_idempotent() -> None:
    for text in (SENSITIVE, DEFCONF, outputs_of("breaks-FW-10-v6")["config"]):
        once = normalize_config(text)
        assert normalize_config(once) == once


def test_exports_differing_only_in_volatile_lines_normalize_equal() -> None:
    later = SENSITIVE.replace("# 2024-05-02 10:11:12", "# 2024-05-03 02:00:07").replace(
        "\n", "  \r\n")
    assert later != SENSITIVE
    assert normalize_config(later) == normalize_config(SENSITIVE)
    v6 = outputs_of("breaks-FW-10-v6")["config"]
    assert normalize_config(v6.replace("may/02/2024 10:11:12", "jun/01/2024 00:00:01")) == (
        normalize_config(v6))
    changed = SENSITIVE.replace("name=teacher", "name=teacher2")
    assert normalize_config(changed) != normalize_config(SENSITIVE)
