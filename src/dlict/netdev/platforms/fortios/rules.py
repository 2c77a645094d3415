"""FortiOS device rules: pure parsers over ``show full-configuration``.

The configuration is a tree of ``config <path>`` blocks holding ``set`` settings and ``edit``
entries (each entry again settings and nested ``config`` blocks), closed by ``next``/``end``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from dlict.core.results import Status
from dlict.netdev.platforms.base import CONFIG, AuditContext, Finding, Outputs, RuleSet

# allowaccess values that are ways to manage the device.
MANAGEMENT = frozenset({"ssh", "telnet", "http", "https", "fgfm", "snmp"})
# Of those, the administrator logins that trusted hosts restrict (SNMP and FortiManager are not).
ADMIN_LOGINS = frozenset({"ssh", "telnet", "http", "https"})
# A trusted host wider than a /8 counts as "anyone on the internet".
SHORTEST_RESTRICTED_PREFIX = 8


# --- the configuration tree -------------------------------------------------------------------

@dataclass
class Node:
    """A ``config`` block or an ``edit`` entry: its settings, entries and nested blocks."""

    settings: dict[str, list[str]] = field(default_factory=dict)
    entries: dict[str, Node] = field(default_factory=dict)
    configs: dict[str, Node] = field(default_factory=dict)

    def value(self, key: str, default: str = "") -> str:
        values = self.settings.get(key)
        return " ".join(values) if values else default

    def values(self, key: str) -> list[str]:
        return self.settings.get(key, [])


TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\n)|([^\s"]+)')


def logical_lines(text: str) -> Iterator[list[str]]:
    """The words of each command; a quoted value keeps its spaces and may span lines."""
    words: list[str] = []
    for match in TOKEN.finditer(text):
        quoted, newline, word = match.groups()
        if newline is not None:
            if words and not words[0].startswith("#"):
                yield words
            words = []
        elif quoted is not None:
            words.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            words.append(word)
    if words and not words[0].startswith("#"):
        yield words


def parse(text: str) -> Node:
    root = Node()
    stack = [root]
    for head, *rest in logical_lines(text):
        if head == "config" and rest:
            stack.append(stack[-1].configs.setdefault(" ".join(rest), Node()))
        elif head == "edit" and rest:
            stack.append(stack[-1].entries.setdefault(rest[0], Node()))
        elif head in ("next", "end") and len(stack) > 1:
            stack.pop()
        elif head == "set" and rest:
            stack[-1].settings[rest[0]] = rest[1:]
    return root


def blocks(node: Node, path: str) -> Iterator[Node]:
    """Every ``config <path>`` block, at the top or inside ``config global``/``config vdom``."""
    for name, child in node.configs.items():
        if name == path:
            yield child
        else:
            yield from blocks(child, path)
    for entry in node.entries.values():
        yield from blocks(entry, path)


def entries(node: Node, path: str) -> dict[str, Node]:
    return {name: e for block in blocks(node, path) for name, e in block.entries.items()}


def _config(outputs: Outputs) -> Node:
    return parse(outputs.get(CONFIG, ""))


# --- what the rules share ---------------------------------------------------------------------

def wan_interfaces(cfg: Node, context: AuditContext) -> list[str]:
    """The interfaces the inventory names as WAN, else those of role wan."""
    if context.wan_interfaces:
        return list(context.wan_interfaces)
    return [name for name, iface in entries(cfg, "system interface").items()
            if iface.value("role") == "wan"]


def wan_sources(cfg: Node, wan: Sequence[str]) -> set[str]:
    """Names a policy can use for traffic from the WAN: the interfaces, the zones and SD-WAN
    zones holding one, and "any"."""
    names = {*wan, "any"}
    for name, zone in entries(cfg, "system zone").items():
        if set(zone.values("interface")) & names:
            names.add(name)
    for sdwan in blocks(cfg, "system sdwan"):
        for member in sdwan.configs.get("members", Node()).entries.values():
            if member.value("interface") in wan:
                names.add(member.value("zone", "virtual-wan-link"))
    return names


def _restricted_trusthost(admin: Node) -> bool:
    """Does the administrator have trusted hosts, all of them narrower than the internet?
    Unused slots read 0.0.0.0 0.0.0.0 and do not count."""
    try:
        networks = [ipaddress.IPv4Network("/".join(admin.values(f"trusthost{i}")), strict=False)
                    for i in range(1, 11) if admin.values(f"trusthost{i}")]
    except ValueError:
        return False
    used = [n for n in networks if n.prefixlen > 0]
    return bool(used) and all(n.prefixlen >= SHORTEST_RESTRICTED_PREFIX for n in used)


def _finding(control: str, problems: Sequence[str], seen: str) -> Finding:
    if problems:
        return Finding(control, Status.FAIL, "; ".join(problems))
    return Finding(control, Status.PASS, seen)


def _no_wan(control: str) -> Finding:
    return Finding(control, Status.FAIL, "no WAN interface: none has role wan and the inventory "
                                         "names none")


# --- rules ------------------------------------------------------------------------------------

def management_from_wan(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    wan = wan_interfaces(cfg, context)
    if not wan:
        return _no_wan("FW-06")
    admins = entries(cfg, "system admin")
    # FortiOS answers administrative access only from trusted hosts when every administrator
    # has them; one administrator without them opens the login pages to every address.
    all_trusted = bool(admins) and all(_restricted_trusthost(a) for a in admins.values())
    interfaces = entries(cfg, "system interface")
    problems = []
    for name in wan:
        access = MANAGEMENT & set(interfaces.get(name, Node()).values("allowaccess"))
        open_ = access - ADMIN_LOGINS if all_trusted else access
        if open_:
            why = (" and not every administrator is limited to trusted hosts"
                   if open_ & ADMIN_LOGINS else "")
            problems.append(f"WAN interface {name} allows {' '.join(sorted(open_))}{why}")
    trusted = "; every administrator is limited to trusted hosts" if all_trusted else ""
    return _finding("FW-06", problems,
                    f"no management on WAN interface {', '.join(wan)}{trusted}")


def clear_text_management(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    telnet_off = any(g.value("admin-telnet") == "disable" for g in blocks(cfg, "system global"))
    clear = {"http"} if telnet_off else {"http", "telnet"}
    problems = []
    for name, iface in entries(cfg, "system interface").items():
        found = clear & set(iface.values("allowaccess"))
        if found:
            problems.append(f"interface {name} allows {' and '.join(sorted(found))}")
    return _finding("FW-07", problems, "no interface allows telnet or plain http")


def _accepts_all(policy: Node, interface_key: str, sources: set[str]) -> bool:
    return (policy.value("status") != "disable" and policy.value("action") == "accept"
            and bool(set(policy.values(interface_key)) & sources)
            and "all" in policy.values("srcaddr") and "all" in policy.values("dstaddr")
            and "ALL" in policy.values("service"))


def input_ends_in_drop(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    wan = wan_interfaces(cfg, context)
    if not wan:
        return _no_wan("FW-08")
    sources = wan_sources(cfg, wan)
    problems = [f"firewall policy {pid} ({p.value('name', 'unnamed')}) accepts all from "
                f"{' '.join(p.values('srcintf'))} to all"
                for pid, p in entries(cfg, "firewall policy").items()
                if _accepts_all(p, "srcintf", sources)]
    problems += [f"local-in policy {pid} accepts all on {' '.join(p.values('intf'))}"
                 for pid, p in entries(cfg, "firewall local-in-policy").items()
                 if _accepts_all(p, "intf", sources)]
    return _finding("FW-08", problems, "no policy accepts all from the WAN; the implicit deny "
                                       "stays")


def dns_not_open(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    served = list(entries(cfg, "system dns-server"))
    if not served:
        return Finding("FW-09", Status.PASS, "no interface serves DNS")
    wan = wan_interfaces(cfg, context)
    if not wan:
        return _no_wan("FW-09")
    sources = wan_sources(cfg, wan)
    problems = [f"DNS service on WAN interface {name}" for name in served if name in sources]
    return _finding("FW-09", problems, f"DNS service only on {', '.join(served)}")


def firmware_version(outputs: Outputs) -> str | None:
    """The version in the header: "#config-version=FGT60F-7.2.8-FW-build1639-..." → 7.2.8."""
    match = re.search(r"^#config-version=\S*?-(\d+(?:\.\d+)+)-", outputs.get(CONFIG, ""),
                      re.MULTILINE)
    return match.group(1) if match else None



def no_blank_passwords(outputs: Outputs, context: AuditContext) -> Finding:
    admins = entries(_config(outputs), "system admin")
    if not admins:
        return Finding("ID-10", Status.FAIL, "no config system admin in the configuration")
    # Administrators authenticated by RADIUS/LDAP or a certificate have no local password.
    blank = [name for name, a in admins.items()
             if not a.values("password") and a.value("remote-auth") != "enable"
             and a.value("peer-auth") != "enable"]
    if blank:
        return Finding("ID-10", Status.FAIL,
                       f"administrator {', '.join(blank)} has no password")
    kept = "; the default name admin is kept" if "admin" in admins else ""
    return Finding("ID-10", Status.PASS,
                   f"every administrator ({', '.join(admins)}) has a password{kept}")


def snmp_communities(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    enabled = [c.value("name") for c in entries(cfg, "system snmp community").values()
               if c.value("status") != "disable"]
    defaults = sorted({n for n in enabled if n.lower() in ("public", "private", "")})
    others = len(enabled) - sum(1 for n in enabled if n.lower() in ("public", "private", ""))
    v3 = any(u.value("security-level") == "auth-priv" and u.value("status") != "disable"
             for u in entries(cfg, "system snmp user").values())
    notes = [f"{others} other v1/v2c communit{'y' if others == 1 else 'ies'} enabled"
             if others else "no other v1/v2c community",
             "an SNMPv3 user with auth-priv is configured" if v3 else "no SNMPv3 user with priv"]
    if defaults:
        named = " and ".join(f'"{n}"' for n in defaults)
        return Finding("ID-11", Status.FAIL, "; ".join([f"community {named} is enabled", *notes]))
    return Finding("ID-11", Status.PASS, "; ".join(["no public or private community", *notes]))


def remote_syslog(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    seen = []
    for name in ("syslogd", "syslogd2", "syslogd3", "syslogd4"):
        for setting in blocks(cfg, f"log {name} setting"):
            server, status = setting.value("server"), setting.value("status", "disable")
            if status == "enable" and server in context.log_servers:
                return Finding("LOG-05", Status.PASS, f"log {name} sends to {server}")
            if server:
                state = "sends to" if status == "enable" else "is disabled, server"
                seen.append(f"log {name} {state} {server}")
    return Finding("LOG-05", Status.FAIL, f"{'; '.join(seen) or 'no syslog server'}; the district "
                                          f"log servers are "
                                          f"{', '.join(context.log_servers) or 'not set'}")


def ntp_configured(outputs: Outputs, context: AuditContext) -> Finding:
    ntp = next(blocks(_config(outputs), "system ntp"), None)
    if ntp is None:
        return Finding("LOG-06", Status.FAIL, "no config system ntp")
    if ntp.value("ntpsync") != "enable":
        return Finding("LOG-06", Status.FAIL, "config system ntp has ntpsync disable")
    if ntp.value("type", "fortiguard") == "fortiguard":
        return Finding("LOG-06", Status.PASS, "NTP sync with FortiGuard")
    servers = [s.value("server") for s in ntp.configs.get("ntpserver", Node()).entries.values()]
    if any(servers):
        return Finding("LOG-06", Status.PASS, f"NTP sync with {', '.join(filter(None, servers))}")
    return Finding("LOG-06", Status.FAIL, "NTP type custom with no ntpserver")


RULES = RuleSet(
    management_from_wan=management_from_wan,
    clear_text_management=clear_text_management,
    input_ends_in_drop=input_ends_in_drop,
    dns_not_open=dns_not_open,
    no_blank_passwords=no_blank_passwords,
    snmp_communities=snmp_communities,
    remote_syslog=remote_syslog,
    ntp_configured=ntp_configured,
)
