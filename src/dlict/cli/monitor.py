"""``dlict monitor``: watch every school's link, services and DLTV receiver for Prometheus."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from loguru import logger

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import number_option
from dlict.cli.signals import stop_on_signals
from dlict.cli.text import printable
from dlict.core.errors import InputError, OperationalError
from dlict.core.extras import require_extra
from dlict.core.files import write_atomic
from dlict.core.logging import redact_known
from dlict.core.numbers import NumberRange
from dlict.exporter.connections import ServerLimits
from dlict.exporter.once import failing, once_results, site_report
from dlict.exporter.plan import MonitorPlan, build_plan
from dlict.exporter.scheduler import CheckRounds, IcmpWorker, run_once
from dlict.exporter.server import DEFAULT_LISTEN, Health, make_server, parse_listen, unprotected
from dlict.exporter.state import MonitorState
from dlict.exporter.webconfig import WebConfig, load_web_config
from dlict.i18n import pick
from dlict.inventory.models import Role

MAX_CONNECTIONS = 10_000
MAX_TIMEOUT_S = 300.0

RUN_KIND = "monitor-once"

app = typer.Typer(help="School links, services and DLTV receivers, served to Prometheus.")

ListenOption = Annotated[str, typer.Option(
    "--listen", help="ADDRESS:PORT for /metrics and /healthz (loopback unless you say so).")]


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _print_once(actx: AppContext, rows: list[dict[str, Any]], run_id: int) -> None:
    if actx.json_output:
        actx.print_json(rows)
        return
    for row in rows:
        name = pick(row["name_th"], row["name_en"], actx.lang)
        problems = failing(row)
        status = "OK" if not problems else "; ".join(problems)
        line = f"{row['site']:12} {status:28}"
        for address, target in row.get("targets", {}).items():
            line += (f" {address} loss {target['loss_ratio'] * 100:.0f}% rtt "
                     f"{_ms(target['rtt_s'])}")
        typer.echo(printable(redact_known(f"{line}  {name}")))
    typer.echo(f"stored as run {run_id}")


def _check_exposure(listen: str, web: WebConfig, web_config: Path | None,
                    insecure: bool) -> str | None:
    """Refuse to serve beyond loopback unprotected, unless told; the warning to log if told."""
    missing = unprotected(listen, web)
    if missing is None:
        return None
    where = f"{web_config}" if web_config is not None else "no --web-config"
    if not insecure:
        raise InputError(f"--listen {listen} reaches beyond this machine, but {where} gives no "
                         f"{missing}: set it in a --web-config file, or give --insecure-listen "
                         "to serve every school's status to anyone who can connect")
    return (f"dlict monitor: INSECURE: serving {listen} without {missing} "
            "(--insecure-listen): anyone who can connect reads every school's status")


def _serve(plan: MonitorPlan, listen: str, web: WebConfig, data_dir: Path,
           limits: ServerLimits, warning: str | None) -> None:
    from dlict.exporter.exposition import Exposition

    state = MonitorState()
    worker = IcmpWorker(plan, state)
    rounds = CheckRounds(plan, state)
    settings = plan.settings
    cycle_s = settings.count * settings.period_ms / 1000 + settings.timeout_ms / 1000
    health = Health(state, cycle_s, bool(plan.icmp_targets), lambda: worker.error)
    server = make_server(listen, Exposition(plan, state, data_dir), web, health, limits)
    stop = stop_on_signals()  # before anything listens
    worker.start()
    rounds.start()
    serving = threading.Thread(target=server.serve_forever, name="dlict-http", daemon=True)
    serving.start()
    scheme = "https" if web.tls is not None else "http"
    logger.info("dlict monitor: {} ICMP targets, {} service checks, {} DLTV receivers; "
                "serving {}://{}/metrics", len(plan.icmp_targets), len(plan.services),
                len(plan.receivers), scheme, listen)
    if warning is not None:
        logger.warning(warning)
    try:
        while not stop.wait(1.0):
            if worker.error is not None:
                raise OperationalError(f"ICMP probing stopped: {worker.error}")
    finally:
        server.shutdown()
        server.server_close()
        rounds.stop()
        worker.stop()


@app.callback(invoke_without_command=True)
def monitor(
    ctx: typer.Context,
    listen: ListenOption = DEFAULT_LISTEN,
    web_config: Annotated[Path | None, typer.Option(
        "--web-config", help="TLS and basic auth, in the Prometheus exporter-toolkit "
        "format.")] = None,
    once: Annotated[bool, typer.Option("--once", help="One round of every check, printed; "
                                       "exit 1 when something failed.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="With --once: JSON.")] = False,
    insecure_listen: Annotated[bool, typer.Option(
        "--insecure-listen", help="Serve beyond loopback without TLS and authentication "
        "(refused otherwise).")] = False,
    max_connections: Annotated[int, number_option(
        "--max-connections", NumberRange(1, MAX_CONNECTIONS, whole=True),
        "Connections served at once; at the cap, the one that has "
        "waited longest for a request makes room.")] = ServerLimits.max_connections,
    request_timeout: Annotated[float, number_option(
        "--request-timeout", NumberRange(0.5, MAX_TIMEOUT_S),
        "Seconds a client has to send its request (three times "
        "that between requests on a kept-alive connection).")] = ServerLimits.request_timeout_s,
) -> None:
    """Probe every site's link, services and DLTV receiver and serve /metrics."""
    if ctx.invoked_subcommand is not None:
        return
    require_extra("monitor", "prometheus_client", "dns.resolver")
    actx = app_context(ctx)
    actx.json_output = actx.json_output or json_output
    parse_listen(listen)
    limits = ServerLimits(max_connections, request_timeout)
    web = load_web_config(web_config) if web_config is not None else WebConfig()
    warning = None if once else _check_exposure(listen, web, web_config, insecure_listen)
    inventory = actx.inventory()
    plan = build_plan(inventory)
    if once:
        state = MonitorState()
        run_once(plan, state)
        rows = site_report(inventory, plan, state)
        record = actx.record(RUN_KIND, once_results(rows))
        _print_once(actx, rows, record.id)
        if record.exit_code:
            raise typer.Exit(record.exit_code)
        return
    if json_output:
        raise InputError("--json goes with --once")
    _serve(plan, listen, web, actx.settings.data_dir, limits, warning)


@app.command("export-sd")
def export_sd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option(
        "--dir", help="Where Prometheus reads file_sd targets (e.g. /etc/prometheus/targets).")],
    listen: ListenOption = DEFAULT_LISTEN,
    node_port: Annotated[int, number_option(
        "--node-port", NumberRange(1, 65_535, whole=True),
        "node_exporter's port on the district's Linux servers.")] = 9100,
) -> None:
    """Write Prometheus file_sd targets from the inventory: dlict.json (the monitor) and
    node.json (node_exporter on every Linux server, labels site and host)."""
    actx = app_context(ctx)
    parse_listen(listen)
    inventory = actx.inventory()
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory")
    nodes: list[dict[str, Any]] = []
    for host in sorted(inventory.hosts_in_role(Role.LINUX_SERVER), key=lambda h: h.name):
        address = f"[{host.address}]" if ":" in host.address else host.address
        nodes.append({"targets": [f"{address}:{node_port}"],
                      "labels": {"site": host.site, "host": host.name}})
    files = {"dlict.json": [{"targets": [listen], "labels": {}}], "node.json": nodes}
    for name, groups in files.items():
        write_atomic(directory / name, json.dumps(groups, indent=2) + "\n", 0o644)
    typer.echo(f"wrote {directory / 'dlict.json'} (the monitor) and {directory / 'node.json'} "
               f"({len(nodes)} Linux servers)")
