"""``dlict report compliance``: the cyber-security operations report by SOP clause 5.5.1-5.5.5."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption
from dlict.cli.text import shown
from dlict.controls import load_catalog
from dlict.core.clock import BANGKOK, utc_now
from dlict.core.errors import ExitCode, InputError
from dlict.core.files import EVIDENCE_MODE, write_atomic, write_private
from dlict.i18n import text
from dlict.reports.compliance import (
    ComplianceReport,
    Period,
    build,
    choose_period,
    has_evidence,
)
from dlict.reports.compliance_render import (
    change_text,
    percent_text,
    render_csv,
    render_html,
    tally_text,
)


def compliance(
    ctx: typer.Context,
    from_day: Annotated[str | None, typer.Option(
        "--from", help="First day (Bangkok), YYYY-MM-DD; a year from 2400 up is B.E. "
        "(2569-11-01). Default: 30 days ending on --to.")] = None,
    to_day: Annotated[str | None, typer.Option(
        "--to", help="Last day (Bangkok), included; default today.")] = None,
    site: Annotated[str | None, typer.Option(
        "--site", help="Only this site (school code or office id from the inventory).")] = None,
    html_file: Annotated[Path | None, typer.Option(
        "--html", help="Write the report page (Thai; --lang en).")] = None,
    pdf_file: Annotated[Path | None, typer.Option(
        "--pdf", help="Write the report as an A4 PDF with the Thai font embedded.")] = None,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write one row a control (UTF-8 with BOM, for Excel).")] = None,
    _json: JsonOption = False,
) -> None:
    """The cyber-security operations report by SOP clause 5.5.1-5.5.5, from the evidence store.

    Per clause: the controls, the hosts that comply, the change since the previous period (as
    long, just before --from), open exceptions and the runs that prove it; failures first;
    unreachable hosts counted apart. Exit 0 when no control fails at the end of the period, 1
    when some do, 2 bad input (an empty store included), 3 operational failure.
    """
    actx = app_context(ctx)
    targets = {"--html": html_file, "--pdf": pdf_file, "--csv": csv_file}
    for option, target in targets.items():
        if target is not None and not target.parent.is_dir():
            raise InputError(f"{option} {target}: the directory does not exist")
    period = choose_period(from_day, to_day, utc_now().astimezone(BANGKOK).date())
    inventory = actx.inventory()
    if site is not None and site not in {s.id for s in inventory.sites}:
        raise InputError(f"--site {site}: no such site in {inventory.source}")
    report = _report(actx, period, site)

    lang = actx.lang
    made_at = utc_now()
    # Everything is rendered before anything is written: a failure leaves no file behind.
    html = render_html(report, inventory, lang, made_at)
    pdf = None
    if pdf_file is not None:
        from dlict.reports.pdf import render_pdf

        pdf = render_pdf(html, lang)
    if html_file is not None:
        write_private(html_file, html)
    if pdf_file is not None and pdf is not None:
        write_atomic(pdf_file, pdf, EVIDENCE_MODE)
    if csv_file is not None:
        write_private(csv_file, render_csv(report, lang))

    if actx.json_output:
        actx.print_json(report.as_dict())
    else:
        _print_summary(actx, report)
        for target in targets.values():
            if target is not None:
                typer.echo(f"wrote {target}")
    if report.findings:
        raise typer.Exit(ExitCode.FINDINGS)


def _report(actx: AppContext, period: Period, site: str | None) -> ComplianceReport:
    store_path = actx.settings.store_path
    if not store_path.exists():
        raise InputError(f"{store_path}: no evidence store here; run dlict audit first "
                         f"(or give --data-dir)")
    with actx.open_store() as store:
        if not has_evidence(store):
            raise InputError(f"{store_path}: the evidence store holds no audit results; run "
                             f"dlict audit first")
        report = build(store, load_catalog(), period, site)
    if not report.runs:
        where = f" for site {site}" if site else ""
        raise InputError(f"{store_path}: no audit results{where} from "
                         f"{period.start.isoformat()} to {period.end.isoformat()}")
    return report


def _print_summary(actx: AppContext, report: ComplianceReport) -> None:
    lang = actx.lang
    table = Table(title=text("compliance.summary", lang), title_justify="left")
    for key in ("clause", "area", "compliant", "score", "score_before", "change",
                "unreachable", "not_applicable"):
        table.add_column(text(f"compliance.{key}", lang))
    for clause in report.clauses:
        table.add_row(clause.clause, text(f"compliance.area.{clause.area}", lang),
                      tally_text(clause.now), percent_text(clause.now.percent),
                      percent_text(clause.before.percent), change_text(clause.change),
                      str(clause.hosts_unreachable), str(clause.now.not_applicable))
    actx.console.print(table)
    for finding in report.findings:
        actx.console.print(shown(f"{finding.control.severity.value} {finding.control.id} "
                                 f"{finding.site} {finding.host}: {finding.status.value} "
                                 f"(run {finding.run_id})"))
    typer.echo(f"compliance {report.period.start.isoformat()} to {report.period.end.isoformat()}"
               f": {report.total.compliant}/{report.total.judged} host-controls comply, "
               f"{len(report.findings)} failing, {len(report.unreachable)} host(s) unreachable, "
               f"{len(report.runs)} run(s) referred to")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("compliance")(compliance)
