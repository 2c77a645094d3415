"""``dlict incident intake``: Alertmanager webhooks and findings become cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from loguru import logger

from dlict.cli.context import app_context
from dlict.cli.options import number_option
from dlict.cli.signals import stop_on_signals
from dlict.core.extras import require_extra
from dlict.core.numbers import NumberRange
from dlict.exporter.connections import ServerLimits
from dlict.exporter.server import parse_listen
from dlict.exporter.webconfig import WebConfig, load_web_config

if TYPE_CHECKING:
    from dlict.inventory.models import Inventory

DEFAULT_LISTEN = "127.0.0.1:9311"
MAX_CONNECTIONS = 10_000
MAX_TIMEOUT_S = 300.0


def _metrics_renderer(store_path: Path, inventory: Inventory | None) -> Callable[[], bytes]:
    from prometheus_client import CollectorRegistry, generate_latest

    from dlict.incidents.metrics import IncidentCollector

    registry = CollectorRegistry()
    registry.register(IncidentCollector(store_path, inventory))
    return lambda: generate_latest(registry)


def intake(
    ctx: typer.Context,
    listen: Annotated[str, typer.Option(
        "--listen", help="ADDRESS:PORT for Alertmanager's webhook (POST /alerts) and "
        "/metrics; beyond loopback only with TLS and authentication from --web-config.")
    ] = DEFAULT_LISTEN,
    web_config: Annotated[Path | None, typer.Option(
        "--web-config", help="TLS and basic auth, in the Prometheus exporter-toolkit "
        "format.")] = None,
    max_connections: Annotated[int, number_option(
        "--max-connections", NumberRange(1, MAX_CONNECTIONS, whole=True),
        "Connections served at once.")] = 64,
    request_timeout: Annotated[float, number_option(
        "--request-timeout", NumberRange(0.5, MAX_TIMEOUT_S),
        "Seconds a client has to send its request headers; a body may take this plus its "
        "size at 16 kB/s, and any read waits at most three times this.")
    ] = ServerLimits.request_timeout_s,
) -> None:
    """Receive Alertmanager's webhooks: a firing alert group opens (or joins) one case, a
    resolved alert adds a timeline entry; serve the case metrics on /metrics."""
    require_extra("monitor", "prometheus_client")
    from dlict.incidents.intake_server import check_exposure, make_server
    from dlict.intake.server import StoreWorker

    actx = app_context(ctx)
    parse_listen(listen)
    web = load_web_config(web_config) if web_config is not None else WebConfig()
    check_exposure(listen, web)
    inventory = actx.inventory() if actx.settings.inventory is not None else None
    with actx.open_store():
        pass  # the data directory, the log file and the store's schema, before listening
    stop = stop_on_signals()  # before anything listens
    server = make_server(StoreWorker(actx.settings.store_path), inventory,
                         _metrics_renderer(actx.settings.store_path, inventory),
                         listen=listen, web=web,
                         limits=ServerLimits(max_connections, request_timeout))
    try:
        server.start()
        scheme = "https" if web.tls is not None else "http"
        logger.info("dlict incident intake: receiving Alertmanager's webhooks on "
                    "{}://{}/alerts", scheme, listen)
        while not stop.wait(0.5):  # a timeout: a signal taken by another thread wakes no wait
            pass
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("intake")(intake)
