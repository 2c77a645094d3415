"""The scapy packet engine: SYN and UDP service probes, ARP sweeps, routes.

The only module that imports scapy (which has no complete type hints: its packets are handled
as ``Any`` here and nowhere else). Probes leave through a raw IP socket, so the kernel routes
them and resolves next hops itself; answers are read from a packet socket on every interface.
The kernel answers the SYN-ACKs of open ports with a RST by itself (it has no socket for them),
so no connection is ever completed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address, ip_address
from typing import Any

from scapy.arch import get_if_addr, get_if_hwaddr
from scapy.asn1.asn1 import ASN1_OID
from scapy.config import conf
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.layers.ntp import NTPHeader
from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind
from scapy.sendrecv import sndrcv, srp
from scapy.supersocket import L3RawSocket

from dlict.core.errors import OperationalError
from dlict.netscan.engine import Neighbour, PortState, Probe, Route
from dlict.netscan.policy import Proto

# scapy warns on stderr about things that are normal here (unanswered ARP, routes).
logging.getLogger("scapy").setLevel(logging.ERROR)

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
ICMP_UNREACHABLE = 3
ICMP_PORT_UNREACHABLE = 3
TCP_SYN_ACK = 0x12
TCP_RST = 0x04
BROADCAST = "ff:ff:ff:ff:ff:ff"
UNSPECIFIED = IPv4Address(0)


def _udp_payload(port: int) -> Any:
    """A request the service on ``port`` answers: a reply proves the port open."""
    if port == 53:
        return DNS(id=random.randint(1, 0xFFFF), rd=0, qd=DNSQR(qname=".", qtype="NS"))  # noqa: S311
    if port == 123:
        return NTPHeader(version=4, mode=3)
    if port == 161:
        # Our own hosts only: the community every SNMP agent ships with (ID-11 fails on it).
        return SNMP(community="public",
                    PDU=SNMPget(varbindlist=[SNMPvarbind(oid=ASN1_OID(SYS_DESCR))]))
    raise ValueError(f"no UDP probe for port {port}")


def _state(answer: Any) -> PortState:
    if answer.haslayer(TCP) and not answer.haslayer(ICMP):
        flags = int(answer[TCP].flags)
        if flags & TCP_SYN_ACK == TCP_SYN_ACK:
            return PortState.OPEN
        return PortState.CLOSED if flags & TCP_RST else PortState.FILTERED
    if answer.haslayer(ICMP):
        icmp = answer[ICMP]
        if int(icmp.type) == ICMP_UNREACHABLE and int(icmp.code) == ICMP_PORT_UNREACHABLE:
            return PortState.CLOSED
        return PortState.FILTERED
    return PortState.OPEN if answer.haslayer(UDP) else PortState.FILTERED


def _raise_permission(exc: OSError) -> OperationalError:
    return OperationalError(f"dlict netscan needs raw sockets: run it as root or with "
                            f"CAP_NET_RAW ({exc.strerror or exc})")


class ScapyEngine:
    """The packet engine of ``dlict netscan`` (see engine.PacketEngine)."""

    def __init__(self) -> None:
        # Routes and interfaces may have changed since scapy was imported.
        conf.ifaces.reload()
        conf.route.resync()

    def route(self, destination: IPv4Address) -> Route | None:
        interface, source, gateway = conf.route.route(str(destination), verbose=0)
        if not interface or not source or IPv4Address(source) == UNSPECIFIED:
            return None
        gw = ip_address(gateway)
        return Route(str(interface), IPv4Address(source),
                     IPv4Address(gw) if int(gw) and isinstance(gw, IPv4Address) else None)

    def interface_address(self, interface: str) -> IPv4Address | None:
        try:
            address = get_if_addr(interface)
        except (ValueError, OSError) as exc:
            raise OperationalError(f"interface {interface} not found on this machine") from exc
        found = IPv4Address(address)
        return found if int(found) else None

    def probe(self, probes: Sequence[Probe], sources: Mapping[IPv4Address, IPv4Address],
              timeout: float, retries: int) -> dict[Probe, PortState]:
        if not probes:
            return {}
        tcp_sport = random.randint(40000, 59999)  # noqa: S311 - only tells our probes apart
        udp_sport = tcp_sport + 1
        packets = []
        wanted: dict[tuple[str, str, int], Probe] = {}
        for probe in probes:
            ip = IP(src=str(sources[probe.target]), dst=str(probe.target))
            number = probe.port.number
            if probe.port.proto is Proto.TCP:
                seq = random.randint(0, 0xFFFFFFFF)  # noqa: S311
                packets.append(ip / TCP(sport=tcp_sport, dport=number, flags="S", seq=seq))
            else:
                packets.append(ip / UDP(sport=udp_sport, dport=number) / _udp_payload(number))
            wanted[(str(probe.target), probe.port.proto.value, number)] = probe
        try:
            sock = L3RawSocket()
        except PermissionError as exc:
            raise _raise_permission(exc) from exc
        try:
            answered, _unanswered = sndrcv(sock, packets, timeout=timeout, retry=retries,
                                           verbose=0)
        finally:
            sock.close()
        states = dict.fromkeys(probes, PortState.FILTERED)
        for sent, answer in answered:
            layer = TCP if sent.haslayer(TCP) else UDP
            key = (str(sent[IP].dst), "tcp" if layer is TCP else "udp", int(sent[layer].dport))
            if key in wanted:
                states[wanted[key]] = _state(answer)
        return states

    def arp_sweep(self, addresses: Sequence[IPv4Address], interface: str,
                  source: IPv4Address | None, timeout: float, retries: int) -> list[Neighbour]:
        if not addresses:
            return []
        try:
            own_mac = get_if_hwaddr(interface)
        except (ValueError, OSError) as exc:
            raise OperationalError(f"interface {interface} not found on this machine") from exc
        requests = [Ether(dst=BROADCAST, src=own_mac)
                    / ARP(op=1, hwsrc=own_mac, psrc=str(source or UNSPECIFIED), pdst=str(a))
                    for a in addresses]
        try:
            answered, _unanswered = srp(requests, iface=interface, timeout=timeout,
                                        retry=retries, multi=True, verbose=0)
        except PermissionError as exc:
            raise _raise_permission(exc) from exc
        found = set()
        for _sent, answer in answered:
            arp = answer[ARP]
            if int(arp.op) == 2:
                found.add(Neighbour(IPv4Address(arp.psrc), str(arp.hwsrc).lower()))
        return sorted(found)
