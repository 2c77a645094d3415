"""ICMP echo to many targets through one raw socket, fping-style.

One socket for every target (no socket, thread or task per target); sends paced at a fixed
interval, round after round; replies matched by address, identifier, sequence and a payload
token, so a reply to another process or a stale round is never counted. RTTs come from the
kernel's receive timestamps (SO_TIMESTAMPNS) against the wall-clock time taken just before
each send, so work done in this process between the reply's arrival and our reading it (a
scrape, a garbage collection) does not count. Each target has its own identifier: a school
router doing NAT for several probes keeps them apart.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import time
from collections.abc import Sequence

from dlict.core.errors import InputError, OperationalError

# Linux values; the socket module does not export them.
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_TIMESPEC = struct.Struct("@qq")
_HEADER = struct.Struct("!BBHHH")
# The header, then our payload: magic, sweep token, target index, send time (ns).
_ECHO = struct.Struct("!BBHHH8sIIQ")
_MAGIC = b"dlictpr1"
SO_RCVBUFFORCE = 33
SOL_RAW, ICMP_FILTER = 255, 1  # a raw ICMP socket's filter: bit n set drops ICMP type n
ECHO_REQUEST, ECHO_REPLY = 8, 0
_ONLY_ECHO_REPLIES = struct.pack("=I", ~(1 << ECHO_REPLY) & 0xFFFFFFFF)
_RECEIVE_BUFFER = 8 << 20
_DRAIN_EVERY = 256  # sends between reads when there is no gap to wait in
MAX_COUNT = 0x10000  # the sequence number is 16 bits
# How far behind its schedule a send may be and still be made up by the next ones: a
# select() wakes some tens of microseconds late, which at sub-millisecond intervals (the
# monitor spreads a round over most of its period) would stretch a round by half.
_CATCH_UP = 0.0005


class TargetResult:
    """One target's echoes. A plain class with slots: a sweep makes tens of thousands."""

    __slots__ = ("address", "answered", "rtts_ms", "sent")

    def __init__(self, address: str, sent: int = 0, rtts_ms: list[float] | None = None) -> None:
        self.address = address
        self.sent = sent
        self.rtts_ms: list[float] = [] if rtts_ms is None else rtts_ms
        self.answered = 0  # bit n set: sequence n answered (duplicates are not counted)

    def __repr__(self) -> str:
        return f"TargetResult({self.address!r}, sent={self.sent}, rtts_ms={self.rtts_ms!r})"

    @property
    def received(self) -> int:
        return len(self.rtts_ms)

    @property
    def loss_percent(self) -> float:
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 0.0

    @property
    def min_ms(self) -> float | None:
        return min(self.rtts_ms) if self.rtts_ms else None

    @property
    def avg_ms(self) -> float | None:
        return sum(self.rtts_ms) / len(self.rtts_ms) if self.rtts_ms else None

    @property
    def max_ms(self) -> float | None:
        return max(self.rtts_ms) if self.rtts_ms else None

    @property
    def jitter_ms(self) -> float | None:
        """Mean absolute difference of consecutive RTTs (RFC 3550 style, unsmoothed)."""
        if len(self.rtts_ms) < 2:
            return None
        pairs = zip(self.rtts_ms, self.rtts_ms[1:], strict=False)
        return sum(abs(b - a) for a, b in pairs) / (len(self.rtts_ms) - 1)

    def as_dict(self) -> dict[str, object]:
        """The JSON row: seconds and ratios, the monitor's names (the text lines stay in ms,
        as fping's)."""
        return {"target": self.address, "sent": self.sent, "received": self.received,
                "loss_ratio": self.loss_percent / 100, "rtt_s": _seconds(self.avg_ms),
                "min_s": _seconds(self.min_ms), "max_s": _seconds(self.max_ms),
                "jitter_s": _seconds(self.jitter_ms)}


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(identifier: int, sequence: int, payload: bytes) -> bytes:
    header = _HEADER.pack(ECHO_REQUEST, 0, 0, identifier, sequence)
    return _HEADER.pack(ECHO_REQUEST, 0, checksum(header + payload), identifier,
                        sequence) + payload


def parse_targets(names: Sequence[str]) -> list[str]:
    """IPv4 addresses, in order, duplicates dropped; a bad one is one clear line (exit 2)."""
    seen: dict[str, None] = {}
    for name in names:
        text = name.strip()
        try:
            # Strict dotted quad (no leading zeros, no short forms): already canonical.
            socket.inet_pton(socket.AF_INET, text)
        except (OSError, ValueError):
            text = _parse_slowly(name)
        seen[text] = None
    return list(seen)


def _parse_slowly(name: str) -> str:
    import ipaddress  # only for what inet_pton refused: the exact message, IPv6 told apart

    try:
        address = ipaddress.ip_address(name.strip())
    except ValueError as exc:
        raise InputError(f"{name!r} is not an IP address") from exc
    if address.version != 4:
        raise InputError(f"{name}: only IPv4 targets so far")
    return str(address)


class Sweep:
    """Send ``count`` echoes to every target, ``interval`` apart overall (fping -i), each
    target's echoes ``period`` apart at least (fping -p); wait ``timeout`` for the last.

    Built for tens of thousands of targets in one process: the fixed part of every packet's
    checksum is summed once per target, so a send costs one ``pack`` and one ``sendto``; the
    socket's ICMP filter hands us echo replies only (not our own requests on loopback, not
    other processes' errors); with no gap to wait for, replies are read every
    ``_DRAIN_EVERY`` sends instead of before each one (their RTT comes from the kernel's
    receive time, so reading late costs nothing in accuracy). Pacing holds the average
    rate: a send up to ``_CATCH_UP`` late lets the next ones go sooner to make up.
    """

    def __init__(self, targets: Sequence[str], count: int = 1, interval_ms: float = 1.0,
                 period_ms: float = 1000.0, timeout_ms: float = 1000.0) -> None:
        if not 1 <= count <= MAX_COUNT:
            raise InputError(f"--count must be from 1 to {MAX_COUNT}, got {count}")
        if interval_ms < 0 or period_ms < 0 or timeout_ms <= 0:
            raise InputError("intervals must not be negative and the timeout must be positive")
        self.results = [TargetResult(a) for a in targets]
        self._destinations = [(a, 0) for a in targets]
        self.count = count
        self.interval = interval_ms / 1000
        self.period = period_ms / 1000
        self.timeout = timeout_ms / 1000
        self._token = int.from_bytes(os.urandom(4), "big")
        self._id_base = int.from_bytes(os.urandom(2), "big")
        self._outstanding = 0  # echoes sent and not yet answered

    def identifier(self, index: int) -> int:
        return (self._id_base + index) & 0xFFFF

    def run(self) -> list[TargetResult]:
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        except PermissionError as exc:
            raise OperationalError("raw ICMP sockets need root (or CAP_NET_RAW)") from exc
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            _receive_buffer(sock, _RECEIVE_BUFFER)
            with contextlib.suppress(OSError):  # Linux only; elsewhere _match still filters
                sock.setsockopt(SOL_RAW, ICMP_FILTER, _ONLY_ECHO_REPLIES)
            sock.setblocking(False)
            self._loop(sock)
        return self.results

    def _checksum_bases(self) -> list[int]:
        """Per target, the sum of the 16-bit words that never change between its echoes."""
        fixed = (ECHO_REQUEST << 8) + _word_sum(_MAGIC) + (self._token >> 16) + \
            (self._token & 0xFFFF)
        return [fixed + self.identifier(i) + (i >> 16) + (i & 0xFFFF)
                for i in range(len(self.results))]

    def _loop(self, sock: socket.socket) -> None:
        pack, sendto, monotonic, time_ns = _ECHO.pack, sock.sendto, time.monotonic, time.time_ns
        results, destinations = self.results, self._destinations
        bases = self._checksum_bases()
        identifiers = [self.identifier(i) for i in range(len(results))]
        token, interval = self._token, self.interval
        unread = 0
        next_send = monotonic()
        for sequence in range(self.count):
            round_started = max(next_send, monotonic())  # when its first echo goes
            for index, destination in enumerate(destinations):
                now = monotonic()
                if next_send > now:
                    self._drain(sock, until=next_send)
                    unread = 0
                elif unread >= _DRAIN_EVERY:
                    self._read_ready(sock)
                    unread = 0
                sent_ns = time_ns()
                # Ones' complement sum of the packet's words: the time's four words add up to
                # the time itself modulo 0xFFFF, so the checksum needs no loop over the bytes.
                packet = pack(ECHO_REQUEST, 0, -(bases[index] + sequence + sent_ns) % 0xFFFF,
                              identifiers[index], sequence, _MAGIC, token, index, sent_ns)
                try:
                    sendto(packet, destination)
                except BlockingIOError:
                    self._drain(sock, until=monotonic() + 0.01)
                    with contextlib.suppress(OSError):
                        sendto(packet, destination)
                except OSError:
                    pass  # unreachable network: counted as sent and lost
                results[index].sent += 1
                self._outstanding += 1
                unread += 1
                next_send = max(next_send + interval, now - _CATCH_UP)
            if sequence + 1 < self.count:
                next_send = max(next_send, round_started + self.period)
        self._drain(sock, until=monotonic() + self.timeout, stop_when_complete=True)

    def _drain(self, sock: socket.socket, until: float, stop_when_complete: bool = False) -> None:
        while True:
            if stop_when_complete and self._outstanding <= 0:
                return
            remaining = until - time.monotonic()
            if remaining <= 0:
                self._read_ready(sock)
                return
            ready, _, _ = select.select([sock], [], [], remaining)
            if ready:
                self._read_ready(sock)

    def _read_ready(self, sock: socket.socket) -> None:
        recvmsg, match = sock.recvmsg, self._match
        while True:
            try:
                data, ancillary, _flags, source = recvmsg(2048, 64)
            except BlockingIOError:
                return
            match(data, source[0], _kernel_time_ns(ancillary))

    def _match(self, data: bytes, source: str, received_ns: int) -> None:
        header_length = (data[0] & 0x0F) * 4
        if len(data) - header_length < _ECHO.size:
            return
        kind, _code, _sum, _identifier, sequence, magic, token, index, sent_ns = \
            _ECHO.unpack_from(data, header_length)
        if kind != ECHO_REPLY or magic != _MAGIC or token != self._token or \
                index >= len(self.results):
            return
        result = self.results[index]
        # A router doing NAT may rewrite the identifier; the address and token still match.
        if source != result.address or result.answered >> sequence & 1 or sequence >= result.sent:
            return
        result.answered |= 1 << sequence
        result.rtts_ms.append(max(0.0, (received_ns - sent_ns) / 1e6))
        self._outstanding -= 1


def _word_sum(data: bytes) -> int:
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def _receive_buffer(sock: socket.socket, size: int) -> None:
    """Ask for ``size`` bytes of receive buffer; as root past net.core.rmem_max, so a burst
    of replies from tens of thousands of targets is not dropped while we are sending."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _kernel_time_ns(ancillary: list[tuple[int, int, bytes]]) -> int:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and \
                len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return int(seconds) * 1_000_000_000 + int(nanoseconds)
    return time.time_ns()


def fping_line(result: TargetResult) -> str:
    """``127.0.0.1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.03/0.04/0.05`` like fping -q."""
    return fping_lines([result]).rstrip("\n")


def fping_lines(results: Sequence[TargetResult]) -> str:
    """Every result's fping line, newline-terminated, in one string (tens of thousands)."""
    out: list[str] = []
    append = out.append
    for result in results:
        rtts, sent = result.rtts_ms, result.sent
        received = len(rtts)
        head = f"{result.address:15} : xmt/rcv/%loss = {sent}/{received}/" \
               f"{100 * (sent - received) / sent if sent else 0.0:.0f}%"
        if received:
            append(f"{head}, min/avg/max = {min(rtts):.3f}/{sum(rtts) / received:.3f}/"
                   f"{max(rtts):.3f}\n")
        else:
            append(f"{head}\n")
    return "".join(out)
