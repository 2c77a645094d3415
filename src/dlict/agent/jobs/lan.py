"""EP-07 from inside the school: the ARP sweep the office cannot make across the school's NAT.

Each configured LAN is swept with ``dlict netscan``'s packet engine (scapy) and judged with
the same function as ``dlict netscan discover`` against the agent's ``known`` devices: an
unknown IP/MAC pair, or a known address answering with another MAC, is a FAIL result (host =
the address) and an ``unknown_device`` event; a LAN where every answer is known is one PASS.
A LAN this machine is not on is an ERROR result, as at the office.

The result comes every sweep (it is the compliance evidence); the event only when the pair
is new since the last sweep. The pairs of the last sweep are kept in ``lan-seen.json`` in
the agent's state folder, so one unknown PC makes one event, not one every 15 minutes; a
device that leaves and comes back is announced again. Without the file (first run, or a
state folder that cannot be written) every unknown pair is an event.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.recorder import Recorder
from dlict.agent.jobs.settings import KnownDevice, LanJobSettings
from dlict.agent.records import Record
from dlict.core.errors import DlictError
from dlict.core.files import write_private
from dlict.core.results import Status
from dlict.inventory.models import Host
from dlict.netscan.discover import CONTROL, judge_answers
from dlict.netscan.engine import Neighbour, PacketEngine, addresses_of

NAME = "lan"
EVENT_TYPE = "unknown_device"
SEEN_FILE = "lan-seen.json"
MAX_SEEN = 8192  # pairs remembered; a /20 answers at most 4096 addresses


def read_seen(path: Path) -> set[str]:
    """The ``address mac`` pairs reported at the last sweep; none when the file is missing
    or unreadable (then every unknown pair is told again, never hidden)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return set()
    pairs = data.get("pairs") if isinstance(data, dict) else None
    if not isinstance(pairs, list):
        return set()
    return {p for p in pairs[:MAX_SEEN] if isinstance(p, str)}


def write_seen(path: Path, pairs: Iterable[str]) -> None:
    # a full or read-only state folder: the next sweep tells every pair again
    with contextlib.suppress(DlictError):
        write_private(path, json.dumps({"pairs": sorted(pairs)[:MAX_SEEN]}))


def known_hosts(site: str, known: Sequence[KnownDevice]) -> list[Host]:
    """The agent's known devices as the inventory hosts ``judge_answers`` compares with."""
    return [Host(name=k.name, address=k.address, site=site, roles=frozenset(), mac=k.mac)
            for k in known]


class LanJob:
    """ARP sweeps of the school's LANs, judged against the known devices."""

    name = NAME

    def __init__(self, settings: LanJobSettings, engine: PacketEngine | None = None,
                 state_dir: Path | None = None) -> None:
        self.settings = settings
        self.seen_path = state_dir / SEEN_FILE if state_dir is not None else None
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
        seen = read_seen(self.seen_path) if self.seen_path is not None else set()
        unknown: set[str] = set()
        for network in settings.networks:
            try:
                unknown |= self._sweep(out, engine, network, hosts, seen)
            except DlictError as exc:  # no raw socket, no such interface
                out.result(Status.ERROR, str(exc), control=CONTROL, host=str(network))
        if self.seen_path is not None and unknown != seen:
            write_seen(self.seen_path, unknown)
        return out.records

    def _sweep(self, out: Recorder, engine: PacketEngine, network: IPv4Network,
               hosts: list[Host], seen: set[str]) -> set[str]:
        """Sweep and judge one LAN; the ``address mac`` pairs it found unknown."""
        settings = self.settings
        where = self._where(engine, network)
        if isinstance(where, str):
            out.result(Status.ERROR, where, control=CONTROL, host=str(network))
            return set()
        interface, source = where
        answers = engine.arp_sweep(addresses_of(network), interface, source,
                                   settings.timeout_s, settings.retries)
        unknown: set[str] = set()
        for result in judge_answers(out.context.site, network, interface, source, hosts,
                                    answers, _vendor):
            out.result(result.status, result.evidence, control=CONTROL, host=result.host)
            if result.status is not Status.FAIL:
                continue
            pairs = _pairs(result.host, answers)
            unknown |= pairs
            if not pairs <= seen:
                out.event(EVENT_TYPE, result.evidence, control=CONTROL, address=result.host)
        return unknown

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


def _pairs(address: str, answers: Iterable[Neighbour]) -> set[str]:
    return {f"{a.address} {a.mac}" for a in answers if str(a.address) == address}
