"""EP-07: sweep each site's LANs with ARP and compare who answers with the inventory.

Every answering IP/MAC pair must be a host of that site (its ansible_host, and its dlict_mac
where one is registered). Each pair that is not is one FAIL result (host = the address), with
the vendor of its MAC; a LAN where every answer is known is one PASS result (host = the LAN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from dlict.core.errors import InputError
from dlict.core.results import Result, Status
from dlict.inventory.models import Host, Inventory, Site
from dlict.netscan.engine import Neighbour, PacketEngine, addresses_of

CONTROL = "EP-07"
# A /20: larger LANs are a design to split, and a sweep of them floods the segment.
MAX_ADDRESSES = 4096


@dataclass(frozen=True)
class Sweep:
    """One LAN of a site, swept out of ``interface`` from ``source`` (None: 0.0.0.0)."""

    site: Site
    network: IPv4Network
    interface: str
    source: IPv4Address | None


def select_sites(inventory: Inventory, site_id: str | None) -> list[Site]:
    """The sites to sweep: the one named, or every site with a ``dlict_site.lan``.

    Raises:
        InputError: an unknown site, a site without LAN, no site with one, a LAN too large.
    """
    if site_id is not None:
        named = [s for s in inventory.sites if site_id in (s.id, s.group)]
        if not named:
            raise InputError(f"--site: no site '{site_id}' in {inventory.source}")
        site = named[0]
        if not site.meta.lan:
            raise InputError(f"site {site.id}: dlict_site.lan is not set (group "
                             f"{site.group}): nothing to sweep")
        sites = [site]
    else:
        sites = [s for s in inventory.sites if s.meta.lan]
        if not sites:
            raise InputError(f"no site of {inventory.source} sets dlict_site.lan: "
                             "nothing to sweep")
    for site in sites:
        for network in site.meta.lan:
            if network.num_addresses > MAX_ADDRESSES:
                raise InputError(f"site {site.id}: dlict_site.lan {network} has "
                                 f"{network.num_addresses} addresses; dlict sweeps at most "
                                 f"{MAX_ADDRESSES} (a /20) at once")
    return sites


def plan_sweeps(sites: Sequence[Site], engine: PacketEngine,
                interface: str | None) -> tuple[list[Sweep], list[Result]]:
    """A sweep per LAN; a LAN this machine is not on (without ``interface``) is an ERROR."""
    sweeps: list[Sweep] = []
    errors: list[Result] = []
    given = engine.interface_address(interface) if interface is not None else None
    for site in sites:
        for network in site.meta.lan:
            if interface is not None:
                source = given if given is not None and given in network else None
                sweeps.append(Sweep(site, network, interface, source))
                continue
            route = engine.route(next(iter(addresses_of(network))))
            if network.is_loopback or route is None or route.gateway is not None:
                how = ("loopback" if network.is_loopback else
                       f"routed via {route.gateway}" if route is not None else "no route")
                errors.append(Result(
                    site.id, str(network), Status.ERROR, control=CONTROL,
                    evidence=f"{network} is not on a link of this machine ({how}): run "
                             "discover on that LAN, or name the interface with --interface"))
                continue
            source = route.source if route.source in network else None
            sweeps.append(Sweep(site, network, route.interface, source))
    return sweeps, errors


def _with_vendor(mac: str, vendor: Callable[[str], str]) -> str:
    return f"{mac} ({vendor(mac)})"


def judge_lan(sweep: Sweep, hosts: Iterable[Host], answers: Iterable[Neighbour],
              vendor: Callable[[str], str]) -> list[Result]:
    """EP-07 results for one swept LAN: a FAIL per unknown pair, else one PASS."""
    return judge_answers(sweep.site.id, sweep.network, sweep.interface, sweep.source, hosts,
                         answers, vendor)


def judge_answers(site_id: str, network: IPv4Network, interface: str,
                  source: IPv4Address | None, hosts: Iterable[Host],
                  answers: Iterable[Neighbour], vendor: Callable[[str], str]) -> list[Result]:
    """EP-07 results for the answers of one LAN swept out of ``interface`` from ``source``
    (the sweeper itself, left out): a FAIL per unknown pair, else one PASS. The office's
    ``netscan discover`` and a school's agent both judge with it."""
    site_hosts = list(hosts)
    by_address: dict[str, list[Host]] = {}
    for host in site_hosts:
        by_address.setdefault(host.address, []).append(host)
    by_mac = {h.mac: h for h in site_hosts if h.mac}
    seen = [a for a in answers if a.address in network and a.address != source]
    results = []
    for answer in sorted(seen):
        owners = by_address.get(str(answer.address), [])
        if any(h.mac is None or h.mac == answer.mac for h in owners):
            continue
        device = f"{answer.address} {_with_vendor(answer.mac, vendor)}"
        if owners:
            registered = ", ".join(f"{h.name} with {_with_vendor(h.mac or '', vendor)}"
                                   for h in owners)
            evidence = f"{device} answers, but the inventory has {registered} at that address"
        else:
            evidence = f"{device} is not in the inventory"
            elsewhere = by_mac.get(answer.mac)
            if elsewhere is not None:
                evidence += f" (its MAC is registered to {elsewhere.name} at {elsewhere.address})"
        results.append(Result(site_id, str(answer.address), Status.FAIL, control=CONTROL,
                              evidence=evidence))
    if not results:
        results.append(Result(site_id, str(network), Status.PASS, control=CONTROL,
                              evidence=f"{len(seen)} devices answered on {network} "
                                       f"({interface}), all known"))
    return results


def run_sweeps(inventory: Inventory, sweeps: Sequence[Sweep], engine: PacketEngine,
               vendor: Callable[[str], str], timeout: float, retries: int) -> list[Result]:
    results = []
    for sweep in sweeps:
        answers = engine.arp_sweep(addresses_of(sweep.network), sweep.interface, sweep.source,
                                   timeout, retries)
        hosts = [inventory.hosts[name] for name in sweep.site.hosts if name in inventory.hosts]
        results += judge_lan(sweep, hosts, answers, vendor)
    return results
