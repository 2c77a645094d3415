"""``dlict report monthly``: the computer and network statistics report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption, number_option
from dlict.core.clock import utc_now
from dlict.core.errors import InputError
from dlict.core.files import EVIDENCE_MODE, write_atomic
from dlict.core.numbers import NumberRange
from dlict.i18n import pick
from dlict.inventory import Inventory
from dlict.netdev.operations import config_history
from dlict.reports import monthly
from dlict.reports.monthly_render import render_html
from dlict.reports.pdf import render_pdf
from dlict.reports.prometheus_api import DEFAULT_TIMEOUT_S, DEFAULT_URL, PrometheusClient


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("monthly")(monthly_report)


def monthly_report(
    ctx: typer.Context,
    month_text: Annotated[str, typer.Option(
        "--month", help="The month: 2569-11 (B.E.) or 2026-11 (C.E.); a year of 2400 or more "
        "is read as B.E.")],
    site: Annotated[str | None, typer.Option(
        "--site", help="One school (site id or school code) instead of the district.")] = None,
    prometheus: Annotated[str, typer.Option(
        "--prometheus", help="Prometheus base URL (basic auth from DLICT_PROMETHEUS_USER / "
        "DLICT_PROMETHEUS_PASSWORD).")] = DEFAULT_URL,
    html_file: Annotated[Path | None, typer.Option("--html", help="Write the page.")] = None,
    pdf_file: Annotated[Path | None, typer.Option(
        "--pdf", help="Write the page as an A4 PDF to sign.")] = None,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write the per-school figures as CSV (UTF-8 with BOM).")] = None,
    timeout: Annotated[float, number_option(
        "--timeout", NumberRange(0, 600, low_open=True),
        "Seconds to wait for each Prometheus answer.")] = DEFAULT_TIMEOUT_S,
    _json: JsonOption = False,
) -> None:
    """Per school and for the district: link availability (school hours and overall), loss,
    RTT, DLTV reception, antivirus, log retention, configuration changes, silent agents.

    Exit 0 on success, 2 bad input (a month not begun, an unknown --site, an empty evidence
    store), 3 Prometheus cannot be reached.
    """
    actx = app_context(ctx)
    now = utc_now()
    month = monthly.parse_month(month_text, now)
    for option, target in (("--html", html_file), ("--pdf", pdf_file), ("--csv", csv_file)):
        if target is not None and not target.parent.is_dir():
            raise InputError(f"{option} {target}: the directory does not exist")
    inventory = actx.inventory()
    sites = monthly.schools_of(inventory, site)
    store_path = actx.settings.store_path
    if not store_path.is_file():
        raise InputError(f"{store_path}: no evidence store yet: nothing to report "
                         "(run dlict audit, logs check or intake first)")
    with actx.open_store() as store:
        if monthly.store_is_empty(store):
            raise InputError(f"{store_path}: the evidence store holds no runs: nothing to "
                             "report (run dlict audit, logs check or intake first)")
        stored = monthly.read_store(store, month, now)
    client = PrometheusClient.from_env(prometheus, timeout_s=timeout)
    figures = monthly.fetch(client.query_range, month, now, [s.id for s in sites])
    history = config_history(actx.settings.data_dir)
    changes = monthly.config_changes(
        lambda host: [(v.at, v.message) for v in history.versions(host)], inventory, month, now)
    report = monthly.assemble(month, now, now, sites, figures, stored, changes)
    _write(report, inventory, actx.lang, html_file, pdf_file, csv_file)

    if actx.json_output:
        actx.print_json(report.as_dict())
        return
    totals = report.totals()
    typer.echo(f"monthly report {month.label}: {totals['schools']} school(s), link up in "
               f"school hours {_pct(totals['school_hours'])}, {totals['without_data']} without "
               f"data")
    for target in (html_file, pdf_file, csv_file):
        if target is not None:
            typer.echo(f"wrote {target}")


def _write(report: monthly.MonthlyReport, inventory: Inventory, lang: str,
           html_file: Path | None, pdf_file: Path | None, csv_file: Path | None) -> None:
    """Every file is made in memory first: a failure leaves none of them half-written."""
    office = inventory.office
    page = render_html(report, lang, pick(office.name_th, office.name_en, lang),
                       (office.director_name,
                        pick(office.director_title_th, office.director_title_en, lang)),
                       (office.dlict_head_name,
                        pick(office.dlict_head_title_th, office.dlict_head_title_en, lang)))
    outputs: list[tuple[Path, str | bytes]] = []
    if html_file is not None:
        outputs.append((html_file, page))
    if pdf_file is not None:
        outputs.append((pdf_file, render_pdf(page, lang)))
    if csv_file is not None:
        outputs.append((csv_file, monthly.render_csv(report, lang)))
    for target, data in outputs:
        write_atomic(target, data, EVIDENCE_MODE)


def _pct(share: float | int | None) -> str:
    return "-" if share is None else f"{share * 100:.2f} %"
