"""What ``dlict monitor`` checks, read once from the inventory.

Every sample the exporter serves comes from one of these checks, so the label values are
bounded by the inventory: a site's code, an address, URL or ``host:port`` written there, a
DLTV channel 1-15.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from dlict.core.errors import InputError
from dlict.dltv import NO_SOURCE, ReceiverSource, Thresholds, make_source, thresholds_from
from dlict.exporter.service_probe import ServiceCheck
from dlict.exporter.service_registry import SERVICE_PROBES
from dlict.inventory.models import Inventory, MonitorSettings

__all__ = ["MonitorPlan", "ReceiverCheck", "ServiceCheck", "SiteNames", "build_plan"]


@dataclass(frozen=True)
class ReceiverCheck:
    site: str
    kind: str  # one of dlict.dltv.SOURCES
    address: str
    thresholds: Thresholds  # the kind's defaults with the inventory's values in place
    reader: ReceiverSource


@dataclass(frozen=True)
class SiteNames:
    """What ``dlict_site_info`` shows of a site, so alerts and dashboards can name it."""

    name_th: str
    name_en: str
    amphoe: str


@dataclass
class MonitorPlan:
    settings: MonitorSettings
    sites: dict[str, SiteNames] = field(default_factory=dict)  # every site of the inventory
    # ICMP: each address once, with every site that probes it
    icmp_sites: dict[str, list[str]] = field(default_factory=dict)
    services: list[ServiceCheck] = field(default_factory=list)
    receivers: list[ReceiverCheck] = field(default_factory=list)

    @property
    def icmp_targets(self) -> list[str]:
        return list(self.icmp_sites)

    def sites_with_links(self) -> dict[str, list[str]]:
        """Each site's probe addresses, in inventory order."""
        out: dict[str, list[str]] = {}
        for address, sites in self.icmp_sites.items():
            for site in sites:
                out.setdefault(site, []).append(address)
        return out


def _ipv4(value: str, where: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError as exc:
        raise InputError(f"{where}: probe target '{value}' must be an IPv4 address "
                         "(the probe sends raw ICMP, names are not resolved)") from exc
    if address.version != 4:
        raise InputError(f"{where}: probe target '{value}': only IPv4 targets so far")
    return str(address)


def build_plan(inventory: Inventory) -> MonitorPlan:
    """Every ICMP target, service check and DLTV receiver of the district.

    Raises:
        InputError: a probe target the engine cannot use, named with its site.
    """
    plan = MonitorPlan(settings=inventory.monitor)
    for site in inventory.sites:
        meta = site.meta
        plan.sites[site.id] = SiteNames(meta.name_th, meta.name_en, meta.amphoe)
        where = f"{inventory.source}: site {site.id}"
        for link in meta.links:
            for target in link.probe_targets:
                sites = plan.icmp_sites.setdefault(_ipv4(target, where), [])
                if site.id not in sites:
                    sites.append(site.id)
        if meta.services is not None:
            for probe in SERVICE_PROBES.values():
                plan.services.extend(probe.checks(site.id, meta.services))
        dltv = meta.dltv
        if dltv is not None and dltv.source != NO_SOURCE and dltv.address:
            given = inventory.monitor.dltv_thresholds.get(dltv.source)
            try:
                thresholds = thresholds_from(
                    given.model_dump(exclude_none=True) if given else None, dltv.source)
                reader = make_source(dltv.source, dltv.address, dltv.channels, thresholds)
            except InputError as exc:
                raise InputError(f"{where}: dltv: {exc}") from exc
            plan.receivers.append(ReceiverCheck(site.id, dltv.source, dltv.address, thresholds,
                                                reader))
    return plan
