"""What netscan needs from a packet engine, and the built-in one (scapy), loaded on demand so
that the rest of dlict never imports scapy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Protocol

from dlict.netscan.policy import Port


class PortState(StrEnum):
    OPEN = "open"  # SYN-ACK, or a reply from the UDP service
    CLOSED = "closed"  # RST, or ICMP port unreachable
    FILTERED = "filtered"  # no answer, or ICMP administratively prohibited


@dataclass(frozen=True)
class Route:
    """How this machine reaches an address: out of ``interface``, from ``source``."""

    interface: str
    source: IPv4Address
    gateway: IPv4Address | None


@dataclass(frozen=True, order=True)
class Probe:
    target: IPv4Address
    port: Port


@dataclass(frozen=True, order=True)
class Neighbour:
    """An answer to an ARP request: ``address`` is at ``mac``."""

    address: IPv4Address
    mac: str


class PacketEngine(Protocol):
    def route(self, destination: IPv4Address) -> Route | None:
        """The route to ``destination``; None when there is none."""

    def interface_address(self, interface: str) -> IPv4Address | None:
        """The interface's first IPv4 address; None when it has none.

        Raises:
            OperationalError: no such interface.
        """

    def probe(self, probes: Sequence[Probe], sources: Mapping[IPv4Address, IPv4Address],
              timeout: float, retries: int) -> dict[Probe, PortState]:
        """Send every probe (TCP SYN, or the UDP service's own request) in one batch, from the
        source address given for its target; unanswered ones are sent again ``retries`` times.
        """

    def arp_sweep(self, addresses: Sequence[IPv4Address], interface: str,
                  source: IPv4Address | None, timeout: float, retries: int) -> list[Neighbour]:
        """Ask for every address on ``interface``; every answer, several for one address
        included."""


def addresses_of(network: IPv4Network) -> list[IPv4Address]:
    """The host addresses of a network (a /31 or /32 has no network or broadcast address)."""
    return list(network.hosts()) if network.prefixlen < 31 else list(network)
