"""The monthly computer and network statistics report (SOP 5.7): what one month looked like.

Figures come from what is already recorded, never re-measured: Prometheus history (read with
``query_range``) and the evidence store. So that a district of 500 schools stays fast, Prometheus
does the aggregation over the raw samples (``*_over_time`` of plain range selectors, no
subqueries): three range queries in all, whatever the number of schools, each answering one
number per school and day.

- *day*: per site and Bangkok day, the link's samples that said up and all its samples.
- *lessons*: the same over each weekday's school hours, and for DLTV the samples where the
  tuner was locked against those where the monitor tried to read the receiver.
- *month*: per site, the mean packet loss and the median and 95th percentile of the
  round-trip time over the month (Prometheus's ``quantile_over_time``).

Shares are sums of samples over the days, so a day without data weighs nothing.
School hours are the project's one definition (``dlict.reports.dltv_survey``): 08:00–16:00
Asia/Bangkok, Monday to Friday.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from dlict.core.clock import BANGKOK, BE_OFFSET
from dlict.core.errors import InputError
from dlict.core.metric_names import DLTV_LOCKED, DLTV_UP, LINK_UP, PROBE_LOSS, PROBE_RTT
from dlict.core.store import EvidenceStore
from dlict.i18n import name_of
from dlict.incidents.cases import CaseBook
from dlict.inventory import Inventory, Site, SiteKind
from dlict.logs.results import TREE_SITE
from dlict.reports.dltv_survey import SCHOOL_END, SCHOOL_START, SCHOOL_WEEKDAYS
from dlict.reports.prometheus_api import Series

DAY_S = 86400
# A B.E. year is C.E. + 543: 2400 and above can only be B.E. for a month this office reports.
BE_FROM = 2400
WORST_COUNT = 10
SILENT_AFTER = timedelta(days=1)
LOG_RUN_KIND = "logs-check"

RangeQuery = Callable[[str, float, float, int], Sequence[Series]]

_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass(frozen=True)
class Month:
    """One calendar month in Bangkok time; ``year`` is C.E."""

    year: int
    month: int

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> list[date]:
        count = calendar.monthrange(self.year, self.month)[1]
        return [date(self.year, self.month, d) for d in range(1, count + 1)]

    @property
    def start(self) -> datetime:
        """Bangkok midnight of the first day, in UTC."""
        return day_start(self.first_day)

    @property
    def end(self) -> datetime:
        """Bangkok midnight after the last day, in UTC."""
        return day_start(self.days[-1]) + timedelta(days=1)

    @property
    def label(self) -> str:
        """``2569-11``: the B.E. form the office writes."""
        return f"{self.year + BE_OFFSET}-{self.month:02d}"


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=BANGKOK).astimezone(UTC)


def parse_month(text: str, now: datetime) -> Month:
    """``2569-11`` (B.E.) or ``2026-11`` (C.E.): a year of 2400 or more is B.E.

    Raises:
        InputError: not YYYY-MM, no such month, or a month that has not begun in Bangkok.
    """
    found = _MONTH.fullmatch(text.strip())
    if found is None:
        raise InputError(f"--month {text!r}: expected YYYY-MM, e.g. 2569-11 (B.E.) or 2026-11")
    year, number = int(found[1]), int(found[2])
    if year >= BE_FROM:
        year -= BE_OFFSET
    if not 1 <= number <= 12 or year < 1970:
        raise InputError(f"--month {text!r}: no such month")
    month = Month(year, number)
    if month.start > now:
        today = now.astimezone(BANGKOK)
        raise InputError(f"--month {text}: the month has not begun yet (today is "
                         f"{today.year + BE_OFFSET}-{today.month:02d}-{today.day:02d} B.E.)")
    return month


# ---- Prometheus ------------------------------------------------------------------------------

# Selectors of the office's own view (an agent's series carry vantage="agent").
LINK = f'{LINK_UP.name}{{vantage=""}}'
LOSS = f'{PROBE_LOSS.name}{{vantage=""}}'
RTT = f'{PROBE_RTT.name}{{vantage=""}}'
SCHOOL_DAY_S = (SCHOOL_END.hour - SCHOOL_START.hour) * 3600


def _figure(name: str, expression: str) -> str:
    return f'label_replace({expression}, "figure", "{name}", "", "")'


def _per_site(aggregation: str, function: str, selector: str, range_s: int, *args: str) -> str:
    prefix = "".join(f"{a}, " for a in args)
    return f"{aggregation} by (site) ({function}({prefix}{selector}[{range_s}s]))"


def day_query(range_s: int) -> str:
    """Per site, the link's up samples and all its samples in the ``range_s`` before."""
    return " or ".join([
        _figure("link_up", _per_site("max", "sum_over_time", LINK, range_s)),
        _figure("link_n", _per_site("max", "count_over_time", LINK, range_s)),
    ])


def lessons_query(range_s: int) -> str:
    """The same for the link and for DLTV reception, evaluated at the end of school hours:
    a DLTV sample counts when the monitor tried to read the receiver (``check_up``), and is
    received when the tuner was locked."""
    return " or ".join([
        _figure("school_up", _per_site("max", "sum_over_time", LINK, range_s)),
        _figure("school_n", _per_site("max", "count_over_time", LINK, range_s)),
        _figure("dltv_up", _per_site("max", "sum_over_time", DLTV_LOCKED.name, range_s)),
        _figure("dltv_n", _per_site("max", "count_over_time", DLTV_UP.name, range_s)),
    ])


def month_query(range_s: int) -> str:
    """Per site (the mean over its probe targets): loss, median and 95th percentile RTT."""
    return " or ".join([
        _figure("loss", _per_site("avg", "avg_over_time", LOSS, range_s)),
        _figure("rtt_p50", _per_site("avg", "quantile_over_time", RTT, range_s, "0.5")),
        _figure("rtt_p95", _per_site("avg", "quantile_over_time", RTT, range_s, "0.95")),
    ])


@dataclass
class Counts:
    up: float = 0.0
    n: int = 0

    @property
    def share(self) -> float | None:
        return self.up / self.n if self.n else None


@dataclass
class SchoolFigures:
    """One school's month; shares 0–1, ``None`` where Prometheus had nothing."""

    days: dict[date, Counts] = field(default_factory=dict)
    link: Counts = field(default_factory=Counts)
    school: Counts = field(default_factory=Counts)
    dltv: Counts = field(default_factory=Counts)
    loss: float | None = None
    rtt_p50_s: float | None = None
    rtt_p95_s: float | None = None


@dataclass(frozen=True)
class Window:
    """Samples from ``end - range_s`` to ``end`` (Unix seconds) of one day."""

    day: date
    end: int
    range_s: int


def windows(month: Month, until: datetime, *, school_hours: bool) -> list[Window]:
    """Per day of the month up to ``until``: the whole day, or its school hours (weekdays).

    A window ends one second before its end time and reaches one second further back than
    its length, so Prometheus 2 (both ends in the range) and 3 (start left out) read the
    same samples: those from its first second to its last.
    """
    found = []
    limit = int(until.timestamp())
    for day in month.days:
        first = day_start(day)
        if school_hours:
            if day.weekday() not in SCHOOL_WEEKDAYS:
                continue
            first += timedelta(hours=SCHOOL_START.hour)
            length = SCHOOL_DAY_S
        else:
            length = DAY_S
        start = int(first.timestamp())
        end = min(start + length, limit) - 1
        if end >= start:
            found.append(Window(day, end, end - start + 1))
    return found


def fetch(query_range: RangeQuery, month: Month, until: datetime,
          sites: Iterable[str]) -> dict[str, SchoolFigures]:
    """Every school's figures for ``month`` up to ``until`` (the month's end or now): three
    range queries for the whole district (four or five for a month in progress)."""
    figures = {site: SchoolFigures() for site in sites}
    for query, school_hours in ((day_query, False), (lessons_query, True)):
        picked = windows(month, until, school_hours=school_hours)
        for found, day in _per_window(query_range, query, picked):
            school = figures.get(found.labels.get("site", ""))
            if school is not None:
                _add_daily(school, day, found.labels.get("figure", ""), found.value)
    start = int(month.start.timestamp())
    end = int(min(month.end, until).timestamp()) - 1
    if end < start:
        return figures
    for series in query_range(month_query(end - start + 1), end, end, DAY_S):
        school = figures.get(series.labels.get("site", ""))
        field_name = _MONTH_FIELDS.get(series.labels.get("figure", ""))
        if school is not None and field_name is not None and series.points:
            setattr(school, field_name, series.points[-1][1])
    return figures


_MONTH_FIELDS = {"loss": "loss", "rtt_p50": "rtt_p50_s", "rtt_p95": "rtt_p95_s"}


class _Value(NamedTuple):
    labels: dict[str, str]
    value: float


def _per_window(query_range: RangeQuery, query: Callable[[int], str], picked: list[Window]
                ) -> Iterator[tuple[_Value, date]]:
    """The query's value in each window: one call for the windows of the same length a
    whole number of days apart (all of them, but for a day cut short by now)."""
    groups: dict[tuple[int, int], list[Window]] = {}
    for window in picked:
        groups.setdefault((window.range_s, window.end % DAY_S), []).append(window)
    for (range_s, _), group in groups.items():
        by_end = {w.end: w.day for w in group}
        for series in query_range(query(range_s), group[0].end, group[-1].end, DAY_S):
            for ts, value in series.points:
                day = by_end.get(int(ts))
                if day is not None:
                    yield _Value(series.labels, value), day


def _add_daily(school: SchoolFigures, day: date, figure: str, value: float) -> None:
    kind, _, part = figure.partition("_")
    counts = {"link": school.link, "school": school.school, "dltv": school.dltv}.get(kind)
    if counts is None:
        return
    targets = [counts]
    if kind == "link":
        targets.append(school.days.setdefault(day, Counts()))
    for target in targets:
        if part == "up":
            target.up += value
        else:
            target.n += int(value)


# ---- the evidence store ----------------------------------------------------------------------


@dataclass(frozen=True)
class LogSource:
    site: str
    host: str
    ok: bool
    evidence: str
    checked_at: datetime


@dataclass(frozen=True)
class ConfigChange:
    site: str
    host: str
    at: datetime
    message: str


@dataclass(frozen=True)
class SilentAgent:
    site: str
    host: str
    last_seen: datetime


@dataclass
class StoreFigures:
    log_sources: list[LogSource] = field(default_factory=list)
    av_failures: dict[str, int] = field(default_factory=dict)  # site → hosts failing AV-*
    agents_silent: list[SilentAgent] = field(default_factory=list)
    incidents: dict[str, int] = field(default_factory=dict)  # category → cases opened


def store_is_empty(store: EvidenceStore) -> bool:
    return not store.runs(limit=1)


def read_store(store: EvidenceStore, month: Month, until: datetime) -> StoreFigures:
    start, end = month.start, min(month.end, until)
    figures = StoreFigures()
    with store.reading() as conn:
        figures.log_sources = _log_sources(conn, start, end)
        figures.av_failures = _av_failures(conn, start, end)
        figures.agents_silent = _silent_agents(conn, end)
    figures.incidents = incidents_by_category(store, start, end)
    return figures


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _log_sources(conn: sqlite3.Connection, start: datetime, end: datetime) -> list[LogSource]:
    """Each source as the month's last ``logs check`` saw it."""
    row = conn.execute("SELECT id FROM runs WHERE kind = ? AND started_at >= ? AND started_at < ?"
                       " ORDER BY started_at DESC LIMIT 1",
                       (LOG_RUN_KIND, _iso(start), _iso(end))).fetchone()
    if row is None:
        return []
    rows = conn.execute("SELECT site, host, status, evidence, observed_at FROM results"
                        " WHERE run_id = ? AND site != ? ORDER BY site, host",
                        (row[0], TREE_SITE))
    return [LogSource(site, host, status == "pass", evidence, datetime.fromisoformat(at))
            for site, host, status, evidence, at in rows]


def _av_failures(conn: sqlite3.Connection, start: datetime, end: datetime) -> dict[str, int]:
    rows = conn.execute(
        "SELECT site, count(DISTINCT host) FROM results WHERE control LIKE 'AV-%'"
        " AND status = 'fail' AND observed_at >= ? AND observed_at < ? GROUP BY site",
        (_iso(start), _iso(end)))
    return {site: int(count) for site, count in rows}


def _silent_agents(conn: sqlite3.Connection, end: datetime) -> list[SilentAgent]:
    """Agents whose last batch came more than a day before the period's end."""
    rows = conn.execute("SELECT site, host, last_seen FROM agent_state ORDER BY site, host")
    silent = []
    for site, host, seen in rows:
        last = datetime.fromisoformat(seen)
        if end - last > SILENT_AFTER:
            silent.append(SilentAgent(site, host, last))
    return silent


def incidents_by_category(store: EvidenceStore, start: datetime, end: datetime
                          ) -> dict[str, int]:
    """Incident cases opened between the times (closed since or not), by category."""
    counts: dict[str, int] = {}
    for case in CaseBook(store).cases(include_closed=True):
        if start <= case.opened_at < end:
            counts[case.category.value] = counts.get(case.category.value, 0) + 1
    return dict(sorted(counts.items()))


def config_changes(versions: Callable[[str], Sequence[tuple[datetime, str]]],
                   inventory: Inventory, month: Month, until: datetime) -> list[ConfigChange]:
    """Stored device configuration versions made in the month (the netdev history)."""
    start, end = month.start, min(month.end, until)
    changes = []
    for site in inventory.sites:
        for host in site.hosts:
            changes += [ConfigChange(site.id, host, at, message)
                        for at, message in versions(host) if start <= at < end]
    return sorted(changes, key=lambda c: (c.at, c.host))


# ---- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolRow:
    site: Site
    figures: SchoolFigures
    av_failures: int
    config_changes: int
    agents_silent: int

    @property
    def code(self) -> str:
        return self.site.meta.school_code or self.site.id

    @property
    def amphoe(self) -> str:
        return self.site.meta.amphoe


@dataclass
class MonthlyReport:
    month: Month
    until: datetime
    generated_at: datetime
    schools: list[SchoolRow]
    store: StoreFigures
    changes: list[ConfigChange]

    @property
    def last_day(self) -> date:
        """The last Bangkok day the report covers (today for a month in progress)."""
        end = min(self.month.end, self.until) - timedelta(seconds=1)
        return end.astimezone(BANGKOK).date()

    @property
    def worst(self) -> list[SchoolRow]:
        """The schools with the least link availability in school hours (data only)."""
        known = [s for s in self.schools if s.figures.school.share is not None]
        known.sort(key=lambda s: (s.figures.school.share or 0.0, s.code))
        return known[:WORST_COUNT]

    @property
    def flagged(self) -> list[SchoolRow]:
        """Schools with antivirus failures, configuration changes or silent agents."""
        return [s for s in self.schools
                if s.av_failures or s.config_changes or s.agents_silent]

    def totals(self) -> dict[str, float | int | None]:
        link, school, dltv = Counts(), Counts(), Counts()
        for row in self.schools:
            for total, part in ((link, row.figures.link), (school, row.figures.school),
                                (dltv, row.figures.dltv)):
                total.up += part.up
                total.n += part.n
        return {"schools": len(self.schools), "link": link.share, "school_hours": school.share,
                "dltv_school_hours": dltv.share,
                "without_data": sum(1 for s in self.schools if s.figures.link.n == 0),
                "config_changes": len(self.changes),
                "agents_silent": len(self.store.agents_silent),
                "av_failures": sum(self.store.av_failures.values()),
                "log_sources_failing": sum(1 for s in self.store.log_sources if not s.ok)}

    def amphoe_shares(self) -> list[tuple[str, float | None]]:
        """Link availability in school hours per amphoe, by name."""
        per: dict[str, Counts] = {}
        for row in self.schools:
            counts = per.setdefault(row.amphoe, Counts())
            counts.up += row.figures.school.up
            counts.n += row.figures.school.n
        return sorted(((name, c.share) for name, c in per.items()), key=lambda p: p[0])

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.label, "start": self.month.start.isoformat(),
            "end": min(self.month.end, self.until).isoformat(),
            "totals": self.totals(),
            "amphoe": [{"amphoe": a, "school_hours": s} for a, s in self.amphoe_shares()],
            "schools": [_school_dict(row) for row in self.schools],
            "worst": [row.code for row in self.worst],
            "log_sources": [{"site": s.site, "host": s.host, "ok": s.ok,
                             "evidence": s.evidence} for s in self.store.log_sources],
            "config_changes": [{"site": c.site, "host": c.host, "at": c.at.isoformat(),
                                "message": c.message} for c in self.changes],
            "agents_silent": [{"site": a.site, "host": a.host,
                               "last_seen": a.last_seen.isoformat()}
                              for a in self.store.agents_silent],
            "incidents": self.store.incidents,
        }


def _school_dict(row: SchoolRow) -> dict[str, Any]:
    f = row.figures
    return {"code": row.code, "site": row.site.id, "name_th": row.site.meta.name_th,
            "name_en": row.site.meta.name_en, "amphoe": row.amphoe,
            "link": f.link.share, "school_hours": f.school.share,
            "dltv_school_hours": f.dltv.share, "loss": f.loss,
            "rtt_median_ms": _ms(f.rtt_p50_s), "rtt_p95_ms": _ms(f.rtt_p95_s),
            "av_hosts_failing": row.av_failures, "config_changes": row.config_changes,
            "agents_silent": row.agents_silent,
            "days": {d.isoformat(): c.share for d, c in sorted(f.days.items())}}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def schools_of(inventory: Inventory, only: str | None) -> list[Site]:
    """The inventory's schools, or the one ``--site`` names.

    Raises:
        InputError: ``only`` is not a school of the inventory.
    """
    schools = [s for s in inventory.sites if s.kind is SiteKind.SCHOOL]
    if only is None:
        return schools
    picked = [s for s in schools if only in (s.id, s.meta.school_code)]
    if not picked:
        raise InputError(f"--site {only}: not a school of the inventory {inventory.source}")
    return picked


def assemble(month: Month, until: datetime, generated_at: datetime, sites: Sequence[Site],
             figures: dict[str, SchoolFigures], store: StoreFigures,
             changes: list[ConfigChange]) -> MonthlyReport:
    wanted = {s.id for s in sites}
    changes = [c for c in changes if c.site in wanted]
    store.agents_silent = [a for a in store.agents_silent if a.site in wanted]
    store.log_sources = [s for s in store.log_sources if s.site in wanted]
    rows = [SchoolRow(site, figures.get(site.id) or SchoolFigures(),
                      store.av_failures.get(site.id, 0),
                      sum(1 for c in changes if c.site == site.id),
                      sum(1 for a in store.agents_silent if a.site == site.id))
            for site in sites]
    rows.sort(key=lambda r: (r.amphoe, r.code))
    return MonthlyReport(month, until, generated_at, rows, store, changes)


# ---- CSV -------------------------------------------------------------------------------------


def render_csv(report: MonthlyReport, lang: str) -> str:
    from dlict.i18n import text

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([text(f"monthly.col.{c}", lang) for c in CSV_COLUMNS])
    for row in report.schools:
        f = row.figures
        writer.writerow([row.code, name_of(row.site.meta, lang), row.amphoe,
                         percent(f.school.share), percent(f.link.share), percent(f.dltv.share),
                         percent(f.loss, 2), number(_ms(f.rtt_p50_s)),
                         number(_ms(f.rtt_p95_s)), row.av_failures, row.config_changes,
                         row.agents_silent])
    return "\ufeff" + out.getvalue()


CSV_COLUMNS = ("code", "name", "amphoe", "school_hours", "link", "dltv", "loss", "rtt_median",
               "rtt_p95", "av", "changes", "silent")


def percent(share: float | None, digits: int = 1) -> str:
    return "" if share is None else f"{share * 100:.{digits}f}"


def number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
