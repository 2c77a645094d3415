"""The input chain: a small evaluator of ``/ip firewall filter`` for one kind of packet."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from dlict.netdev.platforms.base import AuditContext
from dlict.netdev.platforms.routeros.parsers import (
    ANY_ADDRESS,
    Command,
    export_commands,
    menu_items,
    split_list,
)


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
        return _yes("new" in split_list(value))

    def _src_address(self, value: str, probe: Probe) -> Match:
        return _yes(value in ANY_ADDRESS)

    def _src_address_list(self, value: str, probe: Probe) -> Match:
        return _yes(bool(ANY_ADDRESS.intersection(self.address_lists.get(value, ()))))

    def _dst_address(self, value: str, probe: Probe) -> Match:
        return self._destination((value,), probe)

    def _dst_address_list(self, value: str, probe: Probe) -> Match:
        return self._destination(self.address_lists.get(value, ()), probe)

    def _destination(self, specs: Sequence[str], probe: Probe) -> Match:
        """Whether the router's address on the WAN interface is inside one of ``specs``;
        unknown (a DHCP or PPPoE address) unless a spec is loopback or another interface's."""
        if ANY_ADDRESS.intersection(specs):
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
        return _yes(bool({"local", "unicast"}.intersection(split_list(value))))

    def _src_address_type(self, value: str, probe: Probe) -> Match:
        return _yes("unicast" in split_list(value))

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
    for part in split_list(spec):
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
    defined = {item.get("name", ""): item for item in menu_items(commands, "/interface list")}
    members: dict[str, set[str]] = {}
    for item in menu_items(commands, "/interface list member"):
        members.setdefault(item.get("list", ""), set()).add(item.get("interface", ""))

    def resolve(name: str, seen: frozenset[str]) -> frozenset[str]:
        if name in seen:
            return frozenset()
        found = set(members.get(name, ()))
        for other in split_list(defined.get(name, {}).get("include")):
            found |= resolve(other, seen | {name})
        for other in split_list(defined.get(name, {}).get("exclude")):
            found -= resolve(other, seen | {name})
        return frozenset(found)

    return {name: resolve(name, frozenset()) for name in set(defined) | set(members)}


@lru_cache(maxsize=16)
def parse_firewall(config: str) -> Firewall:
    """The filter rules, interface lists, address lists and addresses of an export."""
    commands = export_commands(config)
    rules = [FilterRule(n, c.args) for n, c in enumerate(
        c for c in commands if c.path == "/ip firewall filter" and c.verb == "add")]
    address_lists: dict[str, list[str]] = {}
    for item in menu_items(commands, "/ip firewall address-list"):
        address_lists.setdefault(item.get("list", ""), []).append(item.get("address", ""))
    addresses: dict[str, list[str]] = {}
    for item in menu_items(commands, "/ip address"):
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


def wan_of(firewall: Firewall, context: AuditContext) -> Wan:
    if context.wan_interfaces:
        return Wan(tuple(context.wan_interfaces), "")
    listed = sorted(firewall.lists.get("WAN", frozenset()))
    if listed:
        return Wan(tuple(listed), "")
    return Wan((None,), " (no interface list WAN: judged for an interface in no list)")


def reachable(firewall: Firewall, wan: Wan, protocol: str, port: int) -> Outcome:
    """How the input chain treats a new connection to ``port`` from the internet: the first
    WAN interface's accept, else a drop."""
    verdicts = [firewall.verdict(probe) for probe in wan.probes(protocol, port)]
    return next((v for v in verdicts if v.action == "accept"), verdicts[0])


