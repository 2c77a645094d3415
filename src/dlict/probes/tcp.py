"""TCP connect probe, and the deadline-bound connection the DNS and HTTP probes build on.

Every probe has one overall timeout, not one per step: the exporter runs probes in a bounded
thread pool, so a slow or dead target must give its thread back when its time is up. A
:class:`Deadline` is that point in time; a :class:`DeadlineSocket` arms its timeout to what is
left of it before every blocking read or write, so a server that trickles one byte at a time
cannot stretch a probe past its deadline. Host names are resolved in a helper thread that the
probe waits for only until the deadline (the C resolver has no timeout of ours).

Network failures never raise: they become ``up=False`` with a one-line ``error``.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

from dlict.core.errors import InputError

AddressInfo = tuple[socket.AddressFamily, int, tuple[Any, ...]]


class Deadline:
    """The moment by which every blocking step of one probe must be done."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = float(timeout_s)
        self.started = time.monotonic()
        self.end = self.started + self.timeout_s

    def remaining(self) -> float:
        """Seconds left; raises :class:`TimeoutError` when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class DeadlineSocket(socket.socket):
    """A socket whose every read and write ends by its deadline; notes its first byte read."""

    deadline: Deadline | None = None
    first_byte_at: float | None = None

    def _arm(self) -> None:
        if self.deadline is not None:
            self.settimeout(self.deadline.remaining())

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        self._arm()
        count = int(super().recv_into(*args, **kwargs))
        if count and self.first_byte_at is None:
            self.first_byte_at = time.monotonic()
        return count

    def recv(self, *args: Any, **kwargs: Any) -> bytes:
        self._arm()
        data = bytes(super().recv(*args, **kwargs))
        if data and self.first_byte_at is None:
            self.first_byte_at = time.monotonic()
        return data

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        self._arm()
        super().sendall(*args, **kwargs)


class DeadlineSSLSocket(DeadlineSocket, ssl.SSLSocket):
    """The TLS form: set as an SSLContext's ``sslsocket_class``; deadline set after wrapping."""


@dataclass
class TcpResult:
    target: str
    up: bool
    seconds: float
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "up": self.up, "seconds": self.seconds,
                "error": self.error}


def format_target(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_tcp_target(spec: str) -> tuple[str, int]:
    """Split ``host:port`` or ``[IPv6]:port``.

    Arguments:
        spec: the target as the inventory or command line gives it.

    Returns:
        The host (IPv6 without brackets) and the port.

    Raises:
        InputError: one line naming the spec when it is not a usable target.
    """
    text = spec.strip()
    usage = f"{spec!r}: expected host:port or [IPv6]:port"
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise InputError(usage)
        try:
            if ipaddress.ip_address(host.split("%", 1)[0]).version != 6:
                raise ValueError(host)
        except ValueError as exc:
            raise InputError(f"{spec!r}: {host!r} in brackets is not an IPv6 address") from exc
        port_text = rest[1:]
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon or not host:
            raise InputError(usage)
        if ":" in host:
            raise InputError(f"{spec!r}: put an IPv6 address in brackets, [{host}]:{port_text}")
        if any(c.isspace() or c in "/@[]" for c in host):
            raise InputError(f"{spec!r}: {host!r} is not a host name or address")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InputError(f"{spec!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


def describe_error(exc: BaseException, timeout_s: float) -> str:
    """One short line for a failed probe step, e.g. ``connection refused``."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {round(float(timeout_s), 3)} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP response: {type(exc).__name__} {exc}".strip()
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def resolve(host: str, port: int, deadline: Deadline) -> list[AddressInfo]:
    """Addresses for a TCP connection to ``host``, waiting for the resolver no longer than the
    deadline (an address literal needs no lookup).

    Raises:
        TimeoutError: the resolver did not answer in time.
        socket.gaierror: the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        infos = _lookup_by_deadline(host, port, deadline)
    return [(family, proto, sockaddr) for family, _type, proto, _name, sockaddr in infos]


def _lookup_by_deadline(host: str, port: int, deadline: Deadline) -> list[Any]:
    box: list[Any] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            box.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name=f"dlict-resolve-{host}", daemon=True).start()
    if not done.wait(deadline.remaining()):
        raise TimeoutError(f"resolving {host}")
    if isinstance(box[0], OSError):
        raise box[0]
    return list(box[0])


def open_connection(host: str, port: int, deadline: Deadline) -> DeadlineSocket:
    """Resolve ``host`` and connect to it, all within the deadline.

    Raises:
        OSError: (TimeoutError, ConnectionRefusedError, socket.gaierror …) the last failure.
    """
    return connect_any(resolve(host, port, deadline), deadline)


def connect_any(addresses: list[AddressInfo], deadline: Deadline) -> DeadlineSocket:
    """Connect to each address in turn until one accepts or time is up.

    Raises:
        OSError: (TimeoutError, ConnectionRefusedError …) the last failure.
    """
    failure: OSError | None = None
    for family, proto, sockaddr in addresses:
        sock = DeadlineSocket(family, socket.SOCK_STREAM, proto)
        sock.deadline = deadline
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            failure = exc
            if isinstance(exc, TimeoutError):
                break
            continue
        return sock
    raise failure or OSError("no address to connect to")


def tcp_connect(host: str, port: int, timeout_s: float) -> TcpResult:
    """Open (and close) a TCP connection to ``host:port``.

    Arguments:
        host: a name or an IPv4/IPv6 address (without brackets).
        port: the TCP port.
        timeout_s: the most the whole probe may take, name lookup included.

    Returns:
        ``up`` when the connection was accepted; ``seconds`` the time it took (or was spent
        trying), name lookup included; ``error`` one line when it failed.

    Raises:
        InputError: the port is outside 1–65535.
    """
    if not 1 <= port <= 65535:
        raise InputError(f"{format_target(host, port)}: port must be from 1 to 65535")
    deadline = Deadline(timeout_s)
    target = format_target(host, port)
    try:
        sock = open_connection(host, port, deadline)
    except OSError as exc:
        return TcpResult(target, False, deadline.elapsed(), describe_error(exc, timeout_s))
    seconds = deadline.elapsed()
    sock.close()
    return TcpResult(target, True, seconds)


def wrap_tls(sock: DeadlineSocket, context: ssl.SSLContext, host: str,
             deadline: Deadline) -> DeadlineSSLSocket:
    """Do the TLS handshake on a connected socket within the deadline."""
    context.sslsocket_class = DeadlineSSLSocket
    try:
        tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    except BaseException:
        sock.close()
        raise
    if not isinstance(tls, DeadlineSSLSocket):
        tls.close()
        raise TypeError("the TLS context did not use DeadlineSSLSocket")
    tls.deadline = deadline
    try:
        tls.settimeout(deadline.remaining())
        tls.do_handshake()
    except BaseException:
        tls.close()
        raise
    return tls


class DeadlineHTTPConnection(http.client.HTTPConnection):
    """An HTTP(S) connection whose socket, TLS or not, keeps to a deadline."""

    def __init__(self, host: str, port: int, deadline: Deadline,
                 context: ssl.SSLContext | None) -> None:
        super().__init__(host, port)
        self.deadline = deadline
        self.context = context

    def secure(self, sock: DeadlineSocket) -> DeadlineSocket:
        """The connected socket as the connection will use it: TLS when it has a context."""
        if self.context is None:
            return sock
        return wrap_tls(sock, self.context, self.host, self.deadline)
