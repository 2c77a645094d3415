"""The benchmark's anchor: dlict's hand-written DNS client as it was before the DNS probe
moved to dnspython (src/dlict/probes/dns.py at 8006f87), kept unchanged so that
bench.bench_dns can compare the two in one run. Nothing in src/ uses it.

DNS probe: one A or AAAA question to one resolver, over UDP, by hand (RFC 1035).

The query carries a random 16-bit id and recursion desired. The UDP socket is connected to
the resolver, so the kernel discards datagrams from any other address and an ICMP port
unreachable comes back as "connection refused"; of what does arrive, an answer counts only when
its id and its question are ours, otherwise the probe keeps waiting until its deadline (a
spoofed or stale datagram cannot end it). A truncated answer (TC) is asked again over TCP within
the same deadline. Answers are read with name compression and CNAME chains followed.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import struct
from dataclasses import dataclass, field
from typing import Literal

from dlict.core.errors import InputError
from dlict.probes.tcp import Deadline, describe_error, open_connection

RecordType = Literal["A", "AAAA"]
TYPE_CODES: dict[str, int] = {"A": 1, "AAAA": 28}
TYPE_CNAME = 5
CLASS_IN = 1
RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
               5: "REFUSED"}
FLAG_QR, FLAG_TC, FLAG_RD = 0x8000, 0x0200, 0x0100
_HEADER = struct.Struct("!HHHHHH")
_QUESTION_TAIL = struct.Struct("!HH")
_RR_TAIL = struct.Struct("!HHIH")
_MAX_DATAGRAM = 65535


class MalformedAnswerError(ValueError):
    """A DNS message that cannot be read."""


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


@dataclass
class Answer:
    """What the probe needs from a response: flags, rcode and the addresses for the name."""

    truncated: bool
    rcode: int
    addresses: list[str]

    @property
    def rcode_name(self) -> str:
        return RCODE_NAMES.get(self.rcode, f"RCODE{self.rcode}")


def encode_name(name: str) -> bytes:
    """``school.example`` → wire form; raises :class:`InputError` for a name DNS cannot carry."""
    text = name.strip().rstrip(".")
    try:
        labels = [label.encode("ascii") if label.isascii() else label.encode("idna")
                  for label in text.split(".")] if text else []
    except UnicodeError as exc:
        raise InputError(f"{name!r} is not a valid DNS name") from exc
    if any(not 0 < len(label) <= 63 for label in labels):
        raise InputError(f"{name!r}: DNS labels are 1 to 63 characters")
    wire = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    if len(wire) > 255:
        raise InputError(f"{name!r}: a DNS name is at most 255 octets")
    return wire


def build_query(query_id: int, name: str, rtype: str) -> bytes:
    """A standard query with recursion desired for one name and type."""
    return (_HEADER.pack(query_id, FLAG_RD, 1, 0, 0, 0) + encode_name(name)
            + _QUESTION_TAIL.pack(TYPE_CODES[rtype], CLASS_IN))


def read_name(message: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` (lower case, no trailing dot) and the offset just after it,
    following compression pointers (RFC 1035 4.1.4) without looping."""
    labels: list[str] = []
    end: int | None = None
    jumps = 0
    while True:
        if offset >= len(message):
            raise MalformedAnswerError("name runs past the end of the message")
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(message):
                raise MalformedAnswerError("compression pointer cut short")
            if end is None:
                end = offset + 2
            jumps += 1
            if jumps > 64:
                raise MalformedAnswerError("compression pointers loop")
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            continue
        if length & 0xC0:
            raise MalformedAnswerError(f"unknown label type 0x{length:02x}")
        offset += 1
        if length == 0:
            break
        label = message[offset:offset + length]
        if len(label) < length:
            raise MalformedAnswerError("label runs past the end of the message")
        labels.append(label.decode("ascii", "replace").lower())
        offset += length
    return ".".join(labels), end if end is not None else offset


def parse_answer(message: bytes, query_id: int, name: str, rtype: str) -> Answer | None:
    """Read a response to our query; ``None`` when it is not one (id, QR or question differ).

    Raises:
        MalformedAnswerError: it is the answer to our question but cannot be read.
    """
    if len(message) < _HEADER.size:
        return None
    answer_id, flags, qdcount, ancount, _nscount, _arcount = _HEADER.unpack_from(message)
    if answer_id != query_id or not flags & FLAG_QR or qdcount != 1:
        return None
    try:
        qname, offset = read_name(message, _HEADER.size)
        qtype, qclass = _QUESTION_TAIL.unpack_from(message, offset)
    except (MalformedAnswerError, struct.error):
        return None
    if qname != read_name(encode_name(name), 0)[0] or qtype != TYPE_CODES[rtype] \
            or qclass != CLASS_IN:
        return None
    offset += _QUESTION_TAIL.size
    records: list[tuple[str, int, bytes, int]] = []
    try:
        for _ in range(ancount):
            owner, offset = read_name(message, offset)
            kind, klass, _ttl, length = _RR_TAIL.unpack_from(message, offset)
            offset += _RR_TAIL.size
            if offset + length > len(message):
                raise MalformedAnswerError("record data runs past the end of the message")
            if klass == CLASS_IN:
                records.append((owner, kind, message[offset:offset + length], offset))
            offset += length
    except struct.error as exc:
        raise MalformedAnswerError("record cut short") from exc
    return Answer(bool(flags & FLAG_TC), flags & 0x000F,
                  _addresses(message, records, qname, TYPE_CODES[rtype]))


def _addresses(message: bytes, records: list[tuple[str, int, bytes, int]], qname: str,
               type_code: int) -> list[str]:
    """Addresses of the asked name or of any name it is a CNAME (chain) for."""
    names = {qname}
    grew = True
    while grew:
        grew = False
        for owner, kind, _data, start in records:
            if kind == TYPE_CNAME and owner in names:
                alias, _end = read_name(message, start)
                if alias not in names:
                    names.add(alias)
                    grew = True
    family, size = (socket.AF_INET, 4) if type_code == 1 else (socket.AF_INET6, 16)
    found: list[str] = []
    for owner, kind, data, _start in records:
        if kind == type_code and owner in names:
            if len(data) != size:
                raise MalformedAnswerError(f"address record of {len(data)} octets")
            found.append(socket.inet_ntop(family, data))
    return found


def _ask_over_udp(address: tuple[str, int], family: socket.AddressFamily, query: bytes,
                  query_id: int, name: str, rtype: str, deadline: Deadline) -> Answer:
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.send(query)
        while True:
            sock.settimeout(deadline.remaining())
            answer = parse_answer(sock.recv(_MAX_DATAGRAM), query_id, name, rtype)
            if answer is not None:
                return answer


def _ask_over_tcp(address: tuple[str, int], query: bytes, query_id: int, name: str,
                  rtype: str, deadline: Deadline) -> Answer:
    with open_connection(address[0], address[1], deadline) as sock:
        sock.sendall(struct.pack("!H", len(query)) + query)
        (length,) = struct.unpack("!H", _read_exactly(sock, 2))
        answer = parse_answer(_read_exactly(sock, length), query_id, name, rtype)
    if answer is None:
        raise MalformedAnswerError("the TCP answer is not for our question")
    return answer


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise MalformedAnswerError("connection closed in the middle of the answer")
        data += chunk
    return data


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
    if rtype not in TYPE_CODES:
        raise InputError(f"record type {rtype!r}: only A and AAAA")
    if not 1 <= port <= 65535:
        raise InputError(f"DNS server port {port}: must be from 1 to 65535")
    query_id = secrets.randbits(16)
    query = build_query(query_id, name, rtype)
    target = f"{server}/{name}"
    family = socket.AF_INET if server_ip.version == 4 else socket.AF_INET6
    address = (str(server_ip), port)
    deadline = Deadline(timeout_s)
    try:
        answer = _ask_over_udp(address, family, query, query_id, name, rtype, deadline)
        if answer.truncated:
            answer = _ask_over_tcp(address, query, query_id, name, rtype, deadline)
    except MalformedAnswerError as exc:
        return DnsResult(target, False, deadline.elapsed(), error=f"malformed answer: {exc}")
    except OSError as exc:
        return DnsResult(target, False, deadline.elapsed(),
                         error=describe_error(exc, timeout_s))
    seconds = deadline.elapsed()
    rcode = answer.rcode_name
    if rcode != "NOERROR":
        return DnsResult(target, False, seconds, rcode, answer.addresses, rcode)
    if not answer.addresses:
        return DnsResult(target, False, seconds, rcode, [], f"no {rtype} record")
    return DnsResult(target, True, seconds, rcode, answer.addresses)
