"""EP-07 from inside the school: the ARP sweep the office cannot make across the school's NAT.

Each configured LAN is swept with ``dlict netscan``'s packet engine (scapy) and judged with
the same function as ``dlict netscan discover`` against the agent's ``known`` devices: an
unknown IP/MAC pair, or a known address answering with another MAC, is a FAIL result (host =
the address) and an ``unknown_device`` event; a LAN where every answer is known is one PASS.
A LAN this machine is not on is an ERROR result, as at the office.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.recorder import Recorder
from dlict.agent.jobs.settings import KnownDevice, LanJobSettings
from dlict.agent.records import Record
from dlict.core.errors import DlictError
from dlict.core.results import Result, Status
from dlict.inventory.models import Host
from dlict.netscan.discover import CONTROL, judge_answers
from dlict.netscan.engine import PacketEngine, addresses_of

NAME = "lan"
EVENT_TYPE = "unknown_device"


def known_hosts(site: str, known: Sequence[KnownDevice]) -> list[Host]:
    """The agent's known devices as the inventory hosts ``judge_answers`` compares with."""
    return [Host(name=k.name, address=k.address, site=site, roles=frozenset(), mac=k.mac)
            for k in known]


class LanJob:
    """ARP sweeps of the school's LANs, judged against the known devices."""

    name = NAME

    def __init__(self, settings: LanJobSettings, engine: PacketEngine | None = None) -> None:
        self.settings = settings
        self.interval_s = settings.interval_s
        self.deadline_s = settings.deadline_s
        self._engine = engine

    def engine(self) -> PacketEngine:
        if self._engine is None:
            from dlict.netscan.scapy_loader import scapy_engine

            self._engine = scapy_engine()
        return self._engine

    def run(self, context: JobContext) -> Sequence[Record]:
        out = Recorder(context)
        settings = self.settings
        try:
            engine = self.engine()
        except DlictError as exc:  # scapy missing: every LAN is an error, not a crash
            for network in settings.networks:
                out.result(Status.ERROR, str(exc), control=CONTROL, host=str(network))
            return out.records
        hosts = known_hosts(context.site, settings.known)
        for network in settings.networks:
            try:
                self._sweep(out, engine, network, hosts)
            except DlictError as exc:  # no raw socket, no such interface
                out.result(Status.ERROR, str(exc), control=CONTROL, host=str(network))
        return out.records

    def _sweep(self, out: Recorder, engine: PacketEngine, network: IPv4Network,
               hosts: list[Host]) -> None:
        settings = self.settings
        where = self._where(engine, network)
        if isinstance(where, str):
            out.result(Status.ERROR, where, control=CONTROL, host=str(network))
            return
        interface, source = where
        answers = engine.arp_sweep(addresses_of(network), interface, source,
                                   settings.timeout_s, settings.retries)
        for result in judge_answers(out.context.site, network, interface, source, hosts,
                                    answers, _vendor):
            _record(out, result)

    def _where(self, engine: PacketEngine,
               network: IPv4Network) -> tuple[str, IPv4Address | None] | str:
        """(interface, source address) to sweep ``network`` from, or why it cannot be."""
        if self.settings.interface is not None:
            given = engine.interface_address(self.settings.interface)
            return self.settings.interface, given if given in network else None
        route = engine.route(next(iter(addresses_of(network))))
        if network.is_loopback or route is None or route.gateway is not None:
            how = ("loopback" if network.is_loopback else
                   f"routed via {route.gateway}" if route is not None else "no route")
            return (f"{network} is not on a link of this machine ({how}): set "
                    "jobs.lan.interface, or run the agent on that LAN")
        return route.interface, route.source if route.source in network else None


def _vendor(mac: str) -> str:
    from dlict.netscan.oui import vendor

    return vendor(mac)


def _record(out: Recorder, result: Result) -> None:
    out.result(result.status, result.evidence, control=CONTROL, host=result.host)
    if result.status is Status.FAIL:
        out.event(EVENT_TYPE, result.evidence, control=CONTROL, address=result.host)
