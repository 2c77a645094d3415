"""A stand-in web server on 127.0.0.1 for tests: a request handler served in a thread.

Tests that need a loopback HTTP answer (a Prometheus API, a school's site, a hostile server)
write only their handler, a :class:`QuietHandler` that answers with :meth:`send_body` or
:meth:`send_json`, and serve it with :func:`serving`, which stops it whatever happens.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps pytest's output clean and answers in one call."""

    def log_message(self, format: str, *args: object) -> None:
        return

    def send_body(self, body: bytes, status: int = 200, content_type: str | None = None,
                  **headers: str) -> None:
        """Status, ``Content-Length`` (and type), ``headers`` (``Last_Modified`` is sent as
        ``Last-Modified``), then ``body``."""
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, data: object, status: int = 200) -> None:
        self.send_body(json.dumps(data).encode(), status, "application/json")


@dataclass(frozen=True)
class Served:
    port: int
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler],
            tls: ssl.SSLContext | None = None) -> Iterator[Served]:
    """``handler`` answering on a free loopback port (over TLS with ``tls``) until the block
    ends; the server is shut down and its socket closed even when the block fails."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(server.server_address[1], "https" if tls is not None else "http")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
