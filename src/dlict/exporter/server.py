"""The exporter's HTTP server: /metrics, /healthz and a small landing page."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
import ssl
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TypeVar

from loguru import logger

from dlict.core.errors import InputError, OperationalError
from dlict.core.promtext import CONTENT_TYPE
from dlict.exporter.basic_auth import Verdict
from dlict.exporter.connections import ConnectionGuard, OncePer, ServerLimits
from dlict.exporter.state import MonitorState
from dlict.exporter.webconfig import WebConfig

if TYPE_CHECKING:  # the exposition needs prometheus_client (the monitor extra)
    from dlict.exporter.exposition import Exposition

DEFAULT_LISTEN = "127.0.0.1:9310"
_SWEEP_S = 0.25  # how often connections overdue with their request are looked for
_LANDING = (b"<html><head><title>dlict monitor</title></head><body><h1>dlict monitor</h1>"
            b"<p><a href=\"/metrics\">/metrics</a> &middot; <a href=\"/healthz\">/healthz</a>"
            b"</p></body></html>")


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InputError(f"--listen '{value}': give ADDRESS:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - only when asked for


def is_loopback(host: str) -> bool:
    """True for an address (or the name localhost) that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # any other name may resolve to anything
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def unprotected(listen: str, web: WebConfig) -> str | None:
    """What ``web`` lacks to serve on ``listen`` safely: None on loopback, or with TLS and a
    client authentication (basic auth, or client certificates TLS verifies)."""
    host, _port = parse_listen(listen)
    if is_loopback(host):
        return None
    missing = []
    if web.tls is None:
        missing.append("TLS (tls_server_config)")
    if web.auth is None and not web.client_certs_verified:
        missing.append("authentication (basic_auth_users)")
    return " and ".join(missing) or None


def _client_gone(error: BaseException | None) -> bool:
    if isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
        return True
    return isinstance(error, OSError) and error.errno in (errno.ENOTCONN, errno.EBADF)


class Health:
    """Healthy while ICMP cycles keep finishing; the allowance is three cycles."""

    def __init__(self, state: MonitorState, cycle_s: float, has_targets: bool,
                 worker_error: Any) -> None:
        self.state = state
        self.allowance = 3 * cycle_s
        self.has_targets = has_targets
        self.started = time.time()
        self.worker_error = worker_error

    def report(self) -> tuple[int, dict[str, Any]]:
        error = self.worker_error()
        if error:
            return 503, {"status": "failing", "reason": error}
        last = self.state.last_cycle
        now = time.time()
        if not self.has_targets:
            return 200, {"status": "ok", "icmp_targets": 0}
        if last is None:
            if now - self.started > self.allowance:
                return 503, {"status": "failing", "reason": "no ICMP cycle has finished"}
            return 200, {"status": "starting"}
        age = now - last
        if age > self.allowance:
            return 503, {"status": "failing", "reason": f"last ICMP cycle {age:.0f} s ago"}
        return 200, {"status": "ok", "last_cycle_age_seconds": round(age, 3)}


class GuardedServer(ThreadingHTTPServer):
    """A thread per connection, with the connections bounded by a ``ConnectionGuard``: how
    many at once and how long a client may take to ask (the monitor's and the intake's)."""

    daemon_threads = True
    request_queue_size = 256  # a burst of connections waits to be accepted, not refused
    guard: ConnectionGuard
    name = "dlict monitor"  # in log lines

    def __init__(self, address: tuple[str, int], limits: ServerLimits,
                 handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.guard = ConnectionGuard(limits)
        self._next_sweep = 0.0
        self._warn_descriptors = OncePer(60, time.monotonic)
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                self._out_of_descriptors()
            raise  # socketserver drops the failed accept and goes on

    def _out_of_descriptors(self) -> None:
        # the listening socket stays readable: without a pause this would spin on accept()
        if self._warn_descriptors.due():
            logger.warning("{}: out of file descriptors; closing the connection "
                           "that waited longest for a request", self.name)
        if not self.guard.make_room():
            time.sleep(0.1)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return self.guard.admit(request)

    def shutdown_request(self, request: Any) -> None:
        self.guard.release(request)
        super().shutdown_request(request)

    def service_actions(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + _SWEEP_S
            self.guard.close_overdue()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if _client_gone(error):
            logger.debug("{}: {} left early: {}", self.name, client_address[0], error)
        else:
            logger.error("{}: answering {} failed: {}: {}", self.name, client_address[0],
                         type(error).__name__, error)


class GuardedHandler(BaseHTTPRequestHandler):
    """Tells the server's guard when the connection waits for a request and when it answers."""

    server: GuardedServer
    protocol_version = "HTTP/1.1"
    _first = True

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.guard.limits.idle_timeout_s)  # any read or write

    def handle_one_request(self) -> None:
        self.server.guard.waiting(self.connection, first=self._first)
        self._first = False
        super().handle_one_request()

    def parse_request(self) -> bool:
        understood = super().parse_request()  # reads the headers too
        self.server.guard.answering(self.connection)
        return understood

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes every 15 s are not news

    def send_answer(self, status: int, body: bytes, content_type: str,
                    headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(GuardedServer):
    exposition: Exposition
    web: WebConfig
    health: Health

    def __init__(self, address: tuple[str, int], limits: ServerLimits) -> None:
        super().__init__(address, limits, _Handler)


class _Handler(GuardedHandler):
    server: _Server

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        verdict = self.server.web.check(self.headers.get("Authorization"),
                                        str(self.client_address[0]))
        if verdict is Verdict.THROTTLED:
            self.send_answer(429, b"Too Many Requests\n", "text/plain; charset=utf-8",
                       {"Retry-After": "1"})
            return
        if verdict is not Verdict.ALLOWED:
            self.send_answer(401, b"Unauthorized\n", "text/plain; charset=utf-8",
                       {"WWW-Authenticate": 'Basic realm="dlict"'})
            return
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            compressed = "gzip" in (self.headers.get("Accept-Encoding") or "")
            body = self.server.exposition.body(compressed)
            self.send_answer(200, body, CONTENT_TYPE,
                       {"Content-Encoding": "gzip"} if compressed else None)
        elif path == "/healthz":
            status, report = self.server.health.report()
            self.send_answer(status, json.dumps(report).encode() + b"\n", "application/json")
        elif path == "/":
            self.send_answer(200, _LANDING, "text/html; charset=utf-8")
        else:
            self.send_answer(404, b"Not Found\n", "text/plain; charset=utf-8")


_S = TypeVar("_S", bound=GuardedServer)


def bind(make: Callable[[tuple[str, int], ServerLimits], _S], listen: str,
         limits: ServerLimits) -> _S:
    """The server ``make`` builds, listening on ``listen`` (ADDRESS:PORT).

    Raises:
        InputError: ``listen`` is not ADDRESS:PORT.
        OperationalError: the address cannot be listened on (taken, not ours).
    """
    host, port = parse_listen(listen)
    try:
        return make((host, port), limits)
    except OSError as exc:
        raise OperationalError(f"cannot listen on {listen}: {exc.strerror}") from exc


def make_server(listen: str, exposition: Exposition, web: WebConfig, health: Health,
                limits: ServerLimits | None = None) -> ThreadingHTTPServer:
    server = bind(_Server, listen, limits or ServerLimits())
    if web.tls is not None:
        server.socket = web.tls.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
    server.exposition = exposition
    server.web = web
    server.health = health
    return server
