"""What a host's firewall should let through, from the inventory alone.

A Linux server's policy is what the ``dlict_firewall`` role renders into its nftables rule set:
SSH from the management networks (from anywhere when there are none), the role services of
every group the host is in, and ``dlict_firewall_services``. The role's defaults are read from
the shipped role and evaluated with Jinja2 against the host's own variables, as Ansible would
(the defaults only use ``default(...)``); Ansible itself is not run.
``dlict_netscan_allowed`` ("tcp/443", "udp/123", "tcp/8000-8010") adds ports open to every
source: for network devices and other hosts the firewall role does not manage, and for
exceptions on those it does.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, Undefined, meta
from jinja2.nativetypes import NativeCodeGenerator, NativeTemplate, native_concat
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dlict.core.paths import data_path
from dlict.inventory.models import Host, Role

ANY = "any"
ALLOWED_VAR = "dlict_netscan_allowed"
_PORT_SPEC = re.compile(r"^(?P<proto>tcp|udp)/(?P<first>\d{1,5})(?:-(?P<last>\d{1,5}))?$")
# group_names, as Ansible sets it, leaves these two out.
_IMPLICIT_GROUPS = frozenset({"all", "ungrouped"})


class Proto(StrEnum):
    TCP = "tcp"
    UDP = "udp"


@dataclass(frozen=True, order=True)
class Port:
    proto: Proto
    number: int

    def __str__(self) -> str:
        return f"{self.proto}/{self.number}"


def parse_port(text: str) -> Port:
    """``"tcp/443"``, ``"udp/53"``, or a bare number meaning TCP.

    Raises:
        ValueError: not a port of that form.
    """
    spec = text.strip().lower()
    if spec.isdigit():
        spec = f"tcp/{spec}"
    match = _PORT_SPEC.match(spec)
    if match is None or match["last"] is not None:
        raise ValueError(f"'{text}' is not a port (tcp/8080, udp/53 or 8080)")
    number = int(match["first"])
    if not 0 < number < 65536:
        raise ValueError(f"'{text}': port {number} is outside 1-65535")
    return Port(Proto(match["proto"]), number)


@dataclass(frozen=True)
class Service:
    """One accept rule of the policy: ``proto`` ports ``first``-``last`` from ``sources``."""

    name: str
    proto: Proto
    first: int
    last: int
    sources: tuple[str, ...]

    @property
    def is_range(self) -> bool:
        return self.first != self.last

    @property
    def ports(self) -> tuple[Port, ...]:
        """The ports a scan looks at: the port, or both ends of a range."""
        return tuple(Port(self.proto, n) for n in sorted({self.first, self.last}))

    def covers(self, port: Port) -> bool:
        return port.proto is self.proto and self.first <= port.number <= self.last

    def admits(self, source: ipaddress.IPv4Address) -> bool:
        """Whether a packet from ``source`` matches one of the service's sources."""
        for item in self.sources:
            if item == ANY:
                return True
            network = ipaddress.ip_network(item, strict=False)
            if network.version == 4 and source in network:
                return True
        return False

    def describe_sources(self) -> str:
        return ", ".join(self.sources) if self.sources else "nowhere"


@dataclass(frozen=True)
class Policy:
    """Every service a host accepts, and where the policy came from."""

    host: str
    services: tuple[Service, ...]
    origin: str

    def expected_open(self, source: ipaddress.IPv4Address) -> frozenset[Port]:
        """Single ports that must answer a probe from ``source``.

        A range (a passive-FTP span, say) is allowed but not required to answer: nothing need
        listen on every port of it.
        """
        return frozenset(s.ports[0] for s in self.services
                         if not s.is_range and s.admits(source))

    def allows(self, port: Port, source: ipaddress.IPv4Address) -> bool:
        return any(s.covers(port) and s.admits(source) for s in self.services)

    def services_for(self, port: Port) -> list[Service]:
        return [s for s in self.services if s.covers(port)]

    def ports(self) -> frozenset[Port]:
        return frozenset(p for s in self.services for p in s.ports)


class PolicyError(ValueError):
    """A host's policy variables cannot be evaluated; the message names host and variable."""


# Ansible's templating yields native values ("{{ nets | default([]) }}" is a list); the
# sandbox keeps an inventory from reaching Python internals through a template.
class _NativeSandbox(ImmutableSandboxedEnvironment):
    code_generator_class = NativeCodeGenerator
    concat = staticmethod(native_concat)  # type: ignore[assignment]


_NativeSandbox.template_class = NativeTemplate


class _Variables:
    """A host's variables, each templated on first use after the ones it refers to."""

    def __init__(self, host: str, raw: Mapping[str, Any]) -> None:
        self.host = host
        self.raw = raw
        self.env = _NativeSandbox(undefined=StrictUndefined)
        self.done: dict[str, Any] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.raw

    def get(self, name: str, stack: tuple[str, ...] = ()) -> Any:
        if name in self.done:
            return self.done[name]
        if name in stack:
            raise PolicyError(f"host {self.host}: {name} refers to itself "
                              f"({' -> '.join((*stack, name))})")
        value = self.render(self.raw[name], (*stack, name))
        self.done[name] = value
        return value

    def render(self, value: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(value, Mapping):
            return {k: self.render(v, stack) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.render(v, stack) for v in value]
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        try:
            names = meta.find_undeclared_variables(self.env.parse(value))
            context = {n: self.get(n, stack) for n in names if n in self}
            rendered = self.env.from_string(value).render(context)
            if isinstance(rendered, Undefined):  # native rendering hands an undefined back
                rendered._fail_with_undefined_error()
            return rendered
        except TemplateError as exc:
            raise PolicyError(f"host {self.host}: {stack[-1]}: cannot evaluate '{value}': "
                              f"{exc.message or exc}") from exc


def firewall_defaults(roles_dir: Path | None = None) -> dict[str, Any]:
    """The ``dlict_firewall`` role's defaults, as shipped."""
    base = roles_dir or data_path("playbooks") / "roles"
    loaded = yaml.safe_load((base / "dlict_firewall" / "defaults" / "main.yml").read_text())
    return dict(loaded or {})


def _port_range(where: str, value: Any) -> tuple[int, int]:
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?", text)
    if match is None or isinstance(value, bool):
        raise PolicyError(f"{where}: port '{value}' is not a number or 'first-last'")
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    if not 0 < first <= last < 65536:
        raise PolicyError(f"{where}: port '{value}' is outside 1-65535 or reversed")
    return first, last


def _source(where: str, value: Any) -> str:
    text = str(value).strip()
    if text == ANY:
        return ANY
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise PolicyError(f"{where}: source '{value}' is not a network (CIDR) or 'any'") from None


def _service(where: str, item: Any) -> Service:
    if not isinstance(item, Mapping):
        raise PolicyError(f"{where}: a service is a mapping {{name, proto, port, sources}}")
    name = str(item.get("name", "")).strip() or "unnamed"
    proto = str(item.get("proto", "")).strip().lower()
    if proto not in tuple(Proto):
        raise PolicyError(f"{where} ({name}): proto '{item.get('proto')}' is not tcp or udp")
    if "port" not in item:
        raise PolicyError(f"{where} ({name}): port missing")
    first, last = _port_range(f"{where} ({name})", item["port"])
    sources = item.get("sources", [])
    if sources is None:
        sources = []
    if isinstance(sources, str) or not isinstance(sources, list):
        raise PolicyError(f"{where} ({name}): sources must be a list of networks or 'any'")
    return Service(name, Proto(proto), first, last,
                   tuple(_source(f"{where} ({name})", s) for s in sources))


def _services(where: str, value: Any) -> list[Service]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: must be a list of services")
    return [_service(f"{where}[{i}]", item) for i, item in enumerate(value)]


def _allowed(host: str, value: Any) -> list[Service]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"host {host}: {ALLOWED_VAR}: must be a list like [tcp/443, udp/123]")
    out = []
    for item in value:
        match = _PORT_SPEC.match(str(item).strip().lower())
        if match is None:
            raise PolicyError(f"host {host}: {ALLOWED_VAR}: '{item}' is not tcp/PORT, "
                              "udp/PORT or tcp/FIRST-LAST")
        first, last = _port_range(f"host {host}: {ALLOWED_VAR}",
                                  f"{match['first']}-{match['last'] or match['first']}")
        out.append(Service(ALLOWED_VAR, Proto(match["proto"]), first, last, (ANY,)))
    return out


def _firewall_services(host: Host, variables: _Variables) -> list[Service]:
    """The services nftables.conf.j2 renders for ``host``, in its order."""
    def value(name: str, default: Any) -> Any:
        return variables.get(name) if name in variables else default

    where = f"host {host.name}"
    ssh_port = value("dlict_firewall_ssh_port", 22)
    mgmt = value("dlict_mgmt_networks", []) or []
    if isinstance(mgmt, str) or not isinstance(mgmt, list):
        raise PolicyError(f"{where}: dlict_mgmt_networks must be a list of networks")
    # As the template does: without a management network SSH stays open to every source.
    services = [_service(f"{where}: ssh", {"name": "ssh", "proto": "tcp", "port": ssh_port,
                                           "sources": mgmt or [ANY]})]
    role_services = value("dlict_firewall_role_services", {}) or {}
    if not isinstance(role_services, Mapping):
        raise PolicyError(f"{where}: dlict_firewall_role_services must map groups to services")
    for group in sorted(host.groups - _IMPLICIT_GROUPS):
        services += _services(f"{where}: dlict_firewall_role_services.{group}",
                              role_services.get(group, []))
    services += _services(f"{where}: dlict_firewall_services",
                          value("dlict_firewall_services", []))
    return services


def policy_for(host: Host, defaults: Mapping[str, Any]) -> Policy | None:
    """The policy of ``host``; None when nothing says what it should accept.

    Raises:
        PolicyError: a variable cannot be evaluated or does not describe services.
    """
    has_firewall = Role.LINUX_SERVER in host.roles
    if not has_firewall and ALLOWED_VAR not in host.settings:
        return None
    raw: dict[str, Any] = dict(defaults) if has_firewall else {}
    raw.update(host.settings)
    raw.update({"inventory_hostname": host.name,
                "group_names": sorted(host.groups - _IMPLICIT_GROUPS)})
    variables = _Variables(host.name, raw)
    services: list[Service] = []
    origins = []
    if has_firewall:
        services += _firewall_services(host, variables)
        origins.append("dlict_firewall role")
    if ALLOWED_VAR in variables:
        services += _allowed(host.name, variables.get(ALLOWED_VAR))
        origins.append(ALLOWED_VAR)
    return Policy(host.name, tuple(services), " + ".join(origins))


@dataclass
class PolicySet:
    """Every selected host's policy (None: no policy known), and the problems found."""

    policies: dict[str, Policy | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def policies_for(hosts: Iterable[Host], defaults: Mapping[str, Any]) -> PolicySet:
    out = PolicySet()
    for host in hosts:
        try:
            out.policies[host.name] = policy_for(host, defaults)
        except PolicyError as exc:
            out.problems.append(str(exc))
    return out


def sorted_ports(ports: Iterable[Port]) -> list[Port]:
    return sorted(ports, key=lambda p: (p.proto != Proto.TCP, p.number))


def port_list(ports: Sequence[Port]) -> str:
    return ", ".join(str(p) for p in sorted_ports(ports))
