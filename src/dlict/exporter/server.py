"""The exporter's HTTP server: /metrics, /healthz and a small landing page."""

from __future__ import annotations

import json
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dlict.core.errors import InputError, OperationalError
from dlict.exporter.exposition import CONTENT_TYPE, Exposition
from dlict.exporter.state import MonitorState
from dlict.exporter.webconfig import WebConfig

DEFAULT_LISTEN = "127.0.0.1:9310"
_LANDING = (b"<html><head><title>dlict monitor</title></head><body><h1>dlict monitor</h1>"
            b"<p><a href=\"/metrics\">/metrics</a> &middot; <a href=\"/healthz\">/healthz</a>"
            b"</p></body></html>")


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InputError(f"--listen '{value}': give ADDRESS:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - only when asked for


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    exposition: Exposition
    web: WebConfig
    health: Health


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes every 15 s are not news

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self.server.web.authorised(self.headers.get("Authorization")):
            self._send(401, b"Unauthorized\n", "text/plain; charset=utf-8",
                       {"WWW-Authenticate": 'Basic realm="dlict"'})
            return
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            compressed = "gzip" in (self.headers.get("Accept-Encoding") or "")
            body = self.server.exposition.body(compressed)
            self._send(200, body, CONTENT_TYPE,
                       {"Content-Encoding": "gzip"} if compressed else None)
        elif path == "/healthz":
            status, report = self.server.health.report()
            self._send(status, json.dumps(report).encode() + b"\n", "application/json")
        elif path == "/":
            self._send(200, _LANDING, "text/html; charset=utf-8")
        else:
            self._send(404, b"Not Found\n", "text/plain; charset=utf-8")


def make_server(listen: str, exposition: Exposition, web: WebConfig,
                health: Health) -> ThreadingHTTPServer:
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(_Server):
        address_family = family

    try:
        server = Server((host, port), _Handler)
    except OSError as exc:
        raise OperationalError(f"cannot listen on {listen}: {exc.strerror}") from exc
    if web.tls is not None:
        server.socket = web.tls.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
    server.exposition = exposition
    server.web = web
    server.health = health
    return server
