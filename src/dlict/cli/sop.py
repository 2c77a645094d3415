"""``dlict apply`` and ``dlict audit``: the SOP controls on every Linux host."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from loguru import logger
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption, PdfOption
from dlict.cli.results_view import log_results, print_summary, run_as_dict
from dlict.cli.text import shown
from dlict.controls import CONTROL_ID, Catalog, load_catalog
from dlict.core.files import write_private
from dlict.core.results import Result
from dlict.inventory import Inventory
from dlict.playbooks.runner import AnsibleEvent
from dlict.playbooks.sop import AREAS, Mode, SopRun, resolve_areas, run_sop
from dlict.reports.document import check_targets, write_report
from dlict.reports.html import render_audit_html
from dlict.reports.summary import scores
from dlict.runs import RunRecord

LimitOption = Annotated[
    str | None,
    typer.Option("--limit", "-l", help="Ansible host pattern: a school group, a host, …"),
]


class _HostProgress:
    """One bar per host, advanced as each control's verification reports."""

    def __init__(self, progress: Progress, per_host: int) -> None:
        self.progress = progress
        self.per_host = per_host
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: AnsibleEvent) -> None:
        if event.host not in self.tasks:
            self.tasks[event.host] = self.progress.add_task(shown(event.host),
                                                            total=self.per_host)
        task = self.tasks[event.host]
        if event.unreachable:
            self.progress.update(
                task,
                completed=self.per_host,
                description=f"{shown(event.host)} [yellow]unreachable[/yellow]",
            )
        elif event.action == "assert" and any(CONTROL_ID.match(t) for t in event.tags):
            self.progress.update(task, advance=1)


def _run(
    actx: AppContext,
    inv: Inventory,
    catalog: Catalog,
    areas: list[str],
    mode: Mode,
    limit: str | None,
    check: bool = False,
    diff: bool = False,
    extra: Sequence[Result] = (),
) -> tuple[RunRecord, SopRun]:
    settings = actx.settings
    per_host = len(catalog.in_areas(areas))
    with actx.recording(mode.value) as recorder:
        logger.info("{} run {} of {} (limit {})", mode.value, recorder.id, ", ".join(areas),
                    limit)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=actx.console,
            disable=actx.json_output,
            transient=True,
        )
        with progress:
            sop_run = run_sop(
                inv,
                catalog,
                areas,
                mode,
                limit=limit,
                check=check,
                diff=diff,
                forks=settings.forks,
                timeout=settings.ssh_timeout,
                on_event=_HostProgress(progress, per_host),
            )
        sop_run.results = [*sop_run.results, *extra]
        record = recorder.finish(sop_run.results,
                                 failed=sop_run.outcome.status != "successful")
    log_results(mode.value, record.id, record.results)
    return record, sop_run


def apply(
    ctx: typer.Context,
    areas: Annotated[list[str], typer.Argument(help=f"all, or any of: {', '.join(AREAS)}")],
    limit: LimitOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Show what would change; change nothing.")
    ] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show file differences.")] = False,
    _json: JsonOption = False,
) -> None:
    """Make the SOP controls hold on the Linux hosts (Ansible), then verify each one."""
    actx = app_context(ctx)
    selected = resolve_areas(areas)
    inv = actx.inventory()
    catalog = load_catalog()
    record, sop_run = _run(actx, inv, catalog, selected, Mode.APPLY, limit, check, diff)
    changed = sop_run.changed_by_host()
    if actx.json_output:
        data = run_as_dict(record.run, record.results)
        actx.print_json(data | {"changed": changed, "areas": selected})
    else:
        print_summary(actx.console, actx.lang, catalog, record.results)
        actx.console.print(
            "changed: "
            + ", ".join(f"{shown(h)} {n}" for h, n in sorted(changed.items()))
            + f" (total {sum(changed.values())}); stored as run {record.id}"
        )
    if record.exit_code:
        raise typer.Exit(record.exit_code)


def audit(
    ctx: typer.Context,
    areas: Annotated[list[str] | None, typer.Argument(
        help=f"Areas to audit (default all): any of {', '.join(AREAS)}")] = None,
    limit: LimitOption = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON to this file.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write an HTML report (Thai by default).")
    ] = None,
    pdf: PdfOption = None,
    devices: Annotated[bool, typer.Option(
        "--devices/--no-devices",
        help="Also judge the network devices the limit names (dlict netdev audit's rules).",
    )] = True,
) -> None:
    """Check the SOP controls (every area, or those named) without changing anything; exit 1
    if one does not hold."""
    actx = app_context(ctx)
    selected = resolve_areas(areas or [])
    check_targets(report, pdf, html_option="--report")
    inv = actx.inventory()
    catalog = load_catalog()
    device_results = _device_audit(actx, inv, limit) if devices else []
    record, _sop_run = _run(actx, inv, catalog, selected, Mode.AUDIT, limit,
                            extra=device_results)
    run = record.run
    data = run_as_dict(run, record.results) | {
        "scores": [
            {
                "site": s.site,
                "area": s.area,
                "ratio": None if s.percent is None else s.percent / 100,
                "counts": {k.value: v for k, v in s.counts.items()},
            }
            for s in scores(record.results, catalog)
        ]
    }
    if json_file is not None:
        write_private(json_file, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    write_report(lambda printed: render_audit_html(run, record.results, catalog, inv,
                                                   actx.lang, printed=printed),
                 actx.lang, html=report, pdf=pdf)
    if actx.json_output:
        actx.print_json(data)
    else:
        print_summary(actx.console, actx.lang, catalog, record.results)
        actx.console.print(f"stored as run {record.id}")
    if record.exit_code:
        raise typer.Exit(record.exit_code)


def _device_audit(actx: AppContext, inv: Inventory, limit: str | None) -> list[Result]:
    """The devices' part of the audit; without the netdev extra, one line says what to
    install and the devices' controls are errors, while the hosts' part still runs."""
    from dlict.cli.progress import DeviceBar
    from dlict.netdev.operations import audit_devices

    with DeviceBar(actx) as bar:
        audited = audit_devices(inv, limit, actx.settings.data_dir, bar, strict=False)
    if audited.problem is not None:
        sys.stderr.write(f"dlict: warning: network devices not audited: {audited.problem}\n")
    return audited.results
