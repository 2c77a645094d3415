"""FW-11 from outside: probe each host and compare what answers with what its policy allows.

A port is expected open for this scanner when a service of the policy allows it and the
scanner's own source address (the route's source to the host) is one of the service's sources;
every other probed port is expected closed. Probed: those ports, the ports of the policy's other
services, a fixed list of common service ports and any the user adds. TCP with SYN probes; UDP
only where an answer proves the port open (DNS, NTP, SNMP).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address

from dlict.core.errors import InputError
from dlict.core.results import Result, Status
from dlict.inventory.models import Host
from dlict.netscan.engine import PacketEngine, PortState, Probe
from dlict.netscan.policy import Policy, Port, Proto, parse_port, port_list, sorted_ports

CONTROL = "FW-11"
COMMON_TCP = (21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 514, 993, 995, 1433,
              2049, 2514, 3128, 3306, 3389, 5432, 5900, 6379, 6514, 8080, 8291, 8443, 8728,
              8729, 9100, 10050, 27017)
# UDP ports whose service answers a request of ours; elsewhere silence proves nothing.
UDP_SERVICES = {53: "DNS", 123: "NTP", 161: "SNMP"}
COMMON_UDP = tuple(UDP_SERVICES)


def probeable(port: Port) -> bool:
    return port.proto is Proto.TCP or port.number in UDP_SERVICES


def parse_extra_ports(text: str | None) -> list[Port]:
    """``--ports``: "8080,tcp/9000,udp/53".

    Raises:
        InputError: a port that is not one, or a UDP port dlict has no probe for.
    """
    ports = []
    for item in (text or "").replace(" ", ",").split(","):
        if not item:
            continue
        try:
            port = parse_port(item)
        except ValueError as exc:
            raise InputError(f"--ports: {exc}") from None
        if not probeable(port):
            known = ", ".join(f"udp/{n} ({name})" for n, name in UDP_SERVICES.items())
            raise InputError(f"--ports: {port}: UDP can only be probed where the service "
                             f"answers: {known}")
        ports.append(port)
    return ports


@dataclass(frozen=True)
class HostPlan:
    """What to send to one host and what to expect back, seen from ``source``."""

    host: Host
    target: IPv4Address
    source: IPv4Address
    policy: Policy
    ports: tuple[Port, ...]

    @property
    def expected_open(self) -> frozenset[Port]:
        return frozenset(p for p in self.policy.expected_open(self.source) if probeable(p))

    @property
    def unverifiable(self) -> list[Port]:
        """Allowed UDP ports whose service never answers (syslog): nothing proves them open."""
        return sorted_ports(p for p in self.policy.expected_open(self.source)
                            if not probeable(p))


def plan_ports(policy: Policy, source: IPv4Address, extra: Iterable[Port]) -> tuple[Port, ...]:
    wanted = set(policy.expected_open(source)) | policy.ports()
    wanted |= {Port(Proto.TCP, n) for n in COMMON_TCP} | {Port(Proto.UDP, n) for n in COMMON_UDP}
    wanted |= set(extra)
    return tuple(sorted_ports(p for p in wanted if probeable(p)))


def _ipv4(address: str) -> IPv4Address | None:
    try:
        return IPv4Address(address)
    except ValueError:
        return None


def _where_allowed(policy: Policy, port: Port) -> str:
    sources = sorted({s for service in policy.services_for(port) for s in service.sources})
    return ", ".join(sources) or "nowhere"


def judge(plan: HostPlan, states: Mapping[Port, PortState]) -> Result:
    """One FW-11 result for the host from the states of its probed ports."""
    host = plan.host
    expected = plan.expected_open
    confirmed: list[Port] = []
    mismatches: list[str] = []
    for port in plan.ports:
        state = states.get(port, PortState.FILTERED)
        if state is PortState.OPEN:
            if port in expected or plan.policy.allows(port, plan.source):
                confirmed.append(port)
            elif plan.policy.services_for(port):
                mismatches.append(f"{port} open to {plan.source}, the policy allows it only "
                                  f"from {_where_allowed(plan.policy, port)}")
            else:
                mismatches.append(f"{port} open, not in the policy")
        elif port in expected:
            mismatches.append(f"{port} {state.value}, the policy allows it")
    seen = f"from {plan.source}"
    not_probed = (f"; not verifiable (the service never answers): {port_list(plan.unverifiable)}"
                  if plan.unverifiable else "")
    opened = (f"{port_list(confirmed)} open as allowed" if confirmed
              else "no port open, as the policy expects")
    if not any(s is not PortState.FILTERED for s in states.values()) and expected:
        return Result(host.site, host.name, Status.UNREACHABLE, control=CONTROL,
                      evidence=f"{seen}: no answer to any of {len(plan.ports)} probes, not even "
                      f"from {port_list(sorted(expected))} that the policy allows (host down, "
                      "or it drops the scanner)")
    if mismatches:
        confirmed_line = f"\nconfirmed: {opened}" if confirmed else ""
        return Result(host.site, host.name, Status.FAIL, control=CONTROL,
                      evidence=f"{seen}: " + "; ".join(mismatches) + confirmed_line + not_probed)
    return Result(host.site, host.name, Status.PASS, control=CONTROL,
                  evidence=f"{seen}: {opened}; "
                  f"{len(plan.ports) - len(confirmed)} other ports closed{not_probed}")


@dataclass
class VerifyPlan:
    plans: list[HostPlan]
    results: list[Result]  # hosts judged without probing: no policy, no address, no route


def make_plans(hosts: Sequence[Host], policies: Mapping[str, Policy | None],
               engine: PacketEngine, extra: Sequence[Port]) -> VerifyPlan:
    out = VerifyPlan([], [])
    for host in hosts:
        policy = policies.get(host.name)
        if policy is None:
            out.results.append(Result(
                host.site, host.name, Status.SKIPPED, control=CONTROL,
                evidence="no policy known: not in linux_servers (the firewall role) and no "
                         "dlict_netscan_allowed"))
            continue
        target = _ipv4(host.address)
        if target is None:
            out.results.append(Result(
                host.site, host.name, Status.ERROR, control=CONTROL,
                evidence=f"ansible_host '{host.address}' is not an IPv4 address: FW-11 is "
                         "verified against one"))
            continue
        route = engine.route(target)
        if route is None:
            out.results.append(Result(host.site, host.name, Status.UNREACHABLE, control=CONTROL,
                                      evidence=f"no route from this machine to {target}"))
            continue
        out.plans.append(HostPlan(host, target, route.source, policy,
                                  plan_ports(policy, route.source, extra)))
    return out


def run_probes(plans: Sequence[HostPlan], engine: PacketEngine, timeout: float,
               retries: int) -> list[Result]:
    """Probe every planned host in one batch and judge each."""
    probes = [Probe(p.target, port) for p in plans for port in p.ports]
    sources = {p.target: p.source for p in plans}
    states = engine.probe(probes, sources, timeout, retries)
    results = []
    for plan in plans:
        mine = {port: states.get(Probe(plan.target, port), PortState.FILTERED)
                for port in plan.ports}
        results.append(judge(plan, mine))
    return results
