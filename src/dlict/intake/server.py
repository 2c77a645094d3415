"""The office's intake: HTTPS for the agents (CA, enrolment, batches) and plain HTTP /metrics
on loopback for Prometheus.

Always TLS: the server context comes from the district CA (``dlict.intake.ca``), which also
verifies an agent's client certificate when one is presented. ``/v1/ca`` and ``/v1/enroll``
need none (an agent has none before it enrols); ``/v1/batch`` refuses a request without one.
The connections are bounded as the monitor's are (``dlict.exporter.server``: a cap, time
limits to ask), a body is read only up to ``MAX_BATCH_BYTES`` and at no less than
``MIN_BODY_RATE`` bytes a second, and decoding has its own limits (``dlict.agent.wire``).

One thread owns the evidence store (``StoreWorker``): SQLite takes one writer at a time
anyway, and each batch is one transaction there, so a batch is stored whole or not at all,
whatever happens to the connection or the process.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from loguru import logger

from dlict.agent.wire import BATCH_PATH, CA_PATH, ENROLL_PATH, MAX_BATCH_BYTES, decode_batch
from dlict.core.clock import utc_now
from dlict.core.errors import DlictError, InputError, StoreError
from dlict.core.promtext import CONTENT_TYPE
from dlict.core.store import EvidenceStore
from dlict.exporter.connections import ServerLimits
from dlict.exporter.server import GuardedHandler, GuardedServer, bind, is_loopback, parse_listen
from dlict.intake.ca import CaFiles, Refused, identify, server_context
from dlict.intake.enroll import handle_enroll
from dlict.intake.ingest import RUN_KIND, ingest
from dlict.intake.metrics import render
from dlict.runs import raise_incidents

if TYPE_CHECKING:
    from dlict.inventory.models import Inventory

DEFAULT_LISTEN = "127.0.0.1:8443"
DEFAULT_METRICS_LISTEN = "127.0.0.1:9479"
MAX_ENROLL_BYTES = 64 * 1024
MIN_BODY_RATE = 16 * 1024  # bytes a second: a school's thin uplink, not a slow drip
# Batches read, decoded and stored at once. Each may hold its body (8 MB), its inflated text
# (64 MB) and its records in memory; more at once would not go faster (one store writer, the
# GIL), so the rest wait for a slot and are told to come back if none frees up in time.
BATCHES_AT_ONCE = 4
_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"

_T = TypeVar("_T")


class StoreWorker:
    """The one thread that opens and writes the evidence store; others hand it work."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: EvidenceStore | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dlict-intake-store")

    def call(self, work: Callable[[EvidenceStore], _T]) -> _T:
        """``work(store)`` on the store's thread; its answer, or its exception."""
        return self._pool.submit(self._run, work).result()

    def _run(self, work: Callable[[EvidenceStore], _T]) -> _T:
        if self._store is None:
            self._store = EvidenceStore.open(self.path)
        return work(self._store)

    def close(self) -> None:
        def close_store() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._pool.submit(close_store).result()
        self._pool.shutdown()


@dataclass
class Intake:
    """What the routes do, apart from HTTP: each answer is (status, body, content type)."""

    worker: StoreWorker
    files: CaFiles
    ca_pem: bytes
    clock: Callable[[], datetime] = field(default=utc_now)
    #: the district's inventory, whose ``dlict_incidents`` says which agent findings raise an
    #: incident case (None: the defaults)
    district: Inventory | None = None

    def batch(self, client_der: bytes, body: bytes) -> tuple[int, bytes, str]:
        received = self.clock()
        identity = self.worker.call(lambda store: identify(store, client_der))
        header, records = decode_batch(body)
        done = self.worker.call(lambda store: ingest(store, identity, header, records,
                                                     now=received))
        if done.run_id is not None:
            run_id = done.run_id
            self.worker.call(lambda store: raise_incidents(
                store, RUN_KIND, run_id, done.results, lambda: self.district))
        return 200, json.dumps({"accepted": done.accepted,
                                "duplicates": done.duplicates}).encode(), _JSON

    def enroll(self, body: bytes) -> tuple[int, bytes, str]:
        status, answer = self.worker.call(lambda store: handle_enroll(store, self.files, body))
        return status, answer, _JSON

    def metrics(self) -> bytes:
        now = self.clock()
        return self.worker.call(lambda store: render(store, now)).encode()


class _AgentServer(GuardedServer):
    name = "dlict intake"
    intake: Intake
    slots: threading.BoundedSemaphore


class _MetricsServer(GuardedServer):
    name = "dlict intake /metrics"
    intake: Intake


def one_line(status: int, text: str) -> tuple[int, bytes, str]:
    return status, (" ".join(text.split()) + "\n").encode(), _TEXT


def answer_for(error: Exception) -> tuple[int, bytes, str]:
    """The HTTP answer for what went wrong with a request: one line, never a traceback."""
    if isinstance(error, Refused):
        logger.warning("dlict intake: refused: {}", error)
        return one_line(403, str(error))
    if isinstance(error, InputError):
        return one_line(400, str(error))
    if isinstance(error, StoreError):
        logger.error("dlict intake: {}", error)
        return one_line(503, "the office cannot store batches just now; send it again later")
    if isinstance(error, DlictError):
        return one_line(503, str(error))
    logger.opt(exception=error).error("dlict intake: internal error: {!r}", error)
    return one_line(500, "internal error of the intake; the batch was not stored")


class BodyHandler(GuardedHandler):
    """A handler that reads a request body of announced size, within a size limit and at no
    less than ``MIN_BODY_RATE`` bytes a second (the agents' batches, Alertmanager's webhooks)."""

    def _finish(self, status: int, body: bytes, content_type: str,
                headers: dict[str, str] | None = None) -> None:
        """Answer and close: the rest of the request (if any) is not read."""
        self.close_connection = True
        self.send_answer(status, body, content_type, {"Connection": "close", **(headers or {})})

    def _length(self, limit: int) -> int | None:
        """The announced body size, or None once a refusal has been answered."""
        length = self.headers.get("Content-Length", "")
        if self.headers.get("Transfer-Encoding") or not length.isdigit():
            self._finish(*one_line(411, "send the body with a Content-Length"))
            return None
        if len(length) > 18 or int(length) > limit:
            shown = length if len(length) <= 18 else "too many"
            self._finish(*one_line(413, f"{shown} bytes; at most {limit} are taken"))
            return None
        return int(length)

    def _read(self, size: int) -> bytes | None:
        allowed = self.server.guard.limits.request_timeout_s + size / MIN_BODY_RATE
        deadline = time.monotonic() + allowed
        chunks: list[bytes] = []
        left = size
        while left:
            if time.monotonic() > deadline:
                logger.info("{}: {} took longer than {:.0f} s to send {} bytes", self.server.name,
                            self.client_address[0], allowed, size)
                return None
            chunk = self.rfile.read1(min(left, 256 * 1024))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class _AgentHandler(BodyHandler):
    server: _AgentServer

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        if self.path.split("?", 1)[0] == CA_PATH:
            self.send_answer(200, self.server.intake.ca_pem, "application/x-pem-file")
        else:
            self.send_answer(404, b"Not Found\n", _TEXT)

    def do_POST(self) -> None:  # noqa: N802 - http.server names it
        path = self.path.split("?", 1)[0]
        limits = {BATCH_PATH: MAX_BATCH_BYTES, ENROLL_PATH: MAX_ENROLL_BYTES}
        if path not in limits:
            self._finish(404, b"Not Found\n", _TEXT)
            return
        size = self._length(limits[path])
        if size is None:
            return
        client_der = self.connection.getpeercert(binary_form=True)
        if path == BATCH_PATH and client_der is None:
            self._finish(*one_line(401, "a batch needs the agent's client certificate: enrol "
                                    "the agent first"))
            return
        slots = self.server.slots
        if not slots.acquire(timeout=self.server.guard.limits.request_timeout_s):
            self._finish(*one_line(503, "the intake is busy with other batches; send it "
                                    "again later"), {"Retry-After": "10"})
            return
        try:
            answer = self._answer(path, size, client_der)
        finally:
            slots.release()
        if answer is not None:
            self.send_answer(*answer)

    def _answer(self, path: str, size: int, client_der: bytes | None
                ) -> tuple[int, bytes, str] | None:
        body = self._read(size)
        if body is None:
            self.close_connection = True  # the client is gone or too slow: nothing to answer
            return None
        intake = self.server.intake
        try:
            if path == BATCH_PATH and client_der is not None:
                return intake.batch(client_der, body)
            return intake.enroll(body)
        except Exception as exc:  # every failure is an answer; the server goes on
            return answer_for(exc)

class _MetricsHandler(GuardedHandler):
    server: _MetricsServer

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_answer(404, b"Not Found\n", _TEXT)
            return
        try:
            self.send_answer(200, self.server.intake.metrics(), CONTENT_TYPE)
        except Exception as exc:  # a scrape gets a status, the server goes on
            self.send_answer(*answer_for(exc))

    def do_HEAD(self) -> None:  # noqa: N802 - http.server names it
        self.do_GET()


def _agent_server(address: tuple[str, int], limits: ServerLimits) -> _AgentServer:
    return _AgentServer(address, limits, _AgentHandler)


def _metrics_server(address: tuple[str, int], limits: ServerLimits) -> _MetricsServer:
    return _MetricsServer(address, limits, _MetricsHandler)


def check_metrics_listen(listen: str) -> None:
    """/metrics is plain HTTP and shows every school's agent: loopback only.

    Raises:
        InputError: ``listen`` is not ADDRESS:PORT or not a loopback address.
    """
    host, _port = parse_listen(listen)
    if not is_loopback(host):
        raise InputError(f"--metrics-listen {listen}: /metrics is plain HTTP and shows every "
                         "school's agent; give a loopback address (Prometheus on this "
                         "machine scrapes it)")


@dataclass
class IntakeServers:
    """The two listening servers, serving on their own threads once ``start`` is called."""

    agents: _AgentServer
    metrics: _MetricsServer
    worker: StoreWorker
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def agent_port(self) -> int:
        return int(self.agents.server_address[1])

    @property
    def metrics_port(self) -> int:
        return int(self.metrics.server_address[1])

    def start(self) -> None:
        for name, server in (("dlict-intake", self.agents), ("dlict-intake-metrics",
                                                             self.metrics)):
            thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in (self.agents, self.metrics):
            if self._threads:
                server.shutdown()
            server.server_close()
        self.worker.close()


def make_servers(store_path: Path, files: CaFiles, *, listen: str = DEFAULT_LISTEN,
                 metrics_listen: str = DEFAULT_METRICS_LISTEN,
                 limits: ServerLimits | None = None,
                 district: Inventory | None = None) -> IntakeServers:
    """Bind both servers (not serving yet); the store is opened and the CA read first, so a
    bad store or a missing CA is one line before anything listens.

    Raises:
        InputError: a listen address is wrong, or there is no district CA yet.
        StoreError: the evidence store cannot be opened.
        OperationalError: an address cannot be listened on.
    """
    check_metrics_listen(listen=metrics_listen)
    parse_listen(listen)
    context = server_context(files)
    ca_pem = files.ca_cert.read_bytes()
    worker = StoreWorker(store_path)
    try:
        worker.call(lambda store: store.schema_version)
        limits = limits or ServerLimits()
        agents = bind(_agent_server, listen, limits)
        try:
            metrics = bind(_metrics_server, metrics_listen, limits)
        except BaseException:
            agents.server_close()
            raise
    except BaseException:
        worker.close()
        raise
    agents.socket = context.wrap_socket(agents.socket, server_side=True,
                                        do_handshake_on_connect=False)
    intake = Intake(worker, files, ca_pem, district=district)
    agents.intake = metrics.intake = intake
    agents.slots = threading.BoundedSemaphore(BATCHES_AT_ONCE)
    return IntakeServers(agents, metrics, worker)


def describe(listen: str, metrics_listen: str) -> str:
    """The line the command logs when it starts serving."""
    host, _port = parse_listen(listen)
    reach = ("loopback only" if is_loopback(host)
             else "reachable beyond this machine; agents need their client certificates")
    return (f"dlict intake: serving agents on https://{listen} (TLS always; {reach}) and "
            f"/metrics on http://{metrics_listen}")

