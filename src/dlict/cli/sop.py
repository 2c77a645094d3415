"""``dlict apply`` and ``dlict audit``: the SOP controls on every Linux host."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer
from loguru import logger
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption, PdfOption
from dlict.cli.results_view import log_results, print_summary, run_as_dict
from dlict.cli.text import shown
from dlict.controls import Catalog, load_catalog
from dlict.core.errors import InputError
from dlict.core.files import write_private
from dlict.core.results import Result
from dlict.inventory import Inventory
from dlict.playbooks.runner import AnsibleEvent
from dlict.playbooks.sop import AREAS, Mode, SopRun, resolve_areas, run_sop, sop_hosts
from dlict.playbooks.workers import WorkerSetup, worker_setup
from dlict.reports.document import check_targets, write_report
from dlict.reports.html import render_audit_html
from dlict.reports.summary import scores
from dlict.runs import RunRecord, RunRecorder, resuming

LimitOption = Annotated[
    str | None,
    typer.Option("--limit", "-l", help="Ansible host pattern: a school group, a host, …"),
]


class _DistrictProgress:
    """One bar for the whole run, however many hosts: host-areas finished out of those
    planned, the area now running and its slowest host (the fewest controls judged so far).
    A bar per host would not fit 500 hosts on a screen."""

    def __init__(self, progress: Progress, areas: list[str], hosts: int,
                 controls: dict[str, int]) -> None:
        self.progress = progress
        self.areas = areas
        self.controls = controls
        self.task = progress.add_task("", total=max(1, hosts * len(areas)))
        self.done_hosts: dict[str, set[str]] = {}
        self.judged: dict[str, int] = {}
        self.tasks: dict[str, int] = {}
        self.unreachable: set[str] = set()
        self.area_index = 0
        self._show()

    def event(self, event: AnsibleEvent) -> None:
        if event.unreachable:
            self.unreachable.add(event.host)
        else:
            # controls judged on this host in the running area: a verify task judges them all
            # at once, so until then its finished tasks show how far it got
            verdicts = event.result.get("dlict_verdicts")
            judged = len(verdicts) if isinstance(verdicts, Mapping) else 0
            self.judged[event.host] = max(self.judged.get(event.host, 0), judged)
            self.tasks[event.host] = self.tasks.get(event.host, 0) + 1
        self._show()

    def area_done(self, results: Sequence[Result]) -> None:
        """The running area has ended on every host; the next one starts."""
        area = self.areas[self.area_index] if self.area_index < len(self.areas) else ""
        for host in {r.host for r in results}:
            self.done_hosts.setdefault(host, set()).add(area)
        self.progress.update(self.task, completed=sum(map(len, self.done_hosts.values())))
        self.area_index += 1
        self.judged = {}
        self.tasks = {}
        self._show()

    def _show(self) -> None:
        area = self.areas[self.area_index] if self.area_index < len(self.areas) else "windows"
        hosts_done = sum(1 for done in self.done_hosts.values() if len(done) >= len(self.areas))
        text = f"hosts done {hosts_done} · {area}"
        waiting = [h for h in self.tasks if h not in self.unreachable]
        if waiting:
            slowest = min(waiting, key=lambda h: (self.judged.get(h, 0), self.tasks[h], h))
            text += (f" · slowest {shown(slowest)} {self.judged.get(slowest, 0)}/"
                     f"{self.controls.get(area, 0)} controls, {self.tasks[slowest]} tasks")
        if self.unreachable:
            text += f" · [yellow]{len(self.unreachable)} unreachable[/yellow]"
        self.progress.update(self.task, description=text)


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
    resume: RunRecorder | None = None,
    workers: WorkerSetup | None = None,
) -> tuple[RunRecord, SopRun]:
    with contextlib.ExitStack() as stack:
        recorder = resume or stack.enter_context(actx.recording(mode.value))
        if resume is None:
            recorder.keep(extra)
            recorder.set_plan({"areas": areas, "limit": limit})
        return _run_recorded(actx, recorder, inv, catalog, areas, mode, limit, check, diff,
                             workers)


def _run_recorded(actx: AppContext, recorder: RunRecorder, inv: Inventory, catalog: Catalog,
                  areas: list[str], mode: Mode, limit: str | None, check: bool, diff: bool,
                  workers: WorkerSetup | None) -> tuple[RunRecord, SopRun]:
    settings = actx.settings
    logger.info("{} run {} of {} (limit {})", mode.value, recorder.id, ", ".join(areas), limit)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=actx.console,
                        disable=actx.json_output, transient=True)
    try:
        planned = len(sop_hosts(inv, limit))
    except InputError:  # a pattern only Ansible reads: the bar counts without a total
        planned = 0
    shown_progress = _DistrictProgress(
        progress, areas, planned, {area: len(catalog.in_areas([area])) for area in areas})

    def area_done(results: list[Result]) -> None:
        recorder.keep(results)
        shown_progress.area_done(results)

    with progress:
        sop_run = run_sop(
            inv, catalog, areas, mode, limit=limit, check=check, diff=diff,
            forks=settings.forks, timeout=settings.ssh_timeout, mitogen=settings.mitogen,
            runs=settings.ansible_runs, workers=workers,
            on_event=shown_progress.event, on_area_done=area_done,
        )
    record = recorder.finish(sop_run.results, failed=sop_run.outcome.status != "successful")
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
    resume: Annotated[bool, typer.Option(
        "--resume",
        help="Finish the last audit, interrupted by Ctrl-C: only the hosts and areas it had "
             "not judged yet.",
    )] = False,
    workers: Annotated[str | None, typer.Option(
        "--workers", metavar="NODE,NODE",
        help="Run the plays on these worker nodes (ssh destinations), the hosts dealt over "
             "them; results come back here. Default: the workers setting (none: this "
             "machine).",
    )] = None,
) -> None:
    """Check the SOP controls (every area, or those named) without changing anything; exit 1
    if one does not hold."""
    actx = app_context(ctx)
    if resume and (areas or limit):
        raise InputError("--resume takes the areas and --limit of the interrupted audit: "
                         "give neither")
    selected = resolve_areas(areas or [])
    check_targets(report, pdf, html_option="--report")
    inv = actx.inventory()
    catalog = load_catalog()
    nodes = ([n for n in workers.split(",") if n.strip()] if workers is not None
             else list(actx.settings.workers))
    setup = _worker_setup(actx, inv, limit, nodes) if nodes else None
    if resume:
        record = _resume_audit(actx, inv, catalog, setup)
    else:
        device_results = _device_audit(actx, inv, limit) if devices else []
        record, _sop_run = _run(actx, inv, catalog, selected, Mode.AUDIT, limit,
                                extra=device_results, workers=setup)
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


def _worker_setup(actx: AppContext, inv: Inventory, limit: str | None,
                  nodes: Sequence[str]) -> WorkerSetup:
    """How the audit reaches the hosts from ``nodes``, checked before anything runs."""
    try:
        names = sop_hosts(inv, limit)
    except InputError:  # a pattern only Ansible reads: every host must then suit the nodes
        names = sorted(inv.hosts)
    return worker_setup(nodes, Path(inv.source), [inv.hosts[n] for n in names],
                        ssh_config=actx.settings.worker_ssh_config,
                        runner=actx.settings.worker_runner)


def _resume_audit(actx: AppContext, inv: Inventory, catalog: Catalog,
                  workers: WorkerSetup | None) -> RunRecord:
    """Finish the last audit if it was interrupted: the areas and hosts it had not judged,
    with its own areas and limit; what it stored before stays as it was."""
    with actx.open_store() as store:
        last = store.runs(Mode.AUDIT.value, limit=1)
        if not last or not store.interrupted(last[0].id):
            said = (f"the last audit, run {last[0].id}, ended {last[0].status.value}"
                    if last else "no audit was run yet")
            raise InputError(f"no interrupted audit to resume ({said})")
        run_id = last[0].id
        plan = store.run_plan(run_id)
    if plan is None:
        raise InputError(f"audit run {run_id} was interrupted before it started checking "
                         "hosts: run dlict audit again")
    areas = resolve_areas([str(a) for a in plan.get("areas") or []])
    limit = plan.get("limit")
    limit = str(limit) if limit is not None else None
    with actx.open_store() as store, resuming(store, run_id, Mode.AUDIT.value,
                                              findings=actx.district_for_findings) as recorder:
        left_areas, left_hosts = _left_to_audit(inv, catalog, areas, limit, recorder.kept)
        if not left_hosts:
            return recorder.finish([])
        sys.stderr.write(f"dlict: resuming audit run {run_id}: {', '.join(left_areas)} on "
                         f"{len(left_hosts)} host(s)\n")
        record, _sop_run = _run(actx, inv, catalog, left_areas, Mode.AUDIT,
                                ",".join(left_hosts), resume=recorder, workers=workers)
        return record


def _left_to_audit(inv: Inventory, catalog: Catalog, areas: list[str], limit: str | None,
                   kept: Sequence[Result]) -> tuple[list[str], list[str]]:
    """(areas, hosts) an interrupted audit had not judged yet: every area with a host that
    has none of its results, and every host missing an area."""
    from dlict.playbooks.sop import controls_for

    judged = {(r.host, r.control) for r in kept}
    left: dict[str, set[str]] = {}
    for name in sop_hosts(inv, limit):
        for area in areas:
            wanted = controls_for(inv.hosts[name], catalog.in_areas([area]))
            if wanted and not all((name, c.id) in judged for c in wanted):
                left.setdefault(name, set()).add(area)
    left_areas = [a for a in areas if any(a in found for found in left.values())]
    return left_areas, sorted(left)


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
