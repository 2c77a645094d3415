"""What a service probe kind is to ``dlict monitor``: the checks it makes of a site, how it
runs one, and which metric families its results fill.

The built-in kinds and their one registry are in :mod:`dlict.exporter.service_registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dlict.core.promtext import Family
from dlict.exporter.state import ServiceSample
from dlict.inventory.models import Services


@dataclass(frozen=True)
class ServiceCheck:
    site: str
    kind: str  # the ServiceProbe's kind
    target: str  # host:port, server/name or URL: the value of the label `target`
    host: str = ""  # tcp: host; dns: the resolver
    port: int = 0
    name: str = ""  # dns: the name asked for
    url: str = ""


@dataclass(frozen=True)
class ServiceMetric:
    """One family a kind fills, and the value one sample gives it (None: no sample)."""

    family: Family
    value: Callable[[ServiceSample], float | None]


class ServiceProbe(Protocol):
    """One kind of service check (tcp, dns, http …), as the plan, scheduler and exposition
    use it."""

    @property
    def kind(self) -> str:
        """The key under ``dlict_site.services`` and the label ``kind`` of its checks."""
        ...

    @property
    def metrics(self) -> tuple[ServiceMetric, ...]:
        """The families the kind's results fill, in the order /metrics shows them."""
        ...

    def checks(self, site: str, services: Services) -> list[ServiceCheck]:
        """The checks of one site's services entry, in inventory order."""
        ...

    def sample(self, check: ServiceCheck, timeout_s: float) -> ServiceSample:
        """Run one check within ``timeout_s``; a failure is a sample that is not up."""
        ...
