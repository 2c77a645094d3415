"""``dlict report``: reports for the office and for OBEC."""

from __future__ import annotations

import math
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dlict.cli import report_compliance, report_monthly
from dlict.cli.context import app_context
from dlict.cli.options import JsonOption, PdfOption, number_option
from dlict.cli.text import printable, shown
from dlict.core.clock import utc_now
from dlict.core.errors import InputError
from dlict.core.files import write_private
from dlict.core.numbers import NumberRange
from dlict.reports.dltv_survey import PRESENCE_MATCH, Survey, assemble, collect
from dlict.reports.dltv_survey_render import (
    columns as form_columns,
)
from dlict.reports.dltv_survey_render import (
    form_rows,
    period_text,
    render_csv,
    render_html,
    unchecked_reason,
)
from dlict.reports.dltv_survey_results import survey_results
from dlict.reports.document import check_targets, write_report
from dlict.reports.prometheus_api import (
    DEFAULT_TIMEOUT_S,
    DEFAULT_URL,
    PrometheusClient,
    choose_step,
)

app = typer.Typer(help="Reports for the office: compliance, monthly statistics, the DLTV "
                  "equipment survey.", no_args_is_help=True)

MAX_DAYS = 400
RUN_KIND = "dltv-survey"


@app.command("dltv-survey")
def dltv_survey(
    ctx: typer.Context,
    prometheus: Annotated[str, typer.Option(
        "--prometheus", help="Prometheus base URL (basic auth from DLICT_PROMETHEUS_USER / "
        "DLICT_PROMETHEUS_PASSWORD).")] = DEFAULT_URL,
    days: Annotated[int, number_option("--days", NumberRange(1, MAX_DAYS, whole=True),
                                       f"Days back from now, 1 to {MAX_DAYS}.")] = 30,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write the survey form as CSV (UTF-8 with BOM, for Excel).")] = None,
    html_file: Annotated[Path | None, typer.Option(
        "--html", help="Write the report page to sign (Thai; --lang en).")] = None,
    pdf: PdfOption = None,
    timeout: Annotated[float, number_option(
        "--timeout", NumberRange(0, 600, low_open=True),
        "Seconds to wait for each Prometheus answer.")] = DEFAULT_TIMEOUT_S,
    _json: JsonOption = False,
) -> None:
    """Schools whose DLTV satellite equipment needs replacement or repair, from the last N days.

    Without --csv, --html or --pdf a short table is printed. Exit 0 when no school needs
    work, 1 when some do, 2 bad input, 3 Prometheus cannot be reached.
    """
    actx = app_context(ctx)
    for option, target in (("--csv", csv_file), ("--html", html_file)):
        if target is not None and not target.parent.is_dir():
            raise InputError(f"{option} {target}: the directory does not exist")
    check_targets(html_file, pdf, html_option="--html")
    client = PrometheusClient.from_env(prometheus, timeout_s=timeout)
    inventory = actx.inventory()

    end = utc_now()
    start = end - timedelta(days=days)
    step = choose_step((end - start).total_seconds())
    # Steps on multiples of the step size: every query sees the same timestamps.
    first = math.ceil(start.timestamp() / step) * step
    last = math.floor(end.timestamp() / step) * step
    present = set(client.label_values("site", [PRESENCE_MATCH], start.timestamp(),
                                      end.timestamp()))
    verdicts = collect(inventory, lambda query: client.query_range(query, first, last, step),
                       present, step_s=step)
    survey = assemble(inventory, verdicts, present, start=start, end=end, step_s=step)
    record = actx.record(RUN_KIND, survey_results(survey))

    if not present:
        sys.stderr.write(f"dlict: warning: Prometheus at {printable(client.url)} has no "
                         f"{PRESENCE_MATCH} series in the last {days} days\n")
    for warning in survey.warnings:
        sys.stderr.write(f"dlict: warning: {printable(warning)}\n")
    lang = actx.lang
    if csv_file is not None:
        write_private(csv_file, render_csv(survey, lang))
    made_at = utc_now()
    write_report(lambda printed: render_html(survey, lang, made_at, inventory.office,
                                             printed=printed),
                 lang, html=html_file, pdf=pdf)

    if actx.json_output:
        actx.print_json(survey.as_dict() | {"run": record.id})
    else:
        if csv_file is None and html_file is None and pdf is None:
            _print_table(actx.console, survey, lang)
        typer.echo(f"{_summary(survey)}; stored as run {record.id}")
        for target in (csv_file, html_file, pdf):
            if target is not None:
                typer.echo(f"wrote {target}")
    if record.exit_code:
        raise typer.Exit(record.exit_code)


def _print_table(console: Console, survey: Survey, lang: str) -> None:
    columns = form_columns(lang)
    picked = (0, 1, 2, 5, 6, 7)
    table = Table(title=period_text(survey, lang), title_justify="left")
    for index in picked:
        table.add_column(columns[index], overflow="fold")
    for row in form_rows(survey, lang):
        table.add_row(*(shown(row[index]) for index in picked))
    if survey.findings:
        console.print(table)
    for entry in survey.unchecked + survey.no_data:
        console.print(shown(f"{entry.school.code} {entry.school.name(lang)}: "
                            f"{unchecked_reason(entry, lang)}"))


def _summary(survey: Survey) -> str:
    return (f"DLTV survey {period_text(survey, 'en')}: {len(survey.findings)} school(s) need "
            f"equipment replaced or repaired, {len(survey.unchecked)} could not be checked, "
            f"{len(survey.no_data)} without data, {len(survey.healthy)} ok")


for _part in (report_compliance, report_monthly):
    _part.register(app)
