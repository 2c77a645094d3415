"""Cisco IOS device rules: pure parsers over ``show running-config`` and ``show version``.

A service counts as reachable from the WAN when the internet at large can open it: a source
restricted to a network of /8 or narrower (an office network, a host) is not "the WAN". An
access class restricts a service; so does the inbound ACL of every WAN interface when it drops
the service's port from every source before any permit from a wide source lets it in.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dlict.core.results import Status
from dlict.netdev.platforms.base import CONFIG, AuditContext, Finding, Outputs, RuleSet

VERSION = "version"

ANY = 0xFFFFFFFF
# Sources wider than a /8 (more than 24 wildcard bits) count as "anyone on the internet".
WIDEST_RESTRICTED_BITS = 24
# The names IOS prints instead of port numbers in access lists (TCP and UDP share numbers).
PORT_NAMES = {
    "bgp": 179, "bootpc": 68, "bootps": 67, "chargen": 19, "cmd": 514, "daytime": 13,
    "discard": 9, "domain": 53, "echo": 7, "exec": 512, "finger": 79, "ftp": 21, "ftp-data": 20,
    "gopher": 70, "hostname": 101, "ident": 113, "irc": 194, "isakmp": 500, "klogin": 543,
    "kshell": 544, "login": 513, "lpd": 515, "netbios-dgm": 138, "netbios-ns": 137,
    "netbios-ss": 139, "nntp": 119, "non500-isakmp": 4500, "ntp": 123, "pop2": 109,
    "pop3": 110, "rip": 520, "smtp": 25, "snmp": 161, "snmptrap": 162, "sunrpc": 111,
    "syslog": 514, "tacacs": 49, "talk": 517, "telnet": 23, "tftp": 69, "time": 37,
    "uucp": 540, "who": 513, "whois": 43, "www": 80,
}
PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17"}


# --- indented configuration -------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    """A top-level configuration line and the lines indented under it (stripped)."""

    line: str
    children: tuple[str, ...] = ()

    def child_words(self, prefix: str) -> list[list[str]]:
        """Words of each child line that starts with ``prefix`` (whole words)."""
        return [c.split() for c in self.children if _starts(c, prefix)]


def _starts(line: str, prefix: str) -> bool:
    return line == prefix or line.startswith(prefix + " ")


def sections(text: str) -> list[Section]:
    """Split an indented configuration (IOS style) into top-level sections.

    ``!`` comments and blank lines are dropped; a banner's text is skipped, since its lines
    start at column 0 but are not commands.
    """
    result: list[Section] = []
    banner_end: str | None = None
    for raw in text.splitlines():
        if banner_end is not None:
            if banner_end in raw:
                banner_end = None
            continue
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("!"):
            continue
        if line[0].isspace():
            if result:
                last = result[-1]
                result[-1] = Section(last.line, (*last.children, line.strip()))
            continue
        result.append(Section(line))
        banner_end = _open_banner(line)
    return result


def _open_banner(line: str) -> str | None:
    """The delimiter that ends a banner opened on ``line`` and not closed there, else None."""
    match = re.match(r"banner \S+ (\^C|\S)(.*)", line)
    if not match or match.group(1) in match.group(2):
        return None
    return match.group(1)


# --- access lists -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Address:
    """An address with an IOS wildcard mask (the bits that may differ)."""

    base: int
    wildcard: int

    @property
    def width(self) -> int:
        return bin(self.wildcard).count("1")

    def contains(self, address: int) -> bool:
        return (address | self.wildcard) == (self.base | self.wildcard)


@dataclass(frozen=True)
class Ports:
    op: str
    values: tuple[int, ...]

    def covers(self, port: int) -> bool:
        if self.op == "eq":
            return port in self.values
        if self.op == "neq":
            return port not in self.values
        if self.op == "lt":
            return port < self.values[0]
        if self.op == "gt":
            return port > self.values[0]
        return self.values[0] <= port <= self.values[-1]  # range


@dataclass(frozen=True)
class AclEntry:
    """One permit or deny entry; an address of None is an object group dlict does not resolve."""

    action: str
    protocol: str
    source: Address | None
    destination: Address | None
    dst_ports: Ports | None
    established: bool
    text: str

    def matches_new(self, protocol: str, port: int) -> bool:
        """Could this entry match the first packet of a connection to ``protocol``/``port``?"""
        if self.established or self.protocol not in ("ip", protocol, PROTOCOL_NUMBERS[protocol]):
            return False
        return self.dst_ports is None or self.dst_ports.covers(port)


def _wide(address: Address | None) -> bool:
    return address is None or address.width > WIDEST_RESTRICTED_BITS


def _everything(address: Address | None) -> bool:
    return address is not None and address.wildcard == ANY


def _ip(word: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(word))
    except ValueError:
        return None


def _address(words: Sequence[str], i: int) -> tuple[Address | None, int]:
    word = words[i] if i < len(words) else "any"
    following = words[i + 1] if i + 1 < len(words) else ""
    if word == "any":
        return Address(0, ANY), i + 1
    if word == "host":
        return Address(_ip(following) or 0, 0), i + 2
    if word in ("object-group", "addrgroup"):
        return None, i + 2
    wildcard = _ip(following)
    if wildcard is None:  # standard entries print a host as the bare address
        return Address(_ip(word) or 0, 0), i + 1
    return Address(_ip(word) or 0, wildcard), i + 2


def _port(word: str) -> int:
    """A port number or IOS port name; -1 (matching no port) for anything else."""
    return int(word) if word.isdigit() else PORT_NAMES.get(word, -1)


def _ports(words: Sequence[str], i: int) -> tuple[Ports | None, int]:
    op = words[i] if i < len(words) else ""
    if op not in ("eq", "neq", "lt", "gt", "range"):
        return None, i
    count = 2 if op == "range" else 1
    values = [_port(w) for w in words[i + 1:i + 1 + count]]
    i += 1 + count
    while op in ("eq", "neq") and i < len(words) and _port(words[i]) >= 0:  # IOS XE: eq 22 23
        values.append(_port(words[i]))
        i += 1
    return Ports(op, tuple(values)), i


def parse_entry(text: str, standard: bool) -> AclEntry | None:
    """One ACL entry (its sequence number, if any, already removed), or None for a remark."""
    words = text.split()
    if not words or words[0] not in ("permit", "deny"):
        return None
    text = " ".join(words)
    if standard:
        source, _ = _address(words, 1)
        return AclEntry(words[0], "ip", source, Address(0, ANY), None, False, text)
    protocol = words[1]
    source, i = _address(words, 2)
    has_ports = protocol in ("tcp", "udp", "6", "17")
    if has_ports:
        _, i = _ports(words, i)
    destination, i = _address(words, i)
    dst_ports = None
    if has_ports:
        dst_ports, i = _ports(words, i)
    return AclEntry(words[0], protocol, source, destination, dst_ports,
                    "established" in words[i:], text)


def _numbered_standard(number: str) -> bool:
    n = int(number)
    return 1 <= n <= 99 or 1300 <= n <= 1999


def access_lists(config: Sequence[Section]) -> dict[str, list[AclEntry]]:
    """Every IPv4 access list by name or number, named and numbered, entries in order."""
    acls: dict[str, list[AclEntry]] = {}
    for section in config:
        named = re.match(r"ip access-list (standard|extended) (\S+)$", section.line)
        numbered = re.match(r"access-list (\d+) (.*)", section.line)
        if named:
            entries = acls.setdefault(named.group(2), [])
            for child in section.children:
                text = re.sub(r"^\d+ ", "", child)
                if entry := parse_entry(text, named.group(1) == "standard"):
                    entries.append(entry)
        elif numbered:
            entries = acls.setdefault(numbered.group(1), [])
            if entry := parse_entry(numbered.group(2), _numbered_standard(numbered.group(1))):
                entries.append(entry)
    return acls


def exposing_entry(entries: Sequence[AclEntry] | None, protocol: str, port: int) -> str | None:
    """The entry that lets the internet at large open ``protocol``/``port``, or None if the
    list drops it from every source first (or at its implicit end)."""
    if entries is None:
        return "no inbound access list"
    for entry in entries:
        if not entry.matches_new(protocol, port):
            continue
        if entry.action == "permit" and _wide(entry.source):
            return entry.text
        if (entry.action == "deny" and _everything(entry.source)
                and _everything(entry.destination)):
            return None
    return None


def restricted(entries: Sequence[AclEntry] | None) -> bool:
    """Does an access class let in only narrow sources? An undefined one lets in everyone."""
    permits = [e for e in entries or () if e.action == "permit"]
    return bool(permits) and not any(_wide(e.source) for e in permits)


# --- the configuration as the rules read it ---------------------------------------------------

@dataclass(frozen=True)
class WanInterface:
    name: str
    acl_name: str | None
    acl: list[AclEntry] | None  # None: no inbound ACL, or one that is not defined
    addresses: tuple[int, ...]


class IosConfig:
    def __init__(self, text: str) -> None:
        self.sections = sections(text)
        self.lines = [s.line for s in self.sections]
        self.acls = access_lists(self.sections)

    def top(self, prefix: str) -> list[list[str]]:
        """Words of each top-level line that starts with ``prefix``."""
        return [line.split() for line in self.lines if _starts(line, prefix)]

    def has(self, line: str) -> bool:
        return line in self.lines

    def under(self, prefix: str) -> list[Section]:
        return [s for s in self.sections if _starts(s.line, prefix)]

    def wan(self, context: AuditContext) -> list[WanInterface]:
        """The interfaces the inventory names as WAN, else those with ``ip nat outside``."""
        result = []
        for section in self.under("interface"):
            name = section.line.split(maxsplit=1)[1]
            if context.wan_interfaces:
                if not any(_same_interface(name, n) for n in context.wan_interfaces):
                    continue
            elif "ip nat outside" not in section.children:
                continue
            groups = [w[2] for w in section.child_words("ip access-group") if w[3:4] == ["in"]]
            acl_name = groups[0] if groups else None
            addresses = tuple(a for w in section.child_words("ip address")
                              if (a := _ip(w[2])) is not None)
            result.append(WanInterface(name, acl_name, self.acls.get(acl_name or ""), addresses))
        return result


def _same_interface(configured: str, named: str) -> bool:
    """``Gi0/0`` names ``GigabitEthernet0/0``: the type may be abbreviated, the number not."""
    a = re.match(r"([A-Za-z-]+)\s*(.*)", configured)
    b = re.match(r"([A-Za-z-]+)\s*(.*)", named)
    if not a or not b:
        return configured == named
    return a.group(2) == b.group(2) and a.group(1).lower().startswith(b.group(1).lower())


def _exposed_on_wan(wan: Sequence[WanInterface], protocol: str, port: int) -> str | None:
    """Why ``protocol``/``port`` is open from the WAN, or None if every WAN ACL drops it."""
    if not wan:
        return "no WAN interface is known"
    for iface in wan:
        if entry := exposing_entry(iface.acl, protocol, port):
            return f"{iface.name}: {entry}"
    return None


def _finding(control: str, problems: Sequence[str], seen: Sequence[str]) -> Finding:
    if problems:
        return Finding(control, Status.FAIL, "; ".join(problems))
    return Finding(control, Status.PASS, "; ".join(seen))


def _config(outputs: Outputs) -> IosConfig:
    return IosConfig(outputs.get(CONFIG, ""))


# --- rules ------------------------------------------------------------------------------------

def _transport(vty: Section) -> set[str] | None:
    """The protocols a vty line accepts, or None when it does not say."""
    found = vty.child_words("transport input")
    return set(found[-1][2:]) if found else None


def _vty_ports(vty: Section) -> list[int]:
    transport = _transport(vty)
    if transport is None or "all" in transport:
        return [22, 23]
    return [port for name, port in (("ssh", 22), ("telnet", 23)) if name in transport]


def _http_servers(cfg: IosConfig) -> list[tuple[str, int]]:
    """The HTTP servers that are on, with their ports."""
    servers = []
    for line, port_line, default in (("ip http server", "ip http port", 80),
                                     ("ip http secure-server", "ip http secure-port", 443)):
        if cfg.has(line):
            ports = [int(w[3]) for w in cfg.top(port_line) if w[3].isdigit()]
            servers.append((line, ports[0] if ports else default))
    return servers


def management_from_wan(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    wan = cfg.wan(context)
    problems: list[str] = []
    seen: list[str] = []
    for vty in cfg.under("line vty"):
        ports = _vty_ports(vty)
        classes = [w[1] for w in vty.child_words("access-class") if w[2:3] == ["in"]]
        if not ports:
            seen.append(f"{vty.line} accepts no logins")
        elif classes and restricted(cfg.acls.get(classes[0])):
            seen.append(f"{vty.line} limited by access class {classes[0]}")
        elif exposed := next(filter(None, (_exposed_on_wan(wan, "tcp", p) for p in ports)), None):
            what = (f"access class {classes[0]}, which lets in any source," if classes
                    else "no access class")
            problems.append(f"{vty.line} has {what} and is open from the WAN ({exposed})")
        else:
            seen.append(f"{vty.line}: the WAN access list drops port "
                        f"{' and '.join(map(str, ports))}")
    http_classes = [w[-1] for w in cfg.top("ip http access-class")]
    for server, port in _http_servers(cfg):
        if http_classes and restricted(cfg.acls.get(http_classes[0])):
            seen.append(f"{server} limited by access class {http_classes[0]}")
        elif exposed := _exposed_on_wan(wan, "tcp", port):
            problems.append(f"{server} has no restricting ip http access-class and is open from "
                            f"the WAN ({exposed})")
        else:
            seen.append(f"{server}: the WAN access list drops port {port}")
    if not _http_servers(cfg):
        seen.append("HTTP servers off")
    return _finding("FW-06", problems, seen)


def clear_text_management(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    problems: list[str] = []
    for vty in cfg.under("line vty"):
        transport = _transport(vty)
        if transport is None:
            problems.append(f"{vty.line} has no transport input, so telnet is accepted")
        elif transport & {"telnet", "all"}:
            problems.append(f"{vty.line} has transport input {' '.join(sorted(transport))}")
    if cfg.has("ip http server"):
        problems.append("ip http server (plain HTTP) is on")
    return _finding("FW-07", problems,
                    ["vty lines accept SSH only (or nothing); plain HTTP server off"])


def _final_action(iface: WanInterface) -> tuple[bool, str]:
    """Does the inbound ACL end in a drop, and which entry decides it?"""
    for entry in iface.acl or ():
        if entry.protocol != "ip":
            continue
        if entry.action == "deny" and _everything(entry.source) and _everything(entry.destination):
            return True, f"ends in '{entry.text}'"
        dst = entry.destination
        to_router = dst is None or _wide(dst) or any(dst.contains(a) for a in iface.addresses)
        if entry.action == "permit" and _wide(entry.source) and to_router:
            return False, f"accepts everything with '{entry.text}'"
    return True, "ends in the implicit deny (no explicit deny ip any any, so drops are not logged)"


def input_ends_in_drop(outputs: Outputs, context: AuditContext) -> Finding:
    wan = _config(outputs).wan(context)
    if not wan:
        return Finding("FW-08", Status.FAIL, "no WAN interface: none has ip nat outside and the "
                                             "inventory names none")
    problems: list[str] = []
    seen: list[str] = []
    for iface in wan:
        if iface.acl_name is None:
            problems.append(f"{iface.name} has no inbound access list")
        elif iface.acl is None:
            problems.append(f"{iface.name} applies access list {iface.acl_name}, which is not "
                            f"defined (IOS then filters nothing)")
        else:
            drops, how = _final_action(iface)
            (seen if drops else problems).append(f"{iface.name} inbound {iface.acl_name} {how}")
    return _finding("FW-08", problems, seen)


def dns_not_open(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    if not cfg.has("ip dns server"):
        return Finding("FW-09", Status.PASS, "ip dns server is off")
    wan = cfg.wan(context)
    exposed = _exposed_on_wan(wan, "udp", 53) or _exposed_on_wan(wan, "tcp", 53)
    if exposed:
        return Finding("FW-09", Status.FAIL, f"ip dns server is on and port 53 is open from the "
                                             f"WAN ({exposed})")
    return Finding("FW-09", Status.PASS, "ip dns server is on; the WAN access list drops udp and "
                                         "tcp 53 from outside")


def firmware_version(outputs: Outputs) -> str | None:
    """The version in ``show version``: "Cisco IOS Software, ... Version 15.2(7)E4, ..."."""
    match = re.search(r"^Cisco IOS.*?Version ([^\s,]+)", outputs.get(VERSION, ""), re.MULTILINE)
    return match.group(1) if match else None



def _password_type(words: Sequence[str], keyword: str) -> int | None:
    """The type of the value after ``keyword`` (``secret 9 ...``; no number means clear text)."""
    if keyword not in words:
        return None
    i = words.index(keyword) + 1
    return int(words[i]) if i < len(words) - 1 and words[i].isdigit() else 0


def no_blank_passwords(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    problems: list[str] = []
    seen: list[str] = []
    for words in cfg.top("username"):
        name = words[1]
        kind = _password_type(words, "secret")
        clear = _password_type(words, "password")
        if "nopassword" in words or (kind is None and clear is None):
            problems.append(f"username {name} has no password")
        elif kind is None and clear in (0, 7):
            problems.append(f"username {name} has a type {clear} password, readable by anyone "
                            f"who sees the configuration")
        else:
            default = " (a default name)" if name in ("cisco", "admin") else ""
            seen.append(f"username {name}{default} has a type {kind or clear} secret")
    enable = cfg.top("enable secret")
    if enable:
        seen.append(f"enable secret type {_password_type(enable[0], 'secret')}")
    else:
        problems.append("no enable secret")
    for words in cfg.top("enable password"):
        problems.append(f"enable password type {_password_type(words, 'password')} is set")
    for line in cfg.under("line"):
        for words in line.child_words("password"):
            if _password_type(words, "password") in (0, 7):
                problems.append(f"{line.line} has a type {_password_type(words, 'password')} "
                                f"password")
    return _finding("ID-10", problems, seen)


def snmp_communities(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    names = [w[2] for w in cfg.top("snmp-server community") if len(w) > 2]
    defaults = sorted({n for n in names if n.lower() in ("public", "private")})
    others = len(names) - sum(1 for n in names if n.lower() in ("public", "private"))
    v3 = any(" v3 priv" in " ".join(w) for w in cfg.top("snmp-server group"))
    notes = [f"{others} other v1/v2c communit{'y' if others == 1 else 'ies'} configured"
             if others else "no other v1/v2c community",
             "an SNMPv3 group with priv is configured" if v3 else "no SNMPv3 group with priv"]
    if defaults:
        return Finding("ID-11", Status.FAIL,
                       "; ".join([f"community {' and '.join(defaults)} is configured", *notes]))
    return Finding("ID-11", Status.PASS, "; ".join(["no public or private community", *notes]))


def _first_argument(words: Sequence[str]) -> str:
    """The address in ``logging host [ipv6] A ...`` or ``ntp server [vrf V] [ip] A ...``."""
    rest = list(words)
    while rest and rest[0] in ("vrf", "ip", "ipv6"):
        rest = rest[2:] if rest[0] == "vrf" else rest[1:]
    return rest[0] if rest else "?"


def remote_syslog(outputs: Outputs, context: AuditContext) -> Finding:
    cfg = _config(outputs)
    targets = [_first_argument(words[2:]) for words in cfg.top("logging host")]
    targets += [w[1] for w in cfg.top("logging") if len(w) == 2 and _ip(w[1]) is not None]
    district = [t for t in targets if t in context.log_servers]
    if cfg.has("no logging on"):
        return Finding("LOG-05", Status.FAIL, "no logging on: the router logs nothing")
    if district:
        return Finding("LOG-05", Status.PASS, f"logging host {', '.join(district)}")
    seen = f"logging host {', '.join(targets)}" if targets else "no logging host"
    return Finding("LOG-05", Status.FAIL, f"{seen}; the district log servers are "
                                          f"{', '.join(context.log_servers) or 'not set'}")


def ntp_configured(outputs: Outputs, context: AuditContext) -> Finding:
    servers = [_first_argument(words[2:]) for words in _config(outputs).top("ntp server")]
    if servers:
        return Finding("LOG-06", Status.PASS, f"ntp server {', '.join(servers)}")
    return Finding("LOG-06", Status.FAIL, "no ntp server line: the clock is not kept with NTP")


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
