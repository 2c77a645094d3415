"""The compliance report as the office signs it (HTML, the same page printed to PDF) and as a
spreadsheet (CSV, one row a control)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from dlict import __version__
from dlict.i18n import date_text, name_of, pick, text
from dlict.inventory import Inventory
from dlict.reports.compliance import ComplianceReport, SiteTrend, Tally
from dlict.reports.env import report_environment

BOM = "\ufeff"
SPARK_WIDTH = 240
SPARK_HEIGHT = 36


def percent_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def change_text(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def tally_text(tally: Tally) -> str:
    return f"{tally.compliant}/{tally.judged}"


def spark_segments(trend: SiteTrend) -> list[str]:
    """The trend's polylines (``x,y x,y``) in a SPARK_WIDTH × SPARK_HEIGHT box, 0-100 %
    bottom to top; a day without a score breaks the line."""
    count = len(trend.points)
    step = SPARK_WIDTH / max(count - 1, 1)
    segments: list[list[str]] = [[]]
    for index, point in enumerate(trend.points):
        if point is None:
            if segments[-1]:
                segments.append([])
            continue
        y = SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * point / 100
        segments[-1].append(f"{index * step:.1f},{y:.1f}")
    # a day alone between gaps is drawn as a line from the point to itself
    return [" ".join(s if len(s) > 1 else s * 2) for s in segments if s]


def render_html(report: ComplianceReport, inventory: Inventory, lang: str,
                made_at: datetime) -> str:
    """The page to sign, Thai (default) or English, dates B.E. in Thai."""
    env = report_environment(lang, percent=percent_text, change=change_text,
                             tally=tally_text)
    office = inventory.office
    site_names = {s.id: name_of(s.meta, lang) for s in inventory.sites}
    previous = report.period.previous
    return env.get_template("compliance.html.j2").render(
        report=report, office=office,
        office_name=name_of(office, lang),
        director_title=pick(office.director_title_th, office.director_title_en, lang),
        head_title=pick(office.dlict_head_title_th, office.dlict_head_title_en, lang),
        period_text=text("compliance.period", lang,
                         start=date_text(report.period.start, lang, era=True),
                         end=date_text(report.period.end, lang, era=True),
                         days=report.period.days),
        previous_text=text("compliance.previous", lang,
                           start=date_text(previous.start, lang, era=True),
                           end=date_text(previous.end, lang, era=True)),
        site_names=site_names, made_at=made_at, version=__version__,
        sparks={t.site: spark_segments(t) for t in report.trends},
        spark_width=SPARK_WIDTH, spark_height=SPARK_HEIGHT,
    )


CSV_COLUMNS = ("clause", "control", "title", "severity", "compliant", "judged", "percent",
               "previous_compliant", "previous_judged", "previous_percent", "unreachable",
               "not_applicable", "runs")


def render_csv(report: ComplianceReport, lang: str) -> str:
    """One row a control (UTF-8 with BOM, for Excel); the header row is English field names,
    the titles are in ``lang``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for clause in report.clauses:
        for line in clause.controls:
            writer.writerow([
                clause.clause, line.control.id, line.control.title(lang),
                line.control.severity.value, line.now.compliant, line.now.judged,
                percent_text(line.now.percent), line.before.compliant, line.before.judged,
                percent_text(line.before.percent), line.now.unreachable,
                line.now.not_applicable, " ".join(str(r) for r in line.runs)])
    return BOM + out.getvalue()
