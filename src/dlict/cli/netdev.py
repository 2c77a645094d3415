"""``dlict netdev``: network devices over SSH — configuration backup with history, diff, audit."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption
from dlict.cli.results_view import run_as_dict
from dlict.cli.text import printable, shown, word
from dlict.core.clock import format_local
from dlict.core.errors import ExitCode, InputError
from dlict.core.files import write_private
from dlict.core.results import Result, Status
from dlict.core.store import RunStatus
from dlict.inventory.models import Inventory
from dlict.netdev.history import ConfigHistory
from dlict.netdev.run import (
    Outcome,
    Selection,
    audit_results,
    backup,
    select_devices,
    session_options,
    work_on,
)
from dlict.netdev.status import netdev_dir, update_status

app = typer.Typer(help="Network devices over SSH: configuration backup, history, rule audit.")

LimitOption = Annotated[str | None, typer.Option(
    "--limit", "-l", help="Devices: names, groups or sites (Ansible-style pattern).")]
BANGKOK = ZoneInfo("Asia/Bangkok")


def history_for(actx: AppContext) -> ConfigHistory:
    return ConfigHistory(netdev_dir(actx.settings.data_dir) / "configs")


def fetch(actx: AppContext, inventory: Inventory, selection: Selection,
          names: tuple[str, ...] | None) -> list[Outcome]:
    """Work on the selected devices with a progress bar (bounded by dlict_netdev.workers)."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        console=actx.console, disable=actx.json_output, transient=True)
    with progress:
        task = progress.add_task("devices", total=len(selection.devices))
        outcomes = work_on(selection.devices, session_options(inventory),
                           inventory.netdev.workers, lambda _p: names,
                           on_done=lambda _o: progress.advance(task))
    now = datetime.now().timestamp()
    update_status(actx.settings.data_dir, {
        o.device.host.name: {"site": o.device.host.site, "reachable": o.error is None,
                             "checked_at": now} for o in outcomes})
    return outcomes


def _store(actx: AppContext, kind: str, results: Sequence[Result]) -> tuple[int, RunStatus]:
    statuses = {r.status for r in results}
    if statuses & {Status.ERROR, Status.UNREACHABLE}:
        status = RunStatus.ERROR
    elif Status.FAIL in statuses:
        status = RunStatus.FINDINGS
    else:
        status = RunStatus.OK
    with actx.open_store() as store:
        run_id = store.start_run(kind, shlex.join(["dlict", *sys.argv[1:]]))
        store.add_results(run_id, results)
        store.finish_run(run_id, status)
    return run_id, status


def _exit(status: RunStatus) -> None:
    code = {RunStatus.OK: ExitCode.OK, RunStatus.FINDINGS: ExitCode.FINDINGS}.get(
        status, ExitCode.OPERATIONAL)
    if code:
        raise typer.Exit(code)


@app.command("backup")
def backup_command(ctx: typer.Context, limit: LimitOption = None,
                   _json: JsonOption = False) -> None:
    """Fetch every device's running configuration, strip what changes on every read, and keep
    a version when it changed (git history in the data dir); show what changed."""
    actx = app_context(ctx)
    inventory = actx.inventory()
    selection = select_devices(inventory, limit)
    outcomes = fetch(actx, inventory, selection, ("config",))
    history = history_for(actx)
    report = backup(outcomes, history, "dlict netdev backup" + (f" --limit {limit}"
                                                                if limit else ""))
    update_status(actx.settings.data_dir, {
        e.host.name: {"site": e.host.site,
                      "config_changed_at": history.versions(e.host.name)[0].at.timestamp()}
        for e in report.entries if e.state != "failed" and history.versions(e.host.name)})
    results = report.results + [
        Result(site=h.site, host=h.name, target="config", status=Status.SKIPPED,
               evidence=f"dlict cannot back up device type {h.device_type}")
        for h in selection.unsupported]
    run_id, status = _store(actx, "netdev-backup", results)
    if actx.json_output:
        actx.print_json({
            "run": run_id, "commit": report.commit, "history": str(history.root),
            "devices": [{"host": e.host.name, "site": e.host.site, "state": e.state,
                         "lines": e.lines, "diff": e.diff, "error": e.error}
                        for e in report.entries],
        })
    else:
        table = Table(title=f"{len(report.entries)} devices")
        for key in ("site", "host", "status", "detail"):
            table.add_column(word(key, actx.lang))
        for e in report.entries:
            style = {"failed": "red", "changed": "yellow", "new": "cyan"}.get(e.state, "green")
            table.add_row(shown(e.host.site), shown(e.host.name), f"[{style}]{e.state}[/{style}]",
                          shown(e.error or f"{e.lines} lines"))
        actx.console.print(table)
        for e in report.entries:
            if e.state == "changed":
                actx.console.print(f"--- {printable(e.host.name)}", markup=False)
                actx.console.print(printable(e.diff.rstrip("\n"), keep_newlines=True),
                                   markup=False, highlight=False)
        changed = sum(e.state in ("changed", "new") for e in report.entries)
        actx.console.print(f"{changed} new or changed, stored as run {run_id}; history in "
                           f"{printable(history.root)}", markup=False)
    _exit(status)


def parse_since(text: str) -> datetime:
    """A date (YYYY-MM-DD, from its start in Bangkok) or an ISO date-time.

    Raises:
        InputError: neither.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"--since {text}: not a date (YYYY-MM-DD) or ISO date-time") from exc
    if len(text) == 10:
        moment = datetime.combine(moment.date(), time(0), BANGKOK)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=BANGKOK)
    return moment


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="The device, as named in the inventory.")],
    since: Annotated[str | None, typer.Option(
        "--since", help="Changes after this date (YYYY-MM-DD) or date-time; the last change "
        "when not given.")] = None,
    _json: JsonOption = False,
) -> None:
    """Show how a device's configuration changed: the versions and one unified diff."""
    actx = app_context(ctx)
    moment = parse_since(since) if since else None
    history = history_for(actx)
    versions, diff = history.diff_since(host, moment)
    if actx.json_output:
        actx.print_json({"host": host, "since": moment.isoformat() if moment else None,
                         "versions": [{"commit": v.commit, "at": v.at.isoformat()}
                                      for v in versions], "diff": diff})
        return
    if not versions:
        actx.console.print(f"{printable(host)}: no change since {format_local(moment, actx.lang)}"
                           if moment else f"{printable(host)}: no change", markup=False)
        return
    for v in versions:
        actx.console.print(f"{v.commit[:12]}  {format_local(v.at, actx.lang)}", markup=False)
    actx.console.print(printable(diff.rstrip("\n"), keep_newlines=True), markup=False,
                       highlight=False)


def device_audit(actx: AppContext, inventory: Inventory, limit: str | None, *,
                 strict: bool) -> list[Result]:
    """Judge every netdev control on the devices ``limit`` names (shared with dlict audit)."""
    selection = select_devices(inventory, limit, strict=strict)
    if not selection.devices and not selection.unsupported and not selection.no_login:
        return []
    outcomes = fetch(actx, inventory, selection, None)
    results = audit_results(inventory, outcomes, selection.unsupported, selection.no_login)
    failures: dict[str, int] = {}
    for r in results:
        failures[r.host] = failures.get(r.host, 0) + (r.status is Status.FAIL)
    now = datetime.now().timestamp()
    update_status(actx.settings.data_dir, {
        o.device.host.name: {"site": o.device.host.site, "audited_at": now,
                             "audit_failures": failures.get(o.device.host.name, 0)}
        for o in outcomes if o.error is None})
    return results


@app.command("audit")
def audit_command(
    ctx: typer.Context,
    limit: LimitOption = None,
    json_file: Annotated[Path | None, typer.Option(
        "--json", help="Also write the results as JSON to this file.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write an HTML report (Thai by default).")] = None,
) -> None:
    """Judge the devices against the SOP's device rules (FW-, ID-, LOG- controls); exit 1 if
    one does not hold."""
    from dlict.cli.sop import print_summary
    from dlict.controls import load_catalog
    from dlict.reports.html import render_audit_html

    actx = app_context(ctx)
    inventory = actx.inventory()
    results = device_audit(actx, inventory, limit, strict=True)
    run_id, status = _store(actx, "netdev-audit", results)
    with actx.open_store() as store:
        run = store.run(run_id)
    data: dict[str, Any] = run_as_dict(run, results)
    if json_file is not None:
        write_private(json_file, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    catalog = load_catalog()
    if report is not None:
        write_private(report, render_audit_html(run, results, catalog, inventory, actx.lang))
    if actx.json_output:
        actx.print_json(data)
    else:
        print_summary(actx, catalog, inventory, results)
        actx.console.print(f"stored as run {run_id}")
    _exit(status)

