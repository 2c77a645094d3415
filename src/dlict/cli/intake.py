"""``dlict intake``: the office side of the school agents."""

from __future__ import annotations

from typing import Annotated

import typer
from loguru import logger

from dlict.cli.context import app_context
from dlict.cli.options import number_option
from dlict.cli.signals import stop_on_signals
from dlict.core.numbers import NumberRange
from dlict.exporter.connections import ServerLimits
from dlict.intake.ca import ca_files
from dlict.intake.server import DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, describe, make_servers

MAX_CONNECTIONS = 10_000

app = typer.Typer(help="Receive the school agents' batches and serve their state to "
                  "Prometheus.", no_args_is_help=True)


@app.command()
def serve(
    ctx: typer.Context,
    listen: Annotated[str, typer.Option(
        "--listen", help="ADDRESS:PORT for the agents, always HTTPS with the district CA's "
        "certificate; loopback unless you give another address here.")] = DEFAULT_LISTEN,
    metrics_listen: Annotated[str, typer.Option(
        "--metrics-listen", help="ADDRESS:PORT for Prometheus's plain-HTTP /metrics; "
        "loopback only.")] = DEFAULT_METRICS_LISTEN,
    max_connections: Annotated[int, number_option(
        "--max-connections", NumberRange(1, MAX_CONNECTIONS, whole=True),
        "Agent connections served at once.")] = 256,
) -> None:
    """Receive the agents' batches over mutual TLS and store each record exactly once."""
    actx = app_context(ctx)
    data_dir = actx.settings.data_dir
    with actx.open_store():
        pass  # the data directory, the log file and the store's schema, before listening
    stop = stop_on_signals()  # before anything listens
    servers = make_servers(actx.settings.store_path, ca_files(data_dir), listen=listen,
                           metrics_listen=metrics_listen,
                           limits=ServerLimits(max_connections=max_connections),
                           district=actx.district_for_findings())
    try:
        servers.start()
        logger.info(describe(listen, metrics_listen))
        # a timeout: a signal taken by another thread does not wake a wait without one
        while not stop.wait(0.5):
            pass
    finally:
        servers.stop()
