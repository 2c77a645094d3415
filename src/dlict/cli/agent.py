"""``dlict agent``: the school agent — run its checks, keep them through link cuts, forward them."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from dlict.agent.config import AgentConfig, load_agent_config
from dlict.cli.context import app_context
from dlict.cli.options import JsonOption
from dlict.core.errors import ExitCode, OperationalError
from dlict.core.printable import printable
from dlict.core.runner_dir import STOP_SIGNALS

app = typer.Typer(help="The school agent: checks from inside a school, stored in a durable "
                  "outbox and forwarded to the office.")

ConfigOption = Annotated[Path, typer.Option(
    "--config", help="The agent's YAML configuration (agents/agent.example.yml).",
    show_default=False)]


def _config(path: Path) -> AgentConfig:
    return load_agent_config(path)


@app.command()
def run(config: ConfigOption) -> None:
    """Run every job when it is due and push to the office until stopped (SIGTERM)."""
    from dlict.agent import service

    settings = _config(config)
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in STOP_SIGNALS}
    try:
        service.run(settings, stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@app.command()
def once(ctx: typer.Context, config: ConfigOption, _json: JsonOption = False) -> None:
    """Run every job once and push once: exit 0 when delivered, 1 if a result is a fail, 3
    when the office cannot be reached (the records stay queued)."""
    from dlict.agent import service

    settings = _config(config)
    report = service.once(settings)
    actx = app_context(ctx)
    if actx.json_output:
        actx.print_json(service.as_json(report))
    else:
        _print_once(report)
    if not report.push.ok:
        raise OperationalError(f"{report.push.detail}; {report.queued.records} records stay "
                               "queued in the outbox")
    if report.push.clock_is_off:
        raise OperationalError(
            f"this machine's clock is {-(report.push.clock_offset_s or 0.0):+.0f} s off the "
            f"office's: the {report.push.delivered} records delivered carry wrong times; set "
            "its time (NTP/chrony)")
    if report.findings:
        raise typer.Exit(int(ExitCode.FINDINGS))


def _print_once(report: Any) -> None:
    for job in report.jobs:
        note = " (cut at its deadline)" if job.cut else ""
        error = f"  error: {job.error}" if job.error else ""
        typer.echo(printable(f"{job.name:16} {job.records:6} records, "
                             f"{job.failed_results} fail{note}{error}"))
    typer.echo(f"delivered {report.push.delivered} records; {report.queued.records} queued")


@app.command()
def status(ctx: typer.Context, config: ConfigOption, _json: JsonOption = False) -> None:
    """The outbox (queued records by kind, bytes, drops), the last push and the certificate."""
    from dlict.agent import service

    state = service.status(_config(config))
    actx = app_context(ctx)
    if actx.json_output:
        actx.print_json(state)
        return
    box = state["outbox"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(box["by_kind"].items()))
    dropped = ", ".join(f"{k} {n}" for k, n in sorted(box["dropped"].items()))
    last = state["last_push"]
    cert = state["certificate"]
    lines = [
        f"agent        {state['site']}/{state['host']} -> {state['office']}",
        f"outbox       {box['records']} records ({kinds}); {box['bytes']} of "
        f"{box['cap_bytes']} bytes",
        f"dropped      {dropped}",
        f"last push    {last['at'] or 'never'} {last['outcome'] or ''}"
        + (f": {last['error']}" if last["error"] else ""),
        f"failures     {state['consecutive_failures']} in a row",
        "certificate  " + ("not enrolled" if cert is None else
                           cert.get("error") or f"expires {cert['not_after']} "
                           f"({cert['days_left']} days)"),
    ]
    for line in lines:
        typer.echo(printable(line))


@app.command()
def enroll(config: ConfigOption, token: Annotated[str, typer.Option(
        "--token", envvar="DLICT_AGENT_TOKEN", show_default=False,
        help="The one-time enrolment token from `dlict ca issue-token`.")]) -> None:
    """Exchange a one-time token for this agent's certificate, signed by the office's CA."""
    import importlib

    enroll_agent = importlib.import_module("dlict.agent.enroll").enroll
    written: Path = enroll_agent(_config(config), token)
    typer.echo(printable(f"enrolled: certificate in {written}"))
