"""``dlict incident intake``'s HTTP server: Alertmanager's webhooks at POST /alerts, the
case metrics at GET /metrics.

Built like the agents' intake (``dlict.intake.server``): connections bounded by the monitor's
guard, a body read only up to :data:`~dlict.incidents.webhook.MAX_WEBHOOK_BYTES` and at a
minimum rate, one thread owning the evidence store. A notification is parsed whole before
anything is written: a malformed one is answered 400 with one line and changes nothing.
Beyond loopback the server needs TLS and authentication from a ``--web-config`` file (the
exporter-toolkit format the monitor reads; Alertmanager's ``http_config`` sends both).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger

from dlict.core.errors import InputError
from dlict.core.promtext import CONTENT_TYPE
from dlict.core.store import EvidenceStore
from dlict.exporter.basic_auth import Verdict
from dlict.exporter.connections import ServerLimits
from dlict.exporter.server import GuardedServer, bind, unprotected
from dlict.exporter.webconfig import WebConfig
from dlict.incidents.cases import CaseBook
from dlict.incidents.intake import Received, receive
from dlict.incidents.webhook import MAX_WEBHOOK_BYTES, parse_notification
from dlict.intake.server import BodyHandler, StoreWorker, answer_for
from dlict.inventory.models import Inventory

DEFAULT_LISTEN = "127.0.0.1:9311"
ALERTS_PATH = "/alerts"
_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"

ACTOR = "alertmanager"
MetricsRenderer = Callable[[], bytes]  # the /metrics text, read at scrape time


@dataclass
class AlertReceiver:
    """What the routes do, apart from HTTP: each answer is (status, body, content type)."""

    worker: StoreWorker
    inventory: Inventory | None
    metrics_text: MetricsRenderer

    def alerts(self, body: bytes) -> tuple[int, bytes, str]:
        notification = parse_notification(body)  # before the store is touched

        def store_it(store: EvidenceStore) -> Received:
            book = CaseBook(store, self.inventory, actor=ACTOR)
            return receive(book, notification, self.inventory)

        done = self.worker.call(store_it)
        if done.opened:
            logger.info("dlict incident intake: {} opened for {}", done.case_id,
                        notification.group_key)
        return 200, json.dumps({"case": done.case_id, "opened": done.opened,
                                "added": done.added, "repeats": done.repeats}).encode(), _JSON

    def metrics(self) -> bytes:
        return self.metrics_text()  # the collector opens the store itself, on this thread


class _Server(GuardedServer):
    name = "dlict incident intake"
    receiver: AlertReceiver
    web: WebConfig


class _Handler(BodyHandler):
    server: _Server

    def _allowed(self) -> bool:
        verdict = self.server.web.check(self.headers.get("Authorization"),
                                        str(self.client_address[0]))
        if verdict is Verdict.ALLOWED:
            return True
        if verdict is Verdict.THROTTLED:
            self._finish(429, b"Too Many Requests\n", _TEXT, {"Retry-After": "1"})
        else:
            self._finish(401, b"Unauthorized\n", _TEXT,
                         {"WWW-Authenticate": 'Basic realm="dlict"'})
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        if not self._allowed():
            return
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_answer(404, b"Not Found\n", _TEXT)
            return
        try:
            self.send_answer(200, self.server.receiver.metrics(), CONTENT_TYPE)
        except Exception as exc:  # a scrape gets a status, the server goes on
            self.send_answer(*answer_for(exc))

    def do_HEAD(self) -> None:  # noqa: N802 - http.server names it
        self.do_GET()

    def do_POST(self) -> None:  # noqa: N802 - http.server names it
        if not self._allowed():
            return
        if self.path.split("?", 1)[0] != ALERTS_PATH:
            self._finish(404, b"Not Found\n", _TEXT)
            return
        size = self._length(MAX_WEBHOOK_BYTES)
        if size is None:
            return
        body = self._read(size)
        if body is None:
            self.close_connection = True  # the client is gone or too slow: nothing to answer
            return
        try:
            answer = self.server.receiver.alerts(body)
        except Exception as exc:  # every failure is an answer; the server goes on
            if isinstance(exc, InputError):
                logger.warning("dlict incident intake: refused from {}: {}",
                               self.client_address[0], exc)
            answer = answer_for(exc)
        self.send_answer(*answer)


def _server(address: tuple[str, int], limits: ServerLimits) -> _Server:
    return _Server(address, limits, _Handler)


def check_exposure(listen: str, web: WebConfig) -> None:
    """Refuse to listen beyond loopback without TLS and authentication: whoever reaches the
    port could open cases and read the case metrics.

    Raises:
        InputError: ``listen`` is not ADDRESS:PORT, or not loopback and ``web`` lacks TLS or
            authentication.
    """
    missing = unprotected(listen, web)
    if missing is not None:
        raise InputError(f"--listen {listen} reaches beyond this machine, but no {missing} is "
                         "configured: give a --web-config file with both, or listen on "
                         "127.0.0.1")


@dataclass
class IncidentIntakeServer:
    server: _Server
    worker: StoreWorker
    _thread: threading.Thread | None = field(default=None)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        name="dlict-incident-intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
        self.server.server_close()
        self.worker.close()


def make_server(worker: StoreWorker, inventory: Inventory | None,
                metrics_text: MetricsRenderer, *,
                listen: str = DEFAULT_LISTEN, web: WebConfig | None = None,
                limits: ServerLimits | None = None) -> IncidentIntakeServer:
    """Bind the server (not serving yet); ``worker`` is closed if binding fails.

    Raises:
        InputError: ``listen`` is wrong or unprotected beyond loopback.
        OperationalError: the address cannot be listened on.
    """
    web = web or WebConfig()
    try:
        check_exposure(listen, web)
        server = bind(_server, listen, limits or ServerLimits())
    except BaseException:
        worker.close()
        raise
    if web.tls is not None:
        server.socket = web.tls.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
    server.receiver = AlertReceiver(worker, inventory, metrics_text)
    server.web = web
    return IncidentIntakeServer(server, worker)
