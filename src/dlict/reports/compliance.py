"""The cyber-security operations report by SOP clause 5.5.1-5.5.5, from the evidence store.

What is read: the results of the runs that judge controls (``audit``, ``netdev-audit``,
``netscan``, ``agent``) whose control is in the catalog, by the time each was observed. What a
host's state is: for each host and control, its latest result observed in the period (Bangkok
days, both ends included). The previous period has the same length and ends the day before.

Counting: a host × control that passes complies; a fail or an error is judged and does not
comply; an unreachable host was not judged and is counted apart (never a 0 %); a not-applicable
result (skipped, the evidence says why) is the one kind of exception dlict records. dlict keeps
no register of waivers or accepted risks, so the report says that rather than invent one.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from dlict.controls import Catalog, Control, Severity
from dlict.core.clock import BANGKOK, to_utc
from dlict.core.errors import InputError
from dlict.core.results import Status
from dlict.core.store import EvidenceStore, Run
from dlict.i18n import BE_OFFSET

#: Run kinds whose results judge controls.
EVIDENCE_KINDS = ("audit", "netdev-audit", "netscan", "agent")
_KINDS_JSON = json.dumps(EVIDENCE_KINDS)
#: A report covers at most this many days (and so does its previous period).
MAX_DAYS = 366
DEFAULT_DAYS = 30
#: A year from here up is a Buddhist-Era year (C.E. 2400 is far off; B.E. 2400 is 1857).
BE_YEAR_FROM = 2400

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}
_NOT_COMPLIANT = (Status.FAIL, Status.ERROR)


def parse_day(text: str, option: str) -> date:
    """A day typed as ``YYYY-MM-DD``, the year C.E. (2026-11-01) or B.E. (2569-11-01).

    Raises:
        InputError: not such a day.
    """
    match = _DAY.match(text.strip())
    if match is None:
        raise InputError(f"{option} {text!r}: not a date: give YYYY-MM-DD (C.E. 2026-11-01 or "
                         f"B.E. 2569-11-01)")
    year, month, day = (int(part) for part in match.groups())
    if year >= BE_YEAR_FROM:
        year -= BE_OFFSET
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InputError(f"{option} {text!r}: not a date: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Period:
    """Bangkok days ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    @property
    def since(self) -> datetime:
        """The first moment of the period, in UTC."""
        return to_utc(datetime.combine(self.start, time(), BANGKOK))

    @property
    def until(self) -> datetime:
        """The first moment after the period, in UTC."""
        return to_utc(datetime.combine(self.end + timedelta(days=1), time(), BANGKOK))

    def day_ends(self) -> list[tuple[date, datetime]]:
        return [(self.start + timedelta(days=n),
                 to_utc(datetime.combine(self.start + timedelta(days=n + 1), time(), BANGKOK)))
                for n in range(self.days)]


def choose_period(from_text: str | None, to_text: str | None, today: date) -> Period:
    """The period the options ask for: ``--to`` defaults to today, ``--from`` to 30 days
    ending on ``--to``.

    Raises:
        InputError: a bad date, ``--from`` after ``--to``, a day after today, or too long.
    """
    end = parse_day(to_text, "--to") if to_text is not None else today
    start = (parse_day(from_text, "--from") if from_text is not None
             else end - timedelta(days=DEFAULT_DAYS - 1))
    for option, day in (("--from", start), ("--to", end)):
        if day > today:
            raise InputError(f"{option} {day.isoformat()}: in the future (today is "
                             f"{today.isoformat()}); nothing has been observed yet")
    if start > end:
        raise InputError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    period = Period(start, end)
    if period.days > MAX_DAYS:
        raise InputError(f"--from {start.isoformat()} --to {end.isoformat()}: {period.days} "
                         f"days; a report covers at most {MAX_DAYS}")
    return period


@dataclass(frozen=True, slots=True)
class Observation:
    """A stored control result and the run that stored it (read back from the store, so not
    validated again as a new ``Result`` would be: a district's months are many rows)."""

    run_id: int
    kind: str
    site: str
    host: str
    control: str
    status: Status
    evidence: str
    observed_at: datetime


_STATUS = {status.value: status for status in Status}


def has_evidence(store: EvidenceStore) -> bool:
    """Whether any run that judges controls has stored a result with a control."""
    with store.reading() as conn:
        row = conn.execute(
            "SELECT 1 FROM results r JOIN runs ON runs.id = r.run_id"
            " WHERE runs.kind IN (SELECT value FROM json_each(?)) AND r.control IS NOT NULL"
            " LIMIT 1", (_KINDS_JSON,)).fetchone()
    return row is not None


def observations(store: EvidenceStore, since: datetime, until: datetime,
                 site: str | None = None) -> list[Observation]:
    """The control results observed from ``since`` up to (not including) ``until``, oldest
    first; of one site when ``site`` is given."""
    query = ("SELECT r.run_id, runs.kind, r.site, r.host, r.control, r.status, r.evidence,"
             " r.observed_at FROM results r JOIN runs ON runs.id = r.run_id"
             " WHERE runs.kind IN (SELECT value FROM json_each(?)) AND r.control IS NOT NULL"
             " AND r.observed_at >= ? AND r.observed_at < ?")
    # Stored times are UTC isoformat texts: a day's margin each side, the exact cut below.
    args: list[object] = [_KINDS_JSON, (since - timedelta(days=1)).isoformat(),
                          (until + timedelta(days=1)).isoformat()]
    if site is not None:
        query += " AND r.site = ?"
        args.append(site)
    with store.reading() as conn:
        rows = conn.execute(query + " ORDER BY r.observed_at, r.id", args).fetchall()
    found = []
    for run_id, kind, site_id, host, control, status, evidence, observed in rows:
        moment = datetime.fromisoformat(observed)
        if since <= moment < until:
            found.append(Observation(int(run_id), str(kind), site_id, host, control,
                                     _STATUS[status], evidence, moment))
    found.sort(key=lambda o: o.observed_at)  # stable: the store's order among equal times
    return found


Key = tuple[str, str, str]  # site, host, control


def latest(found: Iterable[Observation]) -> dict[Key, Observation]:
    """Each site × host × control's latest observation; ``found`` is oldest first."""
    return {(obs.site, obs.host, obs.control): obs for obs in found}


@dataclass(frozen=True, slots=True)
class Tally:
    """Host × control states counted the way the report counts them."""

    compliant: int = 0
    failing: int = 0
    unreachable: int = 0
    not_applicable: int = 0

    @property
    def judged(self) -> int:
        return self.compliant + self.failing

    @property
    def percent(self) -> float | None:
        return 100.0 * self.compliant / self.judged if self.judged else None

    @classmethod
    def of(cls, statuses: Iterable[Status]) -> Tally:
        counts = defaultdict(int, {s: 0 for s in Status})
        for status in statuses:
            counts[status] += 1
        return cls(compliant=counts[Status.PASS],
                   failing=counts[Status.FAIL] + counts[Status.ERROR],
                   unreachable=counts[Status.UNREACHABLE],
                   not_applicable=counts[Status.SKIPPED])


@dataclass(frozen=True, slots=True)
class ControlLine:
    control: Control
    now: Tally
    before: Tally
    runs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Clause:
    """One SOP clause (an area of the catalog): its controls and its hosts."""

    clause: str
    area: str
    controls: tuple[ControlLine, ...]
    now: Tally
    before: Tally
    hosts_compliant: int
    hosts_judged: int
    hosts_unreachable: int

    @property
    def change(self) -> float | None:
        """Percentage points gained since the previous period; None when either is unknown."""
        if self.now.percent is None or self.before.percent is None:
            return None
        return self.now.percent - self.before.percent


@dataclass(frozen=True, slots=True)
class Finding:
    """A host × control that does not comply at the end of the period."""

    site: str
    host: str
    control: Control
    status: Status
    evidence: str
    run_id: int
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    site: str
    host: str
    control: str
    before: Status | None  # None: not checked in the previous period
    now: Status
    run_id: int


@dataclass(frozen=True, slots=True)
class Unreached:
    site: str
    host: str
    controls: int
    run_id: int
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class SiteTrend:
    site: str
    points: tuple[float | None, ...]  # the score at the end of each day of the period

    @property
    def last(self) -> float | None:
        return next((p for p in reversed(self.points) if p is not None), None)


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    period: Period
    site: str | None
    clauses: tuple[Clause, ...]
    findings: tuple[Finding, ...]
    changes: tuple[Change, ...]
    exceptions: tuple[Finding, ...]
    unreachable: tuple[Unreached, ...]
    trends: tuple[SiteTrend, ...]
    runs: tuple[Run, ...]
    total: Tally = field(default_factory=Tally)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (dates ISO, C.E.)."""
        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "previous_period": {"from": self.period.previous.start.isoformat(),
                                "to": self.period.previous.end.isoformat()},
            "site": self.site,
            "total": _tally_dict(self.total),
            "clauses": [{
                "clause": c.clause, "area": c.area, "now": _tally_dict(c.now),
                "previous": _tally_dict(c.before), "change_points": _rounded(c.change),
                "hosts_compliant": c.hosts_compliant, "hosts_judged": c.hosts_judged,
                "hosts_unreachable": c.hosts_unreachable,
                "controls": [{"id": line.control.id, "severity": line.control.severity.value,
                              "now": _tally_dict(line.now), "previous": _tally_dict(line.before),
                              "runs": list(line.runs)} for line in c.controls],
            } for c in self.clauses],
            "failures": [_finding_dict(f) for f in self.findings],
            "changes": [{"site": c.site, "host": c.host, "control": c.control,
                         "before": c.before.value if c.before else None, "now": c.now.value,
                         "run": c.run_id} for c in self.changes],
            "exceptions": [_finding_dict(f) for f in self.exceptions],
            "unreachable": [{"site": u.site, "host": u.host, "controls": u.controls,
                             "run": u.run_id, "observed_at": u.observed_at.isoformat()}
                            for u in self.unreachable],
            "trend": [{"site": t.site, "days": [_rounded(p) for p in t.points]}
                      for t in self.trends],
            "runs": [{"id": r.id, "kind": r.kind, "started_at": r.started_at.isoformat(),
                      "operator": r.operator, "status": r.status.value} for r in self.runs],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _tally_dict(tally: Tally) -> dict[str, Any]:
    return {"compliant": tally.compliant, "failing": tally.failing, "judged": tally.judged,
            "unreachable": tally.unreachable, "not_applicable": tally.not_applicable,
            "percent": _rounded(tally.percent)}


def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {"site": finding.site, "host": finding.host, "control": finding.control.id,
            "severity": finding.control.severity.value, "status": finding.status.value,
            "evidence": finding.evidence, "fix": finding.control.fix, "run": finding.run_id,
            "observed_at": finding.observed_at.isoformat()}


def build(store: EvidenceStore, catalog: Catalog, period: Period,
          site: str | None = None) -> ComplianceReport:
    """The report of ``period`` (of one site when ``site`` is given) from the store."""
    previous = period.previous
    start = period.since
    found = [o for o in observations(store, previous.since, period.until, site)
             if o.control in catalog.by_id]
    current = [o for o in found if o.observed_at >= start]
    now = latest(current)
    before = latest(o for o in found if o.observed_at < start)
    clauses = tuple(_clause(catalog, area, now, before) for area in catalog.areas)
    run_ids = sorted({o.run_id for o in now.values()})
    return ComplianceReport(
        period=period, site=site, clauses=clauses,
        findings=_findings(catalog, now, _NOT_COMPLIANT),
        changes=_changes(now, before),
        exceptions=_findings(catalog, now, (Status.SKIPPED,)),
        unreachable=_unreached(now),
        trends=_trends(current, period),
        runs=tuple(store.run(run_id) for run_id in run_ids),
        total=Tally.of(o.status for o in now.values()),
    )


def _clause(catalog: Catalog, area: str, now: dict[Key, Observation],
            before: dict[Key, Observation]) -> Clause:
    controls = [c for c in catalog.controls if c.area == area]
    ids = {c.id for c in controls}
    mine_now = _by_control(now, ids)
    mine_before = _by_control(before, ids)
    lines = [ControlLine(control=control,
                         now=Tally.of(o.status for o in mine_now[control.id]),
                         before=Tally.of(o.status for o in mine_before[control.id]),
                         runs=tuple(sorted({o.run_id for o in mine_now[control.id]})))
             for control in controls]
    per_host: dict[tuple[str, str], list[Status]] = defaultdict(list)
    for seen in mine_now.values():
        for obs in seen:
            per_host[(obs.site, obs.host)].append(obs.status)
    judged = [s for s in per_host.values() if any(x not in (Status.SKIPPED, Status.UNREACHABLE)
                                                   for x in s)]
    return Clause(
        clause=controls[0].sop_clause, area=area, controls=tuple(lines),
        now=Tally.of(o.status for seen in mine_now.values() for o in seen),
        before=Tally.of(o.status for seen in mine_before.values() for o in seen),
        hosts_compliant=sum(1 for s in judged if not set(s) & set(_NOT_COMPLIANT)),
        hosts_judged=len(judged),
        hosts_unreachable=sum(1 for s in per_host.values() if Status.UNREACHABLE in s))


def _by_control(state: dict[Key, Observation], ids: set[str]) -> dict[str, list[Observation]]:
    grouped: dict[str, list[Observation]] = {control: [] for control in ids}
    for (_site, _host, control), obs in state.items():
        if control in ids:
            grouped[control].append(obs)
    return grouped


def _findings(catalog: Catalog, now: dict[Key, Observation],
              statuses: Sequence[Status]) -> tuple[Finding, ...]:
    found = [Finding(site, host, catalog.by_id[control], obs.status, obs.evidence,
                     obs.run_id, obs.observed_at)
             for (site, host, control), obs in now.items() if obs.status in statuses]
    found.sort(key=lambda f: (_SEVERITY_ORDER[f.control.severity], f.control.id, f.site,
                              f.host))
    return tuple(found)


def _changes(now: dict[Key, Observation],
             before: dict[Key, Observation]) -> tuple[Change, ...]:
    changes = []
    for key, obs in sorted(now.items()):
        earlier = before.get(key)
        was = earlier.status if earlier is not None else None
        if was is not obs.status:
            changes.append(Change(*key, before=was, now=obs.status, run_id=obs.run_id))
    return tuple(changes)


def _unreached(now: dict[Key, Observation]) -> tuple[Unreached, ...]:
    hosts: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for (site, host, _control), obs in now.items():
        if obs.status is Status.UNREACHABLE:
            hosts[(site, host)].append(obs)
    return tuple(Unreached(site, host, len(seen), max(o.run_id for o in seen),
                           max(o.observed_at for o in seen))
                 for (site, host), seen in sorted(hosts.items()))


def _trends(found: list[Observation], period: Period) -> tuple[SiteTrend, ...]:
    """Per site, the score at the end of each day from the period's results up to then."""
    ordered = found
    state: dict[Key, Status] = {}
    points: dict[str, list[float | None]] = {o.site: [] for o in ordered}
    index = 0
    for _day, end in period.day_ends():
        while index < len(ordered) and ordered[index].observed_at < end:
            obs = ordered[index]
            state[(obs.site, obs.host, obs.control)] = obs.status
            index += 1
        per_site: dict[str, list[Status]] = defaultdict(list)
        for (site, _host, _control), status in state.items():
            per_site[site].append(status)
        for site, series in points.items():
            series.append(Tally.of(per_site.get(site, ())).percent)
    return tuple(SiteTrend(site, tuple(series)) for site, series in sorted(points.items()))
