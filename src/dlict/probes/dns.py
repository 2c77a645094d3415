"""DNS probe: one A or AAAA question to one resolver, through dnspython's stub resolver.

dnspython builds the query (random id, recursion desired, EDNS0 with a 1,232-byte payload),
reads the answer (name compression, CNAME chains), asks again over TCP when the answer is
truncated (TC), and keeps the whole lookup, TCP retry included, inside one ``lifetime``.

Two things are dlict's own (:mod:`dlict.probes.dns_wire`). The UDP socket is connected to the
resolver, so the kernel discards datagrams from any other address and an ICMP port unreachable
comes back as "connection refused" at once instead of a timeout. And a datagram that carries
our query id but cannot be read is only noted: a spoofed datagram must not end the probe
(dnspython ignores what it cannot read), but if nothing better comes before the deadline the
result says "malformed answer" with dnspython's reason instead of a bare timeout.

dnspython comes with ``dlict[monitor]`` and is imported at the first lookup, not with this
module.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from typing import Literal

from dlict.core.errors import InputError

RecordType = Literal["A", "AAAA"]
RECORD_TYPES: tuple[str, ...] = ("A", "AAAA")


@dataclass
class DnsResult:
    target: str
    up: bool
    seconds: float
    rcode: str | None = None
    addresses: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "up": self.up, "seconds": self.seconds,
                "rcode": self.rcode, "addresses": list(self.addresses), "error": self.error}


def dns_lookup(server: str, name: str, timeout_s: float, port: int = 53,
               rtype: RecordType = "A") -> DnsResult:
    """Ask ``server`` for the ``rtype`` records of ``name``.

    Arguments:
        server: the resolver's IPv4 or IPv6 address.
        name: the name to look up.
        timeout_s: the most the whole lookup may take, a TCP retry included.
        port: the resolver's port.
        rtype: ``"A"`` or ``"AAAA"``.

    Returns:
        ``up`` when the answer is NOERROR with at least one address; ``rcode`` its name
        (``NXDOMAIN`` …) when an answer came; ``error`` one line when not up.

    Raises:
        InputError: the server is not an IP address, the port is outside 1–65535, or the
            name or type cannot be asked.
    """
    try:
        server_ip = ipaddress.ip_address(server)
    except ValueError as exc:
        raise InputError(f"DNS server {server!r} is not an IP address") from exc
    if rtype not in RECORD_TYPES:
        raise InputError(f"record type {rtype!r}: only A and AAAA")
    if not 1 <= port <= 65535:
        raise InputError(f"DNS server port {port}: must be from 1 to 65535")
    from dlict.probes import dns_wire  # dnspython: dlict[monitor], checked by its command

    started = time.monotonic()
    up, rcode, addresses, error = dns_wire.lookup(str(server_ip), port, name, rtype, timeout_s)
    return DnsResult(f"{server}/{name}", up, time.monotonic() - started, rcode, addresses, error)
