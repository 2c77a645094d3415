"""How many connections the exporter holds and how long a client may take to ask.

Each connection has a thread; a client that connects and sends nothing, or one byte every few
seconds (slowloris), would keep its thread and file descriptor for ever, and enough of them
exhaust the process. So a connection waiting for a request — the first one, or the next on a
kept-alive connection — is closed when its time is up, whether bytes trickle in or not; and
at the cap, the connection that has waited longest for a request makes room for the newcomer
(nginx reuses idle keep-alive connections the same way), so a flood of idle connections
cannot lock a scraper out. Connections busy answering are never cut for it; when every
connection is busy, a newcomer is closed at once.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger

DESCRIPTORS_KEPT = 64  # for everything else the monitor opens: probes, checks, logs


@dataclass(frozen=True)
class ServerLimits:
    """``max_connections`` at once; ``request_timeout_s`` to send a whole request after
    connecting; three times that to send the next one on a kept-alive connection, or to take
    any single read or write of a response."""

    max_connections: int = 64
    request_timeout_s: float = 10.0

    @property
    def idle_timeout_s(self) -> float:
        return 3 * self.request_timeout_s


def connection_cap(wanted: int) -> int:
    """``wanted``, or less when the file-descriptor limit would be reached first."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, (soft - DESCRIPTORS_KEPT) // 2))


@dataclass
class _Connection:
    waiting_since: float | None  # None while a request is being answered
    deadline: float


class OncePer:
    """True at most once per ``period_s``: a warning under a flood is said once a minute."""

    def __init__(self, period_s: float, clock: Callable[[], float]) -> None:
        self.period_s = period_s
        self.clock = clock
        self.last = float("-inf")

    def due(self) -> bool:
        now = self.clock()
        if now - self.last < self.period_s:
            return False
        self.last = now
        return True


class ConnectionGuard:
    """The exporter's open connections, each waiting for a request or answering one."""

    def __init__(self, limits: ServerLimits, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.limits = limits
        self.cap = connection_cap(limits.max_connections)
        self.clock = clock
        self._open: dict[socket.socket, _Connection] = {}
        self._lock = threading.Lock()
        self._warn_full = OncePer(60, clock)

    def admit(self, sock: socket.socket) -> bool:
        """Take a new connection, if need be in the place of the one that has waited longest
        for a request; False when every connection is busy answering."""
        now = self.clock()
        with self._lock:
            if len(self._open) >= self.cap and not self._evict_longest_waiting():
                full = True
            else:
                full = False
                self._open[sock] = _Connection(now, now + self.limits.request_timeout_s)
        if full and self._warn_full.due():
            logger.warning("dlict monitor: all {} connections are busy answering; new "
                           "connections are closed until one is free", self.cap)
        return not full

    def waiting(self, sock: socket.socket, first: bool) -> None:
        """The connection now waits for a request (the first or the next)."""
        now = self.clock()
        allowed = self.limits.request_timeout_s if first else self.limits.idle_timeout_s
        with self._lock:
            entry = self._open.get(sock)
            if entry is not None:
                entry.waiting_since, entry.deadline = now, now + allowed

    def answering(self, sock: socket.socket) -> None:
        """The whole request has arrived; the connection is no longer cut for being slow."""
        with self._lock:
            entry = self._open.get(sock)
            if entry is not None:
                entry.waiting_since = None

    def release(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.pop(sock, None)

    def close_overdue(self) -> int:
        """Close every connection whose time to send a request is up; how many."""
        now = self.clock()
        with self._lock:
            overdue = [sock for sock, entry in self._open.items()
                       if entry.waiting_since is not None and entry.deadline <= now]
            for sock in overdue:
                del self._open[sock]
                _cut(sock)
        return len(overdue)

    def make_room(self) -> bool:
        """Close the connection that has waited longest for a request (descriptors ran out)."""
        with self._lock:
            return self._evict_longest_waiting()

    def _evict_longest_waiting(self) -> bool:
        waiting = {sock: entry.waiting_since for sock, entry in self._open.items()
                   if entry.waiting_since is not None}
        if not waiting:
            return False
        longest = min(waiting, key=waiting.__getitem__)
        del self._open[longest]
        _cut(longest)
        return True


def _cut(sock: socket.socket) -> None:
    """Wake the connection's thread from its read: it sees the end of the stream and ends.
    (The plain socket's shutdown, also under TLS: the TLS one would drop its state under the
    reading thread's feet.)"""
    with contextlib.suppress(OSError):  # already gone
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
