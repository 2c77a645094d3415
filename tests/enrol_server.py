"""A tiny HTTPS server on 127.0.0.1 that mounts the enrolment CA's handlers, for tests.

The intake helper builds the real server (``dlict.intake.server``) in parallel; this one does
only what enrolment and identification need, through the same public functions it mounts:
``server_context`` for TLS, ``handle_ca`` at ``/v1/ca``, ``handle_enroll`` at ``/v1/enroll``,
and ``GET /whoami``, which answers what ``identify`` makes of the client certificate (the seam
``/v1/batch`` uses). Each TLS handshake runs in the connection's own thread, so a failed one is
recorded in ``handshake_failures`` and never stops the server.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dlict.agent.config import AgentConfig
from dlict.agent.wire import CA_PATH, ENROLL_PATH
from dlict.core.store import AgentCertRecord, EvidenceStore
from dlict.intake.ca import CaFiles, Refused, identify, init_ca, issue_token, server_context
from dlict.intake.enroll import MAX_BODY_BYTES, handle_ca, handle_enroll

WHOAMI_PATH = "/whoami"


@dataclass
class Seen:
    requests: list[str] = field(default_factory=list)
    handshake_failures: list[str] = field(default_factory=list)

    def first_handshake_failure(self, timeout_s: float = 10) -> str:
        """The server's side of a failed handshake, which it may note after the client's."""
        deadline = time.monotonic() + timeout_s
        while not self.handshake_failures and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.handshake_failures[0] if self.handshake_failures else ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: CaFiles, store_path: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = files
        self.store_path = store_path
        self.tls = server_context(files)
        self.seen = Seen()

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.seen.handshake_failures.append(str(exc))
            return
        self.RequestHandlerClass(connection, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.requests.append(f"GET {self.path}")
        if self.path == CA_PATH:
            self._answer(*handle_ca(self.server.files))
        elif self.path == WHOAMI_PATH:
            self._answer(*self._whoami())
        else:
            self._answer(404, b"{}")

    def do_POST(self) -> None:
        self.server.seen.requests.append(f"POST {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != ENROLL_PATH:
            self._answer(404, b"{}")
            return
        body = self.rfile.read(min(length, MAX_BODY_BYTES + 1))
        with EvidenceStore.open(self.server.store_path) as store:
            self._answer(*handle_enroll(store, self.server.files, body))

    def _whoami(self) -> tuple[int, bytes]:
        assert isinstance(self.connection, ssl.SSLSocket)
        der = self.connection.getpeercert(binary_form=True)
        with EvidenceStore.open(self.server.store_path) as store:
            try:
                who = identify(store, der)
            except Refused as exc:
                return 403, json.dumps({"error": str(exc)}).encode()
        return 200, json.dumps({"site": who.site, "host": who.host,
                                "serial": who.serial}).encode()

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


@dataclass
class RunningServer:
    url: str
    port: int
    seen: Seen


@contextmanager
def enrol_server(files: CaFiles, store_path: Path) -> Iterator[RunningServer]:
    """The server, listening on 127.0.0.1 on a free port, stopped on the way out."""
    server = _Server(files, store_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield RunningServer(f"https://127.0.0.1:{port}", port, server.seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def whoami(port: int, context: ssl.SSLContext) -> tuple[int, dict[str, Any]]:
    """``GET /whoami`` over a real TLS connection made with ``context``.

    Raises:
        ssl.SSLError, OSError: the handshake (or the first read after it) failed.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(f"GET {WHOAMI_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head else 0
    return status, json.loads(body) if body else {}


@dataclass
class Office:
    """An office with its enrolment CA (``init_ca``) and evidence store, in ``data_dir``."""

    data_dir: Path
    files: CaFiles

    @classmethod
    def make(cls, data_dir: Path) -> Office:
        return cls(data_dir, init_ca(data_dir, names=["intake.test"]))

    @property
    def store_path(self) -> Path:
        return self.data_dir / "evidence.sqlite"

    def token(self, site: str, host: str, ttl: timedelta = timedelta(hours=1)) -> str:
        with EvidenceStore.open(self.store_path) as store:
            return issue_token(store, self.files, site, host, ttl)

    def issued(self) -> list[AgentCertRecord]:
        with EvidenceStore.open(self.store_path) as store:
            return store.agent_certs()


def agent_config(url: str, site: str, host: str, state_dir: Path) -> AgentConfig:
    return AgentConfig.model_validate({"site": site, "host": host, "office": url,
                                       "state_dir": state_dir, "push": {"timeout_s": 10}})


def files_under(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` and its bytes (nothing if it does not exist)."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}
