"""MikroTik RouterOS (v6.4x and v7) device rules: pure functions over the outputs of the
RouterOS platform's commands.

An export leaves out whatever is at its default, so each rule starts from RouterOS's defaults
(the ``public`` SNMP community, the four logging actions, services on) and applies the export's
commands; the services and users come from their ``print detail`` outputs.
"""

from __future__ import annotations

from collections.abc import Mapping

from dlict.core.results import Status
from dlict.netdev.platforms.base import CONFIG, AuditContext, Finding, Outputs, RuleSet
from dlict.netdev.platforms.routeros.firewall import Match, parse_firewall, reachable, wan_of
from dlict.netdev.platforms.routeros.lexer import HEADER, NORMALIZED_HEADER
from dlict.netdev.platforms.routeros.parsers import (
    ANY_ADDRESS,
    UNSET_ADDRESSES,
    export_commands,
    menu_items,
    menu_settings,
    services,
    split_list,
    user_entries,
)


def firmware_version(outputs: Outputs) -> str | None:
    """The RouterOS version in the export header (``# 2024-05-02 10:11:12 by RouterOS 7.14.3``,
    ``# may/02/2024 ... by RouterOS 6.49.10``, or normalize_config's ``# RouterOS 7.14.3``)."""
    for line in outputs.get(CONFIG, "").splitlines():
        match = HEADER.match(line) or NORMALIZED_HEADER.match(line)
        if match:
            return match.group("version")
    return None


def _finding(control: str, passed: bool, evidence: str) -> Finding:
    return Finding(control, Status.PASS if passed else Status.FAIL, evidence)


def _fw06(outputs: Outputs, context: AuditContext) -> Finding:
    firewall = parse_firewall(outputs.get(CONFIG, ""))
    wan = wan_of(firewall, context)
    exposed: list[str] = []
    safe: list[str] = []
    for service in services(outputs):
        if not service.running:
            continue
        if service.limited:
            safe.append(f"{service.label} limited to {','.join(service.addresses)}")
            continue
        outcome = reachable(firewall, wan, "tcp", service.port)
        if outcome.action == "accept":
            how = (f"the input chain accepts it from WAN ({outcome.because()})" if outcome.rule
                   else "no input rule drops it from WAN")
            exposed.append(f"{service.label} enabled for any address and {how}")
        else:
            safe.append(f"{service.label} dropped from WAN by {outcome.because()}")
    if exposed:
        return _finding("FW-06", False, "; ".join(exposed) + wan.note)
    if not safe:
        return _finding("FW-06", True, "every /ip service is disabled")
    return _finding("FW-06", True, "no management service reachable from WAN: "
                    + "; ".join(safe) + wan.note)


_CLEARTEXT = ("telnet", "ftp", "www")


def _fw07(outputs: Outputs, context: AuditContext) -> Finding:
    enabled = [s.label for s in services(outputs) if s.name in _CLEARTEXT and not s.disabled]
    if enabled:
        return _finding("FW-07", False, f"{', '.join(enabled)} enabled in /ip service")
    return _finding("FW-07", True, "telnet, ftp and www are disabled in /ip service")


def _fw08(outputs: Outputs, context: AuditContext) -> Finding:
    firewall = parse_firewall(outputs.get(CONFIG, ""))
    wan = wan_of(firewall, context)
    rules = firewall.chain("input")
    if not rules:
        return _finding("FW-08", False,
                        "the input chain has no rules, so the router accepts all traffic to itself")
    last = rules[-1]
    catches_all = all(firewall.match(last, probe) is Match.YES for probe in wan.probes())
    if last.action in ("drop", "reject") and catches_all:
        return _finding("FW-08", True, f"the input chain ends with {last.describe()}" + wan.note)
    if last.action in ("drop", "reject"):
        narrowing = sorted({c for p in wan.probes() for c in firewall.narrowing(last, p)})
        problem = (f"the input chain's last rule, {last.describe()}, drops only the traffic "
                   f"from WAN with {' '.join(narrowing)}")
    else:
        problem = (f"the input chain's last enabled rule is {last.describe()} ({last.action}), "
                   "not a drop")
    switched_off = [r for r in firewall.disabled if r.chain == "input" and r.number > last.number
                    and r.action in ("drop", "reject")]
    if switched_off:
        problem += f"; {switched_off[-1].describe()} is disabled"
    return _finding("FW-08", False, problem + wan.note)


def _fw09(outputs: Outputs, context: AuditContext) -> Finding:
    config = outputs.get(CONFIG, "")
    if menu_settings(export_commands(config), "/ip dns").get("allow-remote-requests") != "yes":
        return _finding("FW-09", True, "/ip dns allow-remote-requests is off")
    firewall = parse_firewall(config)
    wan = wan_of(firewall, context)
    verdicts = {p: reachable(firewall, wan, p, 53) for p in ("udp", "tcp")}
    open_ = [f"{p} 53 from WAN ({v.because()})" for p, v in verdicts.items()
             if v.action == "accept"]
    if open_:
        return _finding("FW-09", False, "allow-remote-requests=yes and the input chain accepts "
                        + " and ".join(open_) + wan.note)
    dropped = "; ".join(f"{p} by {v.because()}" for p, v in verdicts.items())
    return _finding("FW-09", True, "allow-remote-requests=yes but the input chain drops DNS from "
                    f"WAN: {dropped}" + wan.note)


def _id10(outputs: Outputs, context: AuditContext) -> Finding:
    users = user_entries(outputs)
    if not users:
        return _finding("ID-10", False, "the user list (/user print detail) was not read")
    admins = [u for u in users if u.props["name"] == "admin"]
    names = ", ".join(u.props["name"] for u in users)
    if any("X" not in u.flags for u in admins):
        comment = next((f" ({u.comment})" for u in admins if u.comment), "")
        return _finding("ID-10", False, f"user admin{comment} exists and is enabled; RouterOS does "
                        "not show passwords, so the default account name must go")
    if admins:
        return _finding("ID-10", True, f"user admin exists but is disabled; users: {names}")
    return _finding("ID-10", True, f"no user named admin; users: {names}")


_DEFAULT_COMMUNITY = {"name": "public", "default": "yes", "addresses": "0.0.0.0/0",
                      "security": "none", "write-access": "no"}
_WEAK_COMMUNITIES = frozenset({"public", "private", ""})


def _describe_community(item: Mapping[str, str]) -> str:
    security = item.get("security", "none")
    kind = {"none": "v1/v2c", "authorized": "v3 auth", "private": "v3 auth+priv"}.get(security,
                                                                                      security)
    addresses = item.get("addresses", "")
    anyone = not addresses or ANY_ADDRESS.intersection(split_list(addresses))
    where = "any address" if anyone else addresses
    access = ", write" if item.get("write-access") == "yes" else ""
    return f"{item.get('name', '')!r} ({kind}, {where}{access})"


def _id11(outputs: Outputs, context: AuditContext) -> Finding:
    commands = export_commands(outputs.get(CONFIG, ""))
    if menu_settings(commands, "/snmp").get("enabled") != "yes":
        return _finding("ID-11", True, "SNMP is disabled")
    communities = menu_items(commands, "/snmp community", [_DEFAULT_COMMUNITY])
    weak = [c for c in communities if c.get("name", "") in _WEAK_COMMUNITIES]
    listed = "; ".join(_describe_community(c) for c in communities) or "none"
    if weak:
        return _finding("ID-11", False, "SNMP enabled with community "
                        + "; ".join(_describe_community(c) for c in weak))
    return _finding("ID-11", True, f"SNMP enabled; communities: {listed}")


_DEFAULT_ACTIONS = [{"name": "memory", "target": "memory", "default": "yes"},
                    {"name": "disk", "target": "disk", "default": "yes"},
                    {"name": "echo", "target": "echo", "default": "yes"},
                    {"name": "remote", "target": "remote", "default": "yes"}]
_DEFAULT_LOGGING = [{"topics": "info", "action": "memory", "default": "yes"},
                    {"topics": "error", "action": "memory", "default": "yes"},
                    {"topics": "warning", "action": "memory", "default": "yes"},
                    {"topics": "critical", "action": "echo", "default": "yes"}]


def _log05(outputs: Outputs, context: AuditContext) -> Finding:
    commands = export_commands(outputs.get(CONFIG, ""))
    remotes = [a for a in menu_items(commands, "/system logging action", _DEFAULT_ACTIONS)
               if a.get("target") == "remote" and a.get("remote", "") not in UNSET_ADDRESSES]
    topics: dict[str, list[str]] = {}
    for item in menu_items(commands, "/system logging", _DEFAULT_LOGGING):
        topics.setdefault(item.get("action", ""), []).append(item.get("topics", ""))
    servers = set(context.log_servers)
    used = [a for a in remotes if a.get("name") in topics]
    good = [a for a in used if a.get("remote") in servers]
    if good:
        action = good[0]
        return _finding("LOG-05", True, f"logging action {action.get('name')!r} sends "
                        f"{','.join(topics[action.get('name', '')])} to {action.get('remote')}")
    if not remotes:
        return _finding("LOG-05", False, "no remote logging action: the logs stay on the device")
    if not servers:
        return _finding("LOG-05", False, "remote logging to "
                        f"{', '.join(a.get('remote', '') for a in remotes)}, but no district log "
                        "server is known (inventory log_servers)")
    unused = [a for a in remotes if a.get("remote") in servers and a not in used]
    if unused:
        return _finding("LOG-05", False, f"remote action {unused[0].get('name')!r} points at "
                        f"{unused[0].get('remote')} but no /system logging rule uses it")
    elsewhere = ", ".join(f"{a.get('remote')} (action {a.get('name')!r})" for a in remotes)
    return _finding("LOG-05", False, f"remote logging goes to {elsewhere}, not to a district log "
                    f"server ({', '.join(context.log_servers)})")


def _log06(outputs: Outputs, context: AuditContext) -> Finding:
    commands = export_commands(outputs.get(CONFIG, ""))
    client = menu_settings(commands, "/system ntp client")
    found = [*split_list(client.get("servers")), *split_list(client.get("server-dns-names")),
             *(client.get(k, "") for k in ("primary-ntp", "secondary-ntp")),
             *(item.get("address", "")
               for item in menu_items(commands, "/system ntp client servers"))]
    servers = [s for s in found if s not in UNSET_ADDRESSES]
    enabled = client.get("enabled") == "yes"
    if enabled and servers:
        return _finding("LOG-06", True, f"NTP client enabled with {', '.join(servers)}")
    if enabled:
        return _finding("LOG-06", False, "NTP client enabled but no server is set")
    if servers:
        return _finding("LOG-06", False, f"NTP client is disabled (servers {', '.join(servers)} "
                        "set but not used)")
    return _finding("LOG-06", False, "no NTP client configured")


RULES = RuleSet(
    management_from_wan=_fw06,
    clear_text_management=_fw07,
    input_ends_in_drop=_fw08,
    dns_not_open=_fw09,
    no_blank_passwords=_id10,
    snmp_communities=_id11,
    remote_syslog=_log05,
    ntp_configured=_log06,
)
