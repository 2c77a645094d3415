"""The monthly report's page: tables, inline SVG charts, signature blocks."""

from __future__ import annotations

from dataclasses import dataclass

from dlict import __version__
from dlict.core.clock import format_local
from dlict.i18n import THAI_MONTHS, is_thai, lookup, name_of
from dlict.reports.env import report_environment
from dlict.reports.monthly import MonthlyReport, SchoolFigures, percent

BAR_WIDTH = 300
BAR_HEIGHT = 18
CELL = 8
LINE = CELL * 2 + 3
STRIP_LEFT = 130
STRIPS_PER_PICTURE = 40


@dataclass(frozen=True)
class Bar:
    label: str
    share: float | None
    y: int

    @property
    def width(self) -> int:
        return round((self.share or 0.0) * BAR_WIDTH)


@dataclass(frozen=True)
class Cell:
    x: int
    colour: str
    title: str
    days: int = 1

    @property
    def width(self) -> int:
        return self.days * CELL - 1


def month_text(report: MonthlyReport, lang: str) -> str:
    month = report.month
    if is_thai(lang):
        return f"{THAI_MONTHS[month.month - 1]} พ.ศ. {month.year + 543}"
    return f"{month.first_day:%B %Y}"


def amphoe_bars(report: MonthlyReport) -> list[Bar]:
    return [Bar(name, share, index * (BAR_HEIGHT + 4))
            for index, (name, share) in enumerate(report.amphoe_shares())]


@dataclass(frozen=True)
class StripLine:
    code: str
    y: int
    cells: list[Cell]


@dataclass(frozen=True)
class StripChunk:
    """One picture of up to STRIPS_PER_PICTURE schools: a page can hold it whole."""

    lines: list[StripLine]
    width: int
    height: int


def heat_strip(report: MonthlyReport, figures: SchoolFigures) -> list[Cell]:
    """One cell a run of days of the same colour (most schools: one for the month)."""
    cells: list[Cell] = []
    for index, day in enumerate(report.month.days):
        counts = figures.days.get(day)
        share = counts.share if counts is not None else None
        colour = _colour(share)
        text = f"{day.isoformat()}: {percent(share) or '-'}"
        if cells and cells[-1].colour == colour:
            last = cells[-1]
            cells[-1] = Cell(last.x, colour, f"{last.title}; {text}", last.days + 1)
        else:
            cells.append(Cell(STRIP_LEFT + index * CELL, colour, text))
    return cells


def heat_strips(report: MonthlyReport) -> list[StripChunk]:
    """Few pictures rather than one a school: the printer is much faster that way."""
    width = STRIP_LEFT + CELL * len(report.month.days)
    rows = report.schools
    chunks = []
    for first in range(0, len(rows), STRIPS_PER_PICTURE):
        part = rows[first:first + STRIPS_PER_PICTURE]
        lines = [StripLine(row.code, index * LINE, heat_strip(report, row.figures))
                 for index, row in enumerate(part)]
        chunks.append(StripChunk(lines, width, len(part) * LINE))
    return chunks


def _pct(share: float | None, digits: int = 1) -> str:
    return "-" if share is None else f"{percent(share, digits)} %"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _colour(share: float | None) -> str:
    if share is None:
        return "#ddd"
    if share >= 0.99:
        return "#2a7d2a"
    if share >= 0.95:
        return "#9c3"
    if share >= 0.8:
        return "#fc3"
    return "#c33"


def render_html(report: MonthlyReport, lang: str, office_name: str, director: tuple[str, str],
                head: tuple[str, str]) -> str:
    env = report_environment(lang)
    return env.get_template("monthly.html.j2").render(
        pct=_pct, ms=_ms,
        report=report, month=month_text(report, lang), totals=report.totals(),
        bars=amphoe_bars(report), bar_width=BAR_WIDTH, bar_height=BAR_HEIGHT,
        strips=heat_strips(report), cell=CELL, name=lambda site: name_of(site.meta, lang),
        office_name=office_name,
        category_name=lambda c: lookup(f"monthly.cat.{c}", lang) or c,
        director=director, head=head, until=report.until, version=__version__,
        when=format_local(report.generated_at, lang),
        first_day=report.month.first_day, last_day=report.last_day)
