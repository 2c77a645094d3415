"""What RouterOS prints, parsed: the export (one command a line, ``/path words verb [target]
key=value ...``), the ``print detail`` outputs (`` 0 XI ;;; comment`` then ``key=value`` lines,
wrapped or not), and from them the services and users."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from dlict.netdev.platforms.base import CONFIG, Outputs
from dlict.netdev.platforms.routeros.lexer import VERBS, logical_lines, split_words, unescape


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
    for line in logical_lines(text):
        tokens = split_words(line.strip())
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
                if word in VERBS:
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
            target = tokens[index] if tokens[index].startswith("[") else unescape(tokens[index])
            index += 1
        args: dict[str, str] = {}
        for token in tokens[index:]:
            key, _, value = token.partition("=")
            args[key] = unescape(value)
        commands.append(Command(path.strip(), verb, target, args))
    return commands


@lru_cache(maxsize=16)
def export_commands(text: str) -> tuple[Command, ...]:
    return tuple(parse_export(text))


def menu_settings(commands: Iterable[Command], path: str) -> dict[str, str]:
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
        words = [w for w in split_words(target.strip("[] ")) if w not in ("find", "where")]
        if not all("=" in w for w in words):
            return []  # a selector beyond key=value (name~"x", !disabled): not modelled
        conditions = [w.partition("=") for w in words]
        return [i for i, item in enumerate(items)
                if all(item.get(k, "no" if k == "default" else "") == unescape(v)
                       for k, _, v in conditions)]
    return [i for i, item in enumerate(items) if item.get("name") == target]


def menu_items(commands: Iterable[Command], path: str,
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
            pairs.extend(split_words(stripped))
    props: dict[str, str] = {}
    last: str | None = None
    for word in pairs:
        key, eq, value = word.partition("=")
        if eq and not word.startswith('"'):
            props[key] = unescape(value)
            last = key
        elif last is not None:  # a value with a space: last-logged-in=may/02/2024 10:11:12
            props[last] += " " + unescape(word)
    return Entry(flags, comment, props)


# ---------------------------------------------------------------------------------------------
# Services and users.

_SERVICE_PORTS = {"telnet": 23, "ftp": 21, "www": 80, "ssh": 22, "www-ssl": 443, "api": 8728,
                  "winbox": 8291, "api-ssl": 8729}
_OFF_BY_DEFAULT = frozenset({"www-ssl", "api-ssl"})
ANY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})
UNSET_ADDRESSES = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - how RouterOS prints "no address"


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
        return bool(self.addresses) and not ANY_ADDRESS.intersection(self.addresses)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.port})"


def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def port_number(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def services(outputs: Outputs) -> list[Service]:
    """/ip service from its print; without one, RouterOS's defaults and the export's sets."""
    entries = parse_print(outputs.get("services", ""))
    if entries:
        return [Service(name=(name := e.props.get("name", "")),
                        port=port_number(e.props.get("port"), _SERVICE_PORTS.get(name, 0)),
                        addresses=split_list(e.props.get("address")),
                        disabled="X" in e.flags or e.props.get("disabled") == "yes",
                        invalid="I" in e.flags or e.props.get("invalid") == "yes")
                for e in entries]
    found: list[Service] = []
    commands = export_commands(outputs.get(CONFIG, ""))
    for name, port in _SERVICE_PORTS.items():
        item = {"name": name, "disabled": "yes" if name in _OFF_BY_DEFAULT else "no"}
        for command in commands:
            if command.path == "/ip service" and command.verb == "set" and command.target == name:
                item.update(command.args)
        found.append(Service(name, port_number(item.get("port"), port),
                             split_list(item.get("address")), item["disabled"] == "yes",
                             invalid=False))
    return found


def user_entries(outputs: Outputs) -> list[Entry]:
    return [e for e in parse_print(outputs.get("users", "")) if "name" in e.props]


