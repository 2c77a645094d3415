"""``dlict netdev``: network devices over SSH — configuration backup with history, diff, audit."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption, PdfOption
from dlict.cli.progress import DeviceBar
from dlict.cli.results_view import print_summary, run_as_dict
from dlict.cli.text import printable, shown, word
from dlict.core.clock import format_local
from dlict.core.errors import InputError
from dlict.core.files import write_private
from dlict.netdev.operations import audit_devices, backup_devices, config_history

app = typer.Typer(help="Network devices over SSH: configuration backup, history, rule audit.")

LimitOption = Annotated[str | None, typer.Option(
    "--limit", "-l", help="Devices: names, groups or sites (Ansible-style pattern).")]
BANGKOK = ZoneInfo("Asia/Bangkok")


@app.command("backup")
def backup_command(ctx: typer.Context, limit: LimitOption = None,
                   _json: JsonOption = False) -> None:
    """Fetch every device's running configuration, strip what changes on every read, and keep
    a version when it changed (git history in the data dir); show what changed."""
    actx = app_context(ctx)
    inventory = actx.inventory()
    command = "dlict netdev backup" + (f" --limit {limit}" if limit else "")
    with DeviceBar(actx) as bar:
        done = backup_devices(inventory, limit, actx.settings.data_dir, command, bar)
    report, history = done.report, done.history
    record = actx.record("netdev-backup", done.results)
    run_id = record.id
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
    if record.exit_code:
        raise typer.Exit(record.exit_code)


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
    history = config_history(actx.settings.data_dir)
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


@app.command("audit")
def audit_command(
    ctx: typer.Context,
    limit: LimitOption = None,
    json_file: Annotated[Path | None, typer.Option(
        "--json", help="Also write the results as JSON to this file.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write an HTML report (Thai by default).")] = None,
    pdf: PdfOption = None,
) -> None:
    """Judge the devices against the SOP's device rules (FW-, ID-, LOG- controls); exit 1 if
    one does not hold."""
    from dlict.controls import load_catalog
    from dlict.reports.document import check_targets, write_report
    from dlict.reports.html import render_audit_html

    actx = app_context(ctx)
    check_targets(report, pdf, html_option="--report")
    inventory = actx.inventory()
    with DeviceBar(actx) as bar:
        audited = audit_devices(inventory, limit, actx.settings.data_dir, bar, strict=True)
    record = actx.record("netdev-audit", audited.results)
    data: dict[str, Any] = run_as_dict(record.run, record.results)
    if json_file is not None:
        write_private(json_file, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    catalog = load_catalog()
    write_report(lambda printed: render_audit_html(record.run, record.results, catalog,
                                                   inventory, actx.lang, printed=printed),
                 actx.lang, html=report, pdf=pdf)
    if actx.json_output:
        actx.print_json(data)
    else:
        print_summary(actx.console, actx.lang, catalog, record.results)
        actx.console.print(f"stored as run {record.id}")
    if record.exit_code:
        raise typer.Exit(record.exit_code)
