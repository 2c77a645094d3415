"""``dlict apply`` and ``dlict audit``: the SOP controls on every Linux host."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from loguru import logger
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption
from dlict.cli.results_view import STATUS_STYLE, run_as_dict
from dlict.cli.text import shown, word
from dlict.controls import CONTROL_ID, Catalog, load_catalog
from dlict.core.errors import ExitCode
from dlict.core.files import write_private
from dlict.core.results import Result, Status
from dlict.core.store import RunStatus
from dlict.i18n import text
from dlict.inventory import Inventory
from dlict.playbooks.runner import AnsibleEvent
from dlict.playbooks.sop import AREAS, Mode, SopRun, resolve_areas, run_sop
from dlict.reports.html import render_audit_html
from dlict.reports.summary import scores

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


def _exit_code(results: Sequence[Result], playbook_failed: bool) -> ExitCode:
    statuses = {r.status for r in results}
    if Status.UNREACHABLE in statuses or Status.ERROR in statuses or playbook_failed:
        return ExitCode.OPERATIONAL
    if Status.FAIL in statuses:
        return ExitCode.FINDINGS
    return ExitCode.OK


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
) -> tuple[int, SopRun]:
    settings = actx.settings
    per_host = len(catalog.in_areas(areas))
    with actx.open_store() as store:
        run_id = store.start_run(mode.value, shlex.join(["dlict", *sys.argv[1:]]))
        logger.info("{} run {} of {} (limit {})", mode.value, run_id, ", ".join(areas), limit)
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
        store.add_results(run_id, sop_run.results)
        code = _exit_code(sop_run.results, sop_run.outcome.status != "successful")
        status = {ExitCode.OK: RunStatus.OK, ExitCode.FINDINGS: RunStatus.FINDINGS}.get(
            code, RunStatus.ERROR
        )
        store.finish_run(run_id, status)
        log_results(mode, run_id, sop_run.results)
    return run_id, sop_run


def log_results(mode: Mode, run_id: int, results: Sequence[Result]) -> None:
    """A warning for each result that needs attention; a not-applicable one only in the log
    file, since it is neither a warning nor a finding."""
    for result in results:
        if result.status is Status.PASS:
            continue
        level = "WARNING" if result.status.needs_attention else "INFO"
        shown_status = result.status.value if result.status.needs_attention else "not applicable"
        logger.log(level, "{} run {}: {} {} {}: {}", mode.value, run_id, result.host,
                   result.control, shown_status, result.evidence)


def print_summary(
    actx: AppContext, catalog: Catalog, inv: Inventory, results: Sequence[Result]
) -> None:
    lang = actx.lang
    problems = [r for r in results if r.status.needs_attention]
    if problems:
        table = Table(title=text("cli.not_passing", lang))
        for key in ("host", "status", "evidence"):
            table.add_column(word(key, lang))
        for r in problems:
            style = STATUS_STYLE[r.status]
            first_line = r.evidence.splitlines()[0] if r.evidence else ""
            table.add_row(
                shown(f"{r.host} {r.control}"),
                f"[{style}]{word(r.status.value, lang)}[/{style}]",
                shown(first_line),
            )
        actx.console.print(table)
    summary = Table(title=text("cli.score_per_site", lang))
    summary.add_column(word("site", lang))
    summary.add_column(text("cli.area", lang))
    for status in Status:
        summary.add_column(word(status.value, lang), justify="right")
    summary.add_column(text("cli.score", lang), justify="right")
    for score in scores(results, catalog):
        site = text("cli.district", lang) if score.site == "*" else score.site
        percent = f"{score.percent:.0f} %" if score.percent is not None else "-"
        summary.add_row(shown(site), shown(score.area), *(str(score.counts[s]) for s in Status),
                        percent)
    actx.console.print(summary)


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
    run_id, sop_run = _run(actx, inv, catalog, selected, Mode.APPLY, limit, check, diff)
    changed = sop_run.changed_by_host()
    code = _exit_code(sop_run.results, sop_run.outcome.status != "successful")
    if actx.json_output:
        with actx.open_store() as store:
            data = run_as_dict(store.run(run_id), sop_run.results)
        actx.print_json(data | {"changed": changed, "areas": selected})
    else:
        print_summary(actx, catalog, inv, sop_run.results)
        actx.console.print(
            "changed: "
            + ", ".join(f"{shown(h)} {n}" for h, n in sorted(changed.items()))
            + f" (total {sum(changed.values())}); stored as run {run_id}"
        )
    if code:
        raise typer.Exit(code)


def audit(
    ctx: typer.Context,
    limit: LimitOption = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON to this file.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write an HTML report (Thai by default).")
    ] = None,
    devices: Annotated[bool, typer.Option(
        "--devices/--no-devices",
        help="Also judge the network devices the limit names (dlict netdev audit's rules).",
    )] = True,
) -> None:
    """Check every SOP control without changing anything; exit 1 if one does not hold."""
    from dlict.cli.netdev import device_audit

    actx = app_context(ctx)
    inv = actx.inventory()
    catalog = load_catalog()
    device_results = device_audit(actx, inv, limit, strict=False) if devices else []
    run_id, sop_run = _run(actx, inv, catalog, list(AREAS), Mode.AUDIT, limit,
                           extra=device_results)
    code = _exit_code(sop_run.results, sop_run.outcome.status != "successful")
    with actx.open_store() as store:
        run = store.run(run_id)
    data = run_as_dict(run, sop_run.results) | {
        "scores": [
            {
                "site": s.site,
                "area": s.area,
                "ratio": None if s.percent is None else s.percent / 100,
                "counts": {k.value: v for k, v in s.counts.items()},
            }
            for s in scores(sop_run.results, catalog)
        ]
    }
    if json_file is not None:
        write_private(json_file, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    if report is not None:
        write_private(report, render_audit_html(run, sop_run.results, catalog, inv, actx.lang))
    if actx.json_output:
        actx.print_json(data)
    else:
        print_summary(actx, catalog, inv, sop_run.results)
        actx.console.print(f"stored as run {run_id}")
    if code:
        raise typer.Exit(code)
