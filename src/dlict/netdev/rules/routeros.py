"""MikroTik RouterOS (v6.4x and v7) device rules: pure parsers over the outputs of
``platforms.ROUTEROS``.

An export leaves out whatever is at its default, so each rule starts from RouterOS's defaults
(the ``public`` SNMP community, the four logging actions, services on) and applies the export's
commands; the services and users come from their ``print detail`` outputs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from dlict.core.results import Status
from dlict.netdev.platforms import CONFIG, ROUTEROS
from dlict.netdev.rules import AuditContext, Finding, Outputs, Rule, firmware_finding

# ---------------------------------------------------------------------------------------------
# Lexing: shared by the export parser, the print parser and normalize_config.

_VERBS = frozenset({"add", "set", "remove", "unset", "enable", "disable", "move"})
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "_": " "}
_HEX_PAIR = re.compile(r"[0-9A-F]{2}")
_HEADER = re.compile(r"^#.*\bby RouterOS\s+(?P<version>\S+)")
_NORMALIZED_HEADER = re.compile(r"^# RouterOS\s+(?P<version>\S+)")


def _token_spans(line: str) -> list[tuple[int, int]]:
    """Where the words of one line start and end: whitespace separates them except inside
    double quotes (with backslash escapes) and inside ``[ ... ]``."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    depth = 0
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if start is None:
            if ch.isspace():
                i += 1
                continue
            start = i
        if ch == "\\":
            i += 2
            continue
        if quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif ch.isspace() and depth == 0:
            spans.append((start, i))
            start = None
        i += 1
    if start is not None:
        spans.append((start, len(line)))
    return spans


def _words(line: str) -> list[str]:
    return [line[a:b] for a, b in _token_spans(line)]


def _unescape(raw: str) -> str:
    """A RouterOS value as text: quotes removed, ``\\"``, ``\\n``, ``\\_`` and the ``\\E0``
    hex bytes (how an export writes UTF-8, e.g. Thai comments) decoded."""
    value = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if "\\" not in value:
        return value
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1:i + 3]
            if _HEX_PAIR.fullmatch(pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out += _ESCAPES.get(value[i + 1], value[i + 1]).encode()
            i += 2
            continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", errors="replace")


def _logical_lines(text: str) -> list[str]:
    """Lines with a trailing-backslash continuation (a wrapped, non-terse export) joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if pending:
            line = pending + line.lstrip()
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            pending = line[:-1]
            continue
        pending = ""
        lines.append(line)
    if pending:
        lines.append(pending)
    return lines


# ---------------------------------------------------------------------------------------------
# The export: one command a line, ``/path words verb [target] key=value ...``.


@dataclass(frozen=True)
class Command:
    """One export command, e.g. ``/ip service set telnet disabled=yes`` → path ``/ip service``,
    verb ``set``, target ``telnet``, args ``{"disabled": "yes"}``; values are unescaped."""

    path: str
    verb: str
    target: str | None
    args: Mapping[str, str]


def parse_export(text: str) -> list[Command]:
    """The commands of an ``/export`` (terse, or the wrapped form with menu lines)."""
    commands: list[Command] = []
    context = ""
    for line in _logical_lines(text):
        tokens = _words(line.strip())
        if not tokens or tokens[0].startswith(("#", ":")):
            continue
        path_words: list[str] = []
        verb: str | None = None
        index = 0
        while index < len(tokens) and verb is None:
            token = tokens[index]
            if "=" in token or token.startswith(("[", '"')):
                break
            index += 1
            for word in filter(None, token.split("/")):
                if word in _VERBS:
                    verb = word
                    break
                path_words.append(word)
        absolute = tokens[0].startswith("/")
        path = "/" + " ".join(path_words) if absolute else " ".join([context, *path_words])
        if verb is None:
            if absolute:
                context = path  # a menu line: the lines below it are relative to it
            continue
        target: str | None = None
        if verb != "add" and index < len(tokens) and (
                "=" not in tokens[index] or tokens[index].startswith("[")):
            target = tokens[index] if tokens[index].startswith("[") else _unescape(tokens[index])
            index += 1
        args: dict[str, str] = {}
        for token in tokens[index:]:
            key, _, value = token.partition("=")
            args[key] = _unescape(value)
        commands.append(Command(path.strip(), verb, target, args))
    return commands


@lru_cache(maxsize=16)
def _commands(text: str) -> tuple[Command, ...]:
    return tuple(parse_export(text))


def _settings(commands: Iterable[Command], path: str) -> dict[str, str]:
    """A single-settings menu (``/ip dns``, ``/snmp``): its ``set`` commands merged."""
    merged: dict[str, str] = {}
    for command in commands:
        if command.path == path and command.verb == "set" and command.target is None:
            merged.update(command.args)
    return merged


def _selected(items: Sequence[Mapping[str, str]], target: str | None) -> list[int]:
    """Which items a ``set``/``remove`` target names: ``3``, ``0,1``, ``telnet`` or
    ``[ find default=yes ]``."""
    if target is None:
        return []
    if target.replace(",", "").isdigit():
        return [n for n in map(int, target.split(",")) if n < len(items)]
    if target.startswith("["):
        words = [w for w in _words(target.strip("[] ")) if w not in ("find", "where")]
        if not all("=" in w for w in words):
            return []  # a selector beyond key=value (name~"x", !disabled): not modelled
        conditions = [w.partition("=") for w in words]
        return [i for i, item in enumerate(items)
                if all(item.get(k, "no" if k == "default" else "") == _unescape(v)
                       for k, _, v in conditions)]
    return [i for i, item in enumerate(items) if item.get("name") == target]


def _items(commands: Iterable[Command], path: str,
           defaults: Sequence[Mapping[str, str]] = ()) -> list[dict[str, str]]:
    """A list menu after the export's add/set/remove/disable, starting from RouterOS's own
    entries (which an export only ever ``set``s)."""
    items = [dict(d) for d in defaults]
    for command in commands:
        if command.path != path:
            continue
        if command.verb == "add":
            items.append(dict(command.args))
        elif command.verb == "remove":
            gone = set(_selected(items, command.target))
            items = [item for i, item in enumerate(items) if i not in gone]
        elif command.verb in ("set", "enable", "disable"):
            change = dict(command.args)
            if command.verb != "set":
                change["disabled"] = "yes" if command.verb == "disable" else "no"
            for i in _selected(items, command.target):
                items[i].update(change)
    return [item for item in items if item.get("disabled") != "yes"]


# ---------------------------------------------------------------------------------------------
# The print outputs: `` 0 XI ;;; comment`` then ``key=value`` lines, wrapped or not.


@dataclass(frozen=True)
class Entry:
    """One record of ``print detail``: its flag letters (X disabled, I invalid), its ``;;;``
    comment and its properties."""

    flags: str
    comment: str
    props: Mapping[str, str]


_RECORD = re.compile(r"^\s{0,3}\d+(?=\s|$)(?P<rest>.*)$")
_FLAG = re.compile(r"\s*(?P<flags>[A-Z*]+)(?=\s|$)")


def parse_print(text: str) -> list[Entry]:
    records: list[list[str]] = []
    current: list[str] | None = None
    for raw in text.replace("\r", "").split("\n"):
        line = raw.rstrip()
        match = _RECORD.match(line)
        if match:
            current = [match.group("rest")]
            records.append(current)
        elif current is not None and line[:1].isspace() and line.strip():
            current.append(line)
        else:
            current = None  # a blank line, the Flags: legend or a prompt
    return [_entry(record) for record in records]


def _entry(lines: list[str]) -> Entry:
    first = lines[0]
    flags = ""
    while match := _FLAG.match(first):
        flags += match.group("flags")
        first = first[match.end():]
    comment = ""
    pairs: list[str] = []
    for line in [first, *lines[1:]]:
        stripped = line.strip()
        if stripped.startswith(";;;"):
            comment = stripped[3:].strip()
        else:
            pairs.extend(_words(stripped))
    props: dict[str, str] = {}
    last: str | None = None
    for word in pairs:
        key, eq, value = word.partition("=")
        if eq and not word.startswith('"'):
            props[key] = _unescape(value)
            last = key
        elif last is not None:  # a value with a space: last-logged-in=may/02/2024 10:11:12
            props[last] += " " + _unescape(word)
    return Entry(flags, comment, props)


# ---------------------------------------------------------------------------------------------
# Services and users.

_SERVICE_PORTS = {"telnet": 23, "ftp": 21, "www": 80, "ssh": 22, "www-ssl": 443, "api": 8728,
                  "winbox": 8291, "api-ssl": 8729}
_OFF_BY_DEFAULT = frozenset({"www-ssl", "api-ssl"})
_ANY = frozenset({"0.0.0.0/0", "::/0"})
_UNSET = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - how RouterOS prints "no address"


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    addresses: tuple[str, ...]
    disabled: bool
    invalid: bool  # I: e.g. www-ssl without a certificate, which does not listen

    @property
    def running(self) -> bool:
        return not (self.disabled or self.invalid)

    @property
    def limited(self) -> bool:
        """Only the listed networks may connect (address= set, and not to everything)."""
        return bool(self.addresses) and not _ANY.intersection(self.addresses)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.port})"


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _port(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def services(outputs: Outputs) -> list[Service]:
    """/ip service from its print; without one, RouterOS's defaults and the export's sets."""
    entries = parse_print(outputs.get("services", ""))
    if entries:
        return [Service(name=(name := e.props.get("name", "")),
                        port=_port(e.props.get("port"), _SERVICE_PORTS.get(name, 0)),
                        addresses=_split(e.props.get("address")),
                        disabled="X" in e.flags or e.props.get("disabled") == "yes",
                        invalid="I" in e.flags or e.props.get("invalid") == "yes")
                for e in entries]
    found: list[Service] = []
    commands = _commands(outputs.get(CONFIG, ""))
    for name, port in _SERVICE_PORTS.items():
        item = {"name": name, "disabled": "yes" if name in _OFF_BY_DEFAULT else "no"}
        for command in commands:
            if command.path == "/ip service" and command.verb == "set" and command.target == name:
                item.update(command.args)
        found.append(Service(name, _port(item.get("port"), port), _split(item.get("address")),
                             item["disabled"] == "yes", invalid=False))
    return found


def _users(outputs: Outputs) -> list[Entry]:
    return [e for e in parse_print(outputs.get("users", "")) if "name" in e.props]


# ---------------------------------------------------------------------------------------------
# The input chain: a small evaluator of /ip firewall filter for one kind of packet.


class Match(Enum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"  # depends on something the probe leaves open or the evaluator does not model

    def negated(self) -> Match:
        return {Match.YES: Match.NO, Match.NO: Match.YES}.get(self, Match.MAYBE)


@dataclass(frozen=True)
class Probe:
    """A new connection arriving on ``interface`` (None: a WAN interface the configuration
    does not name, so in no interface list) from an arbitrary internet address (in no address
    list, inside no src-address but 0.0.0.0/0). ``protocol`` / ``port`` None: any."""

    interface: str | None
    protocol: str | None = None
    port: int | None = None


@dataclass(frozen=True)
class FilterRule:
    number: int  # as /ip firewall filter print numbers it
    args: Mapping[str, str]

    @property
    def chain(self) -> str:
        return self.args.get("chain", "")

    @property
    def action(self) -> str:
        return self.args.get("action", "accept")

    def describe(self) -> str:
        comment = self.args.get("comment")
        if comment:
            return f"rule {self.number} '{comment}'"
        shown = " ".join(f"{k}={v}" for k, v in self.args.items()
                         if k not in ("chain", "action", "disabled", "comment"))
        return f"rule {self.number} ({self.action} {shown})".replace(" )", ")")


@dataclass(frozen=True)
class Outcome:
    """What the input chain may do with a probe: ``accept`` or ``drop``, by ``rule``
    (None: the end of the chain, where RouterOS accepts)."""

    action: str
    rule: FilterRule | None

    def because(self) -> str:
        if self.rule is not None:
            return self.rule.describe()
        return "the end of the input chain (RouterOS accepts what no rule dropped)"


_PROTOCOLS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "ipsec-esp": 50,
              "ipsec-ah": 51, "icmpv6": 58, "ospf": 89, "vrrp": 112, "sctp": 132}
_TERMINAL = {"accept": "accept", "drop": "drop", "reject": "drop", "tarpit": "drop"}
# Words of a rule that say what to do, not which packets.
_NOT_MATCHERS = frozenset({"action", "chain", "comment", "disabled", "log", "log-prefix",
                           "jump-target", "reject-with", "address-list", "address-list-timeout"})
_BUILTIN_LISTS = {"all": Match.YES, "none": Match.NO, "dynamic": Match.MAYBE,
                  "static": Match.MAYBE}


@dataclass(frozen=True)
class Firewall:
    """What the evaluator needs of the configuration."""

    rules: tuple[FilterRule, ...]  # enabled rules of all chains, in order
    disabled: tuple[FilterRule, ...]
    lists: Mapping[str, frozenset[str]]  # interface list → its interfaces
    address_lists: Mapping[str, tuple[str, ...]]
    addresses: Mapping[str, tuple[str, ...]]  # interface → its IPv4 addresses

    def chain(self, name: str) -> list[FilterRule]:
        return [rule for rule in self.rules if rule.chain == name]

    def outcomes(self, probe: Probe, chain: str = "input",
                 depth: int = 0) -> tuple[list[Outcome], bool]:
        """Every decision ``chain`` may reach for ``probe`` in order, and whether the probe may
        also leave the chain undecided (its end, or a ``return``)."""
        found: list[Outcome] = []
        leaves = False
        for rule in self.chain(chain):
            match = self.match(rule, probe)
            if match is Match.NO:
                continue
            if rule.action in _TERMINAL:
                found.append(Outcome(_TERMINAL[rule.action], rule))
                if match is Match.YES:
                    return found, leaves
            elif rule.action == "jump" and depth < 16:
                inner, through = self.outcomes(probe, rule.args.get("jump-target", ""), depth + 1)
                found.extend(inner)
                if match is Match.YES and not through:
                    return found, leaves
            elif rule.action == "return":
                if match is Match.YES:
                    return found, True
                leaves = True
            # log, passthrough, add-src-to-address-list...: the packet goes on
        return found, True

    def verdict(self, probe: Probe) -> Outcome:
        """The first way the input chain may accept ``probe``, else what drops it."""
        found, through = self.outcomes(probe)
        if through:
            found.append(Outcome("accept", None))
        return next((o for o in found if o.action == "accept"), found[0])

    def match(self, rule: FilterRule, probe: Probe) -> Match:
        result = Match.YES
        for key, raw in rule.args.items():
            match = self._match_one(key, raw, probe)
            if match is Match.NO:
                return Match.NO
            if match is Match.MAYBE:
                result = Match.MAYBE
        return result

    def narrowing(self, rule: FilterRule, probe: Probe) -> list[str]:
        """The conditions of ``rule`` that ``probe`` does not surely meet."""
        return [f"{key}={raw}" for key, raw in rule.args.items()
                if self._match_one(key, raw, probe) is not Match.YES]

    def _match_one(self, key: str, raw: str, probe: Probe) -> Match:
        if key in _NOT_MATCHERS:
            return Match.YES
        matcher = _MATCHERS.get(key)
        match = matcher(self, raw.removeprefix("!"), probe) if matcher else Match.MAYBE
        return match.negated() if raw.startswith("!") else match

    # One function per matcher; each answers for the un-negated value.

    def _in_interface(self, value: str, probe: Probe) -> Match:
        return _yes(probe.interface is not None and value == probe.interface)

    def _in_interface_list(self, value: str, probe: Probe) -> Match:
        if value in _BUILTIN_LISTS:
            return _BUILTIN_LISTS[value]
        return _yes(probe.interface in self.lists.get(value, frozenset()))

    def _protocol(self, value: str, probe: Probe) -> Match:
        if probe.protocol is None:
            return Match.MAYBE
        return _yes(_protocol_number(value) == _protocol_number(probe.protocol))

    def _dst_port(self, value: str, probe: Probe) -> Match:
        if probe.port is None:
            return Match.MAYBE
        inside = _port_in(value, probe.port)
        return Match.MAYBE if inside is None else _yes(inside)

    def _port(self, value: str, probe: Probe) -> Match:
        # port= is the source or the destination port, and the sender picks the source port.
        return Match.YES if self._dst_port(value, probe) is Match.YES else Match.MAYBE

    def _connection_state(self, value: str, probe: Probe) -> Match:
        return _yes("new" in _split(value))

    def _src_address(self, value: str, probe: Probe) -> Match:
        return _yes(value in _ANY)

    def _src_address_list(self, value: str, probe: Probe) -> Match:
        return _yes(bool(_ANY.intersection(self.address_lists.get(value, ()))))

    def _dst_address(self, value: str, probe: Probe) -> Match:
        return self._destination((value,), probe)

    def _dst_address_list(self, value: str, probe: Probe) -> Match:
        return self._destination(self.address_lists.get(value, ()), probe)

    def _destination(self, specs: Sequence[str], probe: Probe) -> Match:
        """Whether the router's address on the WAN interface is inside one of ``specs``;
        unknown (a DHCP or PPPoE address) unless a spec is loopback or another interface's."""
        if _ANY.intersection(specs):
            return Match.YES
        known = self.addresses.get(probe.interface or "", ())
        if known:
            return _yes(any(_address_in(spec, a) for spec in specs for a in known))
        elsewhere = [a for name, found in self.addresses.items() if name != probe.interface
                     for a in found] + ["127.0.0.1"]
        if all(any(_address_in(spec, a) for a in elsewhere) for spec in specs):
            return Match.NO
        return Match.MAYBE

    def _dst_address_type(self, value: str, probe: Probe) -> Match:
        return _yes(bool({"local", "unicast"}.intersection(_split(value))))

    def _src_address_type(self, value: str, probe: Probe) -> Match:
        return _yes("unicast" in _split(value))

    def _connection_nat_state(self, value: str, probe: Probe) -> Match:
        return Match.NO  # a new connection to the router itself is neither srcnat nor dstnat

    def _ipsec_policy(self, value: str, probe: Probe) -> Match:
        direction, _, policy = value.partition(",")
        if direction != "in":
            return Match.MAYBE
        return _yes(policy == "none")


_Matcher = Callable[[Firewall, str, Probe], Match]
_MATCHERS: dict[str, _Matcher] = {
    "in-interface": Firewall._in_interface,
    "in-interface-list": Firewall._in_interface_list,
    "protocol": Firewall._protocol,
    "dst-port": Firewall._dst_port,
    "port": Firewall._port,
    "connection-state": Firewall._connection_state,
    "src-address": Firewall._src_address,
    "src-address-list": Firewall._src_address_list,
    "dst-address": Firewall._dst_address,
    "dst-address-list": Firewall._dst_address_list,
    "dst-address-type": Firewall._dst_address_type,
    "src-address-type": Firewall._src_address_type,
    "connection-nat-state": Firewall._connection_nat_state,
    "ipsec-policy": Firewall._ipsec_policy,
}


def _yes(condition: bool) -> Match:
    return Match.YES if condition else Match.NO


def _protocol_number(value: str) -> int | None:
    return int(value) if value.isdigit() else _PROTOCOLS.get(value)


def _port_in(spec: str, port: int) -> bool | None:
    """Whether ``port`` is in ``22,80,8000-8100``; None when the spec is not numeric."""
    for part in _split(spec):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        if int(low) <= port <= int(high or low):
            return True
    return False


def _address_in(spec: str, address: str) -> bool:
    """Whether ``address`` is inside ``192.0.2.0/24``, ``192.0.2.1`` or ``192.0.2.1-192.0.2.9``;
    a DNS name never is."""
    try:
        ip = ipaddress.ip_address(address)
        low, dash, high = spec.partition("-")
        if dash:
            return ipaddress.ip_address(low) <= ip <= ipaddress.ip_address(high)  # type: ignore[operator]
        return ip in ipaddress.ip_network(spec, strict=False)
    except (ValueError, TypeError):
        return False


def _interface_lists(commands: Sequence[Command]) -> dict[str, frozenset[str]]:
    """Interface list → interfaces, with ``include=`` / ``exclude=`` of other lists resolved."""
    defined = {item.get("name", ""): item for item in _items(commands, "/interface list")}
    members: dict[str, set[str]] = {}
    for item in _items(commands, "/interface list member"):
        members.setdefault(item.get("list", ""), set()).add(item.get("interface", ""))

    def resolve(name: str, seen: frozenset[str]) -> frozenset[str]:
        if name in seen:
            return frozenset()
        found = set(members.get(name, ()))
        for other in _split(defined.get(name, {}).get("include")):
            found |= resolve(other, seen | {name})
        for other in _split(defined.get(name, {}).get("exclude")):
            found -= resolve(other, seen | {name})
        return frozenset(found)

    return {name: resolve(name, frozenset()) for name in set(defined) | set(members)}


@lru_cache(maxsize=16)
def parse_firewall(config: str) -> Firewall:
    """The filter rules, interface lists, address lists and addresses of an export."""
    commands = _commands(config)
    rules = [FilterRule(n, c.args) for n, c in enumerate(
        c for c in commands if c.path == "/ip firewall filter" and c.verb == "add")]
    address_lists: dict[str, list[str]] = {}
    for item in _items(commands, "/ip firewall address-list"):
        address_lists.setdefault(item.get("list", ""), []).append(item.get("address", ""))
    addresses: dict[str, list[str]] = {}
    for item in _items(commands, "/ip address"):
        address = item.get("address", "").partition("/")[0]
        addresses.setdefault(item.get("interface", ""), []).append(address)
    return Firewall(
        rules=tuple(r for r in rules if r.args.get("disabled") != "yes"),
        disabled=tuple(r for r in rules if r.args.get("disabled") == "yes"),
        lists=_interface_lists(commands),
        address_lists={k: tuple(v) for k, v in address_lists.items()},
        addresses={k: tuple(v) for k, v in addresses.items()},
    )


@dataclass(frozen=True)
class Wan:
    """The interfaces facing the internet, and how dlict knows them."""

    interfaces: tuple[str | None, ...]
    note: str  # "" when named by the inventory or the WAN list

    def probes(self, protocol: str | None = None, port: int | None = None) -> list[Probe]:
        return [Probe(name, protocol, port) for name in self.interfaces]


def _wan(firewall: Firewall, context: AuditContext) -> Wan:
    if context.wan_interfaces:
        return Wan(tuple(context.wan_interfaces), "")
    listed = sorted(firewall.lists.get("WAN", frozenset()))
    if listed:
        return Wan(tuple(listed), "")
    return Wan((None,), " (no interface list WAN: judged for an interface in no list)")


def _reachable(firewall: Firewall, wan: Wan, protocol: str, port: int) -> Outcome:
    """How the input chain treats a new connection to ``port`` from the internet: the first
    WAN interface's accept, else a drop."""
    verdicts = [firewall.verdict(probe) for probe in wan.probes(protocol, port)]
    return next((v for v in verdicts if v.action == "accept"), verdicts[0])


# ---------------------------------------------------------------------------------------------
# The rules.


def firmware_version(outputs: Outputs) -> str | None:
    """The RouterOS version in the export header (``# 2024-05-02 10:11:12 by RouterOS 7.14.3``,
    ``# may/02/2024 ... by RouterOS 6.49.10``, or normalize_config's ``# RouterOS 7.14.3``)."""
    for line in outputs.get(CONFIG, "").splitlines():
        match = _HEADER.match(line) or _NORMALIZED_HEADER.match(line)
        if match:
            return match.group("version")
    return None


def _finding(control: str, passed: bool, evidence: str) -> Finding:
    return Finding(control, Status.PASS if passed else Status.FAIL, evidence)


def _fw06(outputs: Outputs, context: AuditContext) -> Finding:
    firewall = parse_firewall(outputs.get(CONFIG, ""))
    wan = _wan(firewall, context)
    exposed: list[str] = []
    safe: list[str] = []
    for service in services(outputs):
        if not service.running:
            continue
        if service.limited:
            safe.append(f"{service.label} limited to {','.join(service.addresses)}")
            continue
        outcome = _reachable(firewall, wan, "tcp", service.port)
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
    wan = _wan(firewall, context)
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
    if _settings(_commands(config), "/ip dns").get("allow-remote-requests") != "yes":
        return _finding("FW-09", True, "/ip dns allow-remote-requests is off")
    firewall = parse_firewall(config)
    wan = _wan(firewall, context)
    verdicts = {p: _reachable(firewall, wan, p, 53) for p in ("udp", "tcp")}
    open_ = [f"{p} 53 from WAN ({v.because()})" for p, v in verdicts.items()
             if v.action == "accept"]
    if open_:
        return _finding("FW-09", False, "allow-remote-requests=yes and the input chain accepts "
                        + " and ".join(open_) + wan.note)
    dropped = "; ".join(f"{p} by {v.because()}" for p, v in verdicts.items())
    return _finding("FW-09", True, "allow-remote-requests=yes but the input chain drops DNS from "
                    f"WAN: {dropped}" + wan.note)


def _fw10(outputs: Outputs, context: AuditContext) -> Finding:
    return firmware_finding("FW-10", ROUTEROS.name, firmware_version(outputs), context)


def _id10(outputs: Outputs, context: AuditContext) -> Finding:
    users = _users(outputs)
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
    where = "any address" if not addresses or _ANY.intersection(_split(addresses)) else addresses
    access = ", write" if item.get("write-access") == "yes" else ""
    return f"{item.get('name', '')!r} ({kind}, {where}{access})"


def _id11(outputs: Outputs, context: AuditContext) -> Finding:
    commands = _commands(outputs.get(CONFIG, ""))
    if _settings(commands, "/snmp").get("enabled") != "yes":
        return _finding("ID-11", True, "SNMP is disabled")
    communities = _items(commands, "/snmp community", [_DEFAULT_COMMUNITY])
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
    commands = _commands(outputs.get(CONFIG, ""))
    remotes = [a for a in _items(commands, "/system logging action", _DEFAULT_ACTIONS)
               if a.get("target") == "remote" and a.get("remote", "") not in _UNSET]
    topics: dict[str, list[str]] = {}
    for item in _items(commands, "/system logging", _DEFAULT_LOGGING):
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
    commands = _commands(outputs.get(CONFIG, ""))
    client = _settings(commands, "/system ntp client")
    found = [*_split(client.get("servers")), *_split(client.get("server-dns-names")),
             *(client.get(k, "") for k in ("primary-ntp", "secondary-ntp")),
             *(item.get("address", "") for item in _items(commands, "/system ntp client servers"))]
    servers = [s for s in found if s not in _UNSET]
    enabled = client.get("enabled") == "yes"
    if enabled and servers:
        return _finding("LOG-06", True, f"NTP client enabled with {', '.join(servers)}")
    if enabled:
        return _finding("LOG-06", False, "NTP client enabled but no server is set")
    if servers:
        return _finding("LOG-06", False, f"NTP client is disabled (servers {', '.join(servers)} "
                        "set but not used)")
    return _finding("LOG-06", False, "no NTP client configured")


RULES: dict[str, Rule] = {
    "FW-06": _fw06,
    "FW-07": _fw07,
    "FW-08": _fw08,
    "FW-09": _fw09,
    "FW-10": _fw10,
    "ID-10": _id10,
    "ID-11": _id11,
    "LOG-05": _log05,
    "LOG-06": _log06,
}


# ---------------------------------------------------------------------------------------------
# Backup history.

_SECRET_KEY = re.compile(r"password|secret|passphrase|pre-?shared-key|private-key|auth-key|"
                         r"authentication-key|md5-key|static-key")
_REDACTED = '"<secret removed by dlict>"'


def _redact(line: str) -> str:
    if line.lstrip().startswith("#"):
        return line
    pieces: list[str] = []
    last = 0
    for start, end in _token_spans(line):
        key, eq, value = line[start:end].partition("=")
        if eq and not key.startswith(("[", '"')) and _SECRET_KEY.search(key) \
                and value not in ("", '""', _REDACTED):
            pieces.append(f"{line[last:start]}{key}={_REDACTED}")
            last = end
    return "".join(pieces) + line[last:]


def normalize_config(text: str) -> str:
    """An export as the backup history keeps it: the header's date dropped (its version kept as
    ``# RouterOS 7.14.3``), wrapped lines joined, line ends and trailing spaces made uniform,
    and every secret value (password=, secret=, wpa2-pre-shared-key=, private-key=...) replaced
    by _REDACTED. normalize_config(normalize_config(t)) == normalize_config(t)."""
    lines: list[str] = []
    for line in _logical_lines(text):
        header = _HEADER.match(line)
        lines.append(f"# RouterOS {header.group('version')}" if header else _redact(line))
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""
