"""Which schools' DLTV satellite receiving equipment needs repair or replacement.

The analysis is pure: it reads receiver time series already fetched (one value per query
step, keyed by Unix time) and the inventory, and decides per school. Fetching goes through a
function the caller passes in (:func:`collect`), so nothing here opens a socket or reads a
clock.

Only school hours count — 08:00–16:00 Asia/Bangkok, Monday to Friday — because receivers are
often switched off at night and at weekends, and lessons are what the equipment is for.
Per school, over the school-hours samples:

1. *readable share*: samples where the monitor could read the receiver (``check_up`` = 1).
   Below half of school hours the school is listed as **could not be checked**, not broken.
2. *unlocked share*: of the readable samples, those where the tuner was not locked.
   More than half → the equipment needs work, and what the receiver saw while unlocked says
   which: signal level ≥ 0.3 with SNR about 0 dB → the LNB has failed (**replace LNB**);
   signal level and SNR both good yet no lock → the receiver (**repair**); otherwise (no or
   weak signal) → dish, LNB, cable and connectors (**repair**: check them).
3. Locked most of school hours but the median SNR of the locked samples below the site's
   threshold (``dlict_dltv_snr_min_db``, else the inventory's for the receiver kind) → weak
   signal, little margin for rain fade → **repair**: dish alignment and connectors.

Receivers watched only through the online streams (HLS) say nothing about a dish: they are
listed as could not be checked.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from enum import StrEnum
from functools import lru_cache

from dlict.core.clock import BANGKOK
from dlict.core.metric_names import (
    DLTV_LOCKED,
    DLTV_SIGNAL,
    DLTV_SNR,
    DLTV_SNR_MIN,
    DLTV_STREAM,
    DLTV_UP,
)
from dlict.core.promtext import Family
from dlict.dltv import NO_SOURCE, STREAM_SOURCES, TVHEADEND
from dlict.i18n import name_of
from dlict.inventory import Inventory, Site, SiteKind

SCHOOL_START = time(8, 0)
SCHOOL_END = time(16, 0)
SCHOOL_WEEKDAYS = frozenset(range(5))  # Monday (0) to Friday (4)
# Thailand keeps UTC+07:00 all year; the server-side filter below uses the fixed offset.
BANGKOK_OFFSET_S = 7 * 3600

MIN_READABLE_SHARE = 0.5
MAX_UNLOCKED_SHARE = 0.5
SIGNAL_PRESENT_RATIO = 0.3
SNR_DEAD_DB = 1.0


def _per_site(aggregation: str, family: Family) -> str:
    """The PromQL of one family aggregated per site, with ``{sel}`` left for the selector."""
    return f"{aggregation} by (site) ({family.name}{{{{{{sel}}}}}})"


# PromQL of each series the analysis reads, one value per site (max over monitors that
# watch the same site; the share of channels received for stream_up).
METRICS: dict[str, str] = {
    "check_up": _per_site("max", DLTV_UP),
    "locked": _per_site("max", DLTV_LOCKED),
    "signal_ratio": _per_site("max", DLTV_SIGNAL),
    "snr_db": _per_site("max", DLTV_SNR),
    "snr_min_db": _per_site("max", DLTV_SNR_MIN),
    "channels_up": _per_site("avg", DLTV_STREAM),
}
PRESENCE_MATCH = DLTV_UP.name
BATCH_SIZE = 50

Samples = dict[float, float]
RawSeries = tuple[Mapping[str, str], Sequence[tuple[float, float]]]
Fetch = Callable[[str], Sequence[RawSeries]]


class Equipment(StrEnum):
    DISH = "dish"
    LNB = "lnb"
    CABLE = "cable"
    RECEIVER = "receiver"


class Need(StrEnum):
    REPLACE = "replace"
    REPAIR = "repair"


class Problem(StrEnum):
    """Why a school's equipment needs work, most severe first."""

    LNB_FAILED = "lnb-failed"
    NO_LOCK = "no-lock"
    RECEIVER = "receiver"
    WEAK_SIGNAL = "weak-signal"

    @property
    def severity(self) -> int:
        return list(Problem).index(self) + 1

    @property
    def equipment(self) -> tuple[Equipment, ...]:
        return _EQUIPMENT[self]

    @property
    def need(self) -> Need:
        return Need.REPLACE if self is Problem.LNB_FAILED else Need.REPAIR


_EQUIPMENT: dict[Problem, tuple[Equipment, ...]] = {
    Problem.LNB_FAILED: (Equipment.LNB,),
    Problem.NO_LOCK: (Equipment.DISH, Equipment.LNB, Equipment.CABLE),
    Problem.RECEIVER: (Equipment.RECEIVER,),
    Problem.WEAK_SIGNAL: (Equipment.DISH, Equipment.CABLE),
}


class Unchecked(StrEnum):
    """Why a school with data could still not be judged."""

    UNREADABLE = "unreadable"            # readable less than half of school hours
    NO_SCHOOL_HOURS = "no-school-hours"  # data, but none in school hours
    NO_LOCK_STATUS = "no-lock-status"    # readable, but never said whether it was locked
    STREAMS_ONLY = "streams-only"        # HLS: the online streams, not the dish


@dataclass
class SiteSeries:
    """One site's samples, each keyed by Unix time (the query steps)."""

    check_up: Samples = field(default_factory=dict)
    locked: Samples = field(default_factory=dict)
    signal_ratio: Samples = field(default_factory=dict)
    snr_db: Samples = field(default_factory=dict)
    snr_min_db: Samples = field(default_factory=dict)
    channels_up: Samples = field(default_factory=dict)

    def metric(self, name: str) -> Samples:
        samples: Samples = getattr(self, name)
        return samples


@dataclass(frozen=True)
class Figures:
    """What the verdict rests on; shares are 0–1, ``None`` when there was nothing to count."""

    step_s: int
    school_samples: int = 0
    readable_samples: int = 0
    locked_samples: int = 0
    unlocked_samples: int = 0
    snr_min_db: float | None = None
    locked_snr_median: float | None = None
    locked_below_share: float | None = None
    unlocked_snr_median: float | None = None
    unlocked_signal_median: float | None = None
    signal_median: float | None = None
    channels_up_share: float | None = None

    @property
    def readable_share(self) -> float | None:
        return _share(self.readable_samples, self.school_samples)

    @property
    def lock_known(self) -> int:
        return self.locked_samples + self.unlocked_samples

    @property
    def unlocked_share(self) -> float | None:
        return _share(self.unlocked_samples, self.lock_known)

    @property
    def locked_share(self) -> float | None:
        return _share(self.locked_samples, self.lock_known)

    def hours(self, samples: int) -> float:
        return samples * self.step_s / 3600

    def as_dict(self) -> dict[str, object]:
        return {
            "step_s": self.step_s, "school_samples": self.school_samples,
            "readable_samples": self.readable_samples, "locked_samples": self.locked_samples,
            "unlocked_samples": self.unlocked_samples, "readable_share": self.readable_share,
            "unlocked_share": self.unlocked_share, "snr_min_db": self.snr_min_db,
            "locked_snr_median_db": self.locked_snr_median,
            "locked_below_share": self.locked_below_share,
            "unlocked_snr_median_db": self.unlocked_snr_median,
            "unlocked_signal_median": self.unlocked_signal_median,
            "signal_median": self.signal_median, "channels_up_share": self.channels_up_share,
        }


@dataclass(frozen=True)
class Verdict:
    figures: Figures
    problem: Problem | None = None
    unchecked: Unchecked | None = None

    @property
    def healthy(self) -> bool:
        return self.problem is None and self.unchecked is None


@dataclass(frozen=True)
class School:
    """What the survey form says of a school, from the inventory."""

    code: str
    name_th: str
    name_en: str
    amphoe: str
    province: str
    source: str
    contact: str = ""
    contact_position: str = ""
    phone: str = ""

    def name(self, lang: str) -> str:
        return name_of(self, lang)

    @classmethod
    def from_site(cls, site: Site) -> School:
        meta = site.meta
        first = meta.contacts[0] if meta.contacts else None
        return cls(code=meta.school_code or site.id, name_th=meta.name_th, name_en=meta.name_en,
                   amphoe=meta.amphoe, province=meta.province,
                   source=meta.dltv.source if meta.dltv else NO_SOURCE,
                   contact=first.name if first else "",
                   contact_position=first.position if first else "",
                   phone=first.phone if first else "")


@dataclass(frozen=True)
class Entry:
    school: School
    verdict: Verdict | None  # None: no data at all

    @property
    def problem(self) -> Problem:
        if self.verdict is None or self.verdict.problem is None:
            raise ValueError(f"{self.school.code} has no problem")
        return self.verdict.problem


@dataclass(frozen=True)
class Survey:
    start: datetime
    end: datetime
    step_s: int
    findings: list[Entry]   # the rows of the form, most severe first, then by code
    unchecked: list[Entry]
    no_data: list[Entry]
    healthy: list[Entry]
    # Sites with DLTV data in Prometheus that the survey leaves out: (site, in the inventory
    # but without a DLTV receiver there).
    ignored: list[tuple[str, bool]] = field(default_factory=list)
    office_th: str = ""
    office_en: str = ""

    @property
    def warnings(self) -> list[str]:
        return [f"site {site} has DLTV data in Prometheus but "
                f"{'no DLTV receiver in' if known else 'is not in'} the inventory: ignored"
                for site, known in self.ignored]

    @property
    def days(self) -> int:
        return round((self.end - self.start).total_seconds() / 86400)

    def as_dict(self) -> dict[str, object]:
        def entry(e: Entry) -> dict[str, object]:
            v = e.verdict
            data: dict[str, object] = {"code": e.school.code, "name_th": e.school.name_th,
                                       "name_en": e.school.name_en, "amphoe": e.school.amphoe,
                                       "province": e.school.province, "source": e.school.source}
            if v is not None:
                if v.problem is not None:
                    data.update(problem=v.problem.value, need=v.problem.need.value,
                                equipment=[x.value for x in v.problem.equipment],
                                severity=v.problem.severity)
                if v.unchecked is not None:
                    data["unchecked"] = v.unchecked.value
                data["figures"] = v.figures.as_dict()
            return data

        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "step_s": self.step_s, "findings": [entry(e) for e in self.findings],
                "unchecked": [entry(e) for e in self.unchecked],
                "no_data": [entry(e) for e in self.no_data],
                "healthy": [entry(e) for e in self.healthy], "warnings": list(self.warnings)}


@lru_cache(maxsize=1 << 16)
def in_school_hours(ts: float) -> bool:
    """Whether Unix time ``ts`` is in school hours: 08:00–16:00 Bangkok, Monday–Friday."""
    local = datetime.fromtimestamp(ts, UTC).astimezone(BANGKOK)
    return local.weekday() in SCHOOL_WEEKDAYS and SCHOOL_START <= local.time() < SCHOOL_END


def school_hours_promql() -> str:
    """A PromQL condition true in school hours (as the alert rules write it), to ask
    Prometheus only for the samples the analysis reads."""
    offset = f"vector(time() + {BANGKOK_OFFSET_S})"
    return (f"and on () (hour({offset}) >= {SCHOOL_START.hour} < {SCHOOL_END.hour}) "
            f"and on () (day_of_week({offset}) >= 1 <= 5)")


def queries(site_ids: Sequence[str]) -> dict[str, str]:
    """The PromQL of every metric for these sites, restricted to school hours."""
    alternatives = "|".join(_regex_literal(s) for s in site_ids)
    selector = f'site=~"{alternatives}"'
    return {name: f"{expr.format(sel=selector)} {school_hours_promql()}"
            for name, expr in METRICS.items()}


def add_series(into: dict[str, SiteSeries], metric: str, series: Iterable[RawSeries]) -> None:
    """File each (labels, points) of ``metric`` under its ``site`` label."""
    for labels, points in series:
        site = labels.get("site")
        if not site:
            continue
        samples = into.setdefault(site, SiteSeries()).metric(metric)
        samples.update((float(ts), float(value)) for ts, value in points)


def dltv_schools(inventory: Inventory) -> list[Site]:
    """Schools whose inventory names a DLTV receiver (source other than ``none``)."""
    return [s for s in inventory.sites
            if s.kind is SiteKind.SCHOOL and s.meta.dltv is not None
            and s.meta.dltv.source != NO_SOURCE]


def snr_threshold(inventory: Inventory, site: Site) -> float | None:
    """The inventory's SNR minimum for the site's receiver kind (used when Prometheus has
    no ``dlict_dltv_snr_min_db`` for the site)."""
    if site.meta.dltv is None:
        return None
    thresholds = inventory.monitor.dltv_thresholds.get(site.meta.dltv.source)
    return thresholds.snr_min_db if thresholds is not None else None


def assess(series: SiteSeries, *, step_s: int, source: str = TVHEADEND,
           snr_min_fallback: float | None = None) -> Verdict:
    """Judge one site from its samples (the rules are in the module's docstring)."""
    school = sorted(ts for ts in series.check_up if in_school_hours(ts))
    readable = [ts for ts in school if series.check_up[ts] >= 0.5]
    known = [ts for ts in readable if _finite(series.locked.get(ts))]
    locked = [ts for ts in known if series.locked[ts] >= 0.5]
    unlocked = [ts for ts in known if series.locked[ts] < 0.5]
    snr_min = _last(series.snr_min_db)
    if snr_min is None:
        snr_min = snr_min_fallback
    locked_snr = _values(series.snr_db, locked)
    figures = Figures(
        step_s=step_s, school_samples=len(school), readable_samples=len(readable),
        locked_samples=len(locked), unlocked_samples=len(unlocked), snr_min_db=snr_min,
        locked_snr_median=_median(locked_snr),
        locked_below_share=(_share(sum(1 for v in locked_snr if v < snr_min), len(locked_snr))
                            if snr_min is not None else None),
        unlocked_snr_median=_median(_values(series.snr_db, unlocked)),
        unlocked_signal_median=_median(_values(series.signal_ratio, unlocked)),
        signal_median=_median(_values(series.signal_ratio, readable)),
        channels_up_share=_mean(_values(series.channels_up, readable)),
    )
    if not school:
        return Verdict(figures, unchecked=Unchecked.NO_SCHOOL_HOURS)
    if len(readable) < MIN_READABLE_SHARE * len(school):
        return Verdict(figures, unchecked=Unchecked.UNREADABLE)
    if not known:
        return Verdict(figures, unchecked=Unchecked.NO_LOCK_STATUS)
    if source in STREAM_SOURCES:
        return Verdict(figures, unchecked=Unchecked.STREAMS_ONLY)
    if len(unlocked) > MAX_UNLOCKED_SHARE * len(known):
        return Verdict(figures, problem=_unlocked_cause(figures))
    if (snr_min is not None and figures.locked_snr_median is not None
            and figures.locked_snr_median < snr_min):
        return Verdict(figures, problem=Problem.WEAK_SIGNAL)
    return Verdict(figures)


def _unlocked_cause(figures: Figures) -> Problem:
    signal = figures.unlocked_signal_median
    snr = figures.unlocked_snr_median
    if signal is None or signal < SIGNAL_PRESENT_RATIO:
        return Problem.NO_LOCK
    if snr is None or snr < SNR_DEAD_DB:
        return Problem.LNB_FAILED
    if figures.snr_min_db is not None and snr >= figures.snr_min_db:
        return Problem.RECEIVER
    return Problem.NO_LOCK


def collect(inventory: Inventory, fetch: Fetch, present: Collection[str], *, step_s: int,
            batch_size: int = BATCH_SIZE) -> dict[str, Verdict]:
    """Verdicts of the inventory's DLTV schools that ``present`` says have data, fetching
    ``batch_size`` sites at a time so memory stays bounded in a large district."""
    sites = [s for s in dltv_schools(inventory) if s.id in present]
    verdicts: dict[str, Verdict] = {}
    for batch in _chunks(sites, batch_size):
        data: dict[str, SiteSeries] = {}
        for metric, query in queries([s.id for s in batch]).items():
            add_series(data, metric, fetch(query))
        for site in batch:
            verdicts[site.id] = _assess_site(inventory, site, data.get(site.id), step_s)
    return verdicts


def build_survey(inventory: Inventory, data: Mapping[str, SiteSeries], *, start: datetime,
                 end: datetime, step_s: int, present: Collection[str] | None = None) -> Survey:
    """The survey from series already in memory; ``present`` (the sites Prometheus has any
    data for) defaults to the sites with any ``check_up`` sample in ``data``."""
    if present is None:
        present = {site for site, series in data.items() if series.check_up}
    verdicts = {site.id: _assess_site(inventory, site, data.get(site.id), step_s)
                for site in dltv_schools(inventory) if site.id in present}
    return assemble(inventory, verdicts, present, start=start, end=end, step_s=step_s)


def assemble(inventory: Inventory, verdicts: Mapping[str, Verdict], present: Collection[str],
             *, start: datetime, end: datetime, step_s: int) -> Survey:
    """Sort the schools into the form's rows, could-not-check, no data and healthy."""
    findings: list[Entry] = []
    unchecked: list[Entry] = []
    no_data: list[Entry] = []
    healthy: list[Entry] = []
    targets = {s.id: s for s in dltv_schools(inventory)}
    for site_id, site in sorted(targets.items()):
        verdict = verdicts.get(site_id)
        entry = Entry(School.from_site(site), verdict)
        if verdict is None:
            no_data.append(entry)
        elif verdict.problem is not None:
            findings.append(entry)
        elif verdict.unchecked is not None:
            unchecked.append(entry)
        else:
            healthy.append(entry)
    findings.sort(key=lambda e: (e.problem.severity, e.school.code))
    known = {s.id for s in inventory.sites}
    ignored = [(site_id, site_id in known) for site_id in sorted(set(present) - set(targets))]
    office = next((s for s in inventory.sites if s.kind is SiteKind.OFFICE), None)
    return Survey(start=start, end=end, step_s=step_s, findings=findings, unchecked=unchecked,
                  no_data=no_data, healthy=healthy, ignored=ignored,
                  office_th=office.meta.name_th if office else "",
                  office_en=office.meta.name_en if office else "")


def _assess_site(inventory: Inventory, site: Site, series: SiteSeries | None,
                 step_s: int) -> Verdict:
    source = site.meta.dltv.source if site.meta.dltv else NO_SOURCE
    return assess(series or SiteSeries(), step_s=step_s, source=source,
                  snr_min_fallback=snr_threshold(inventory, site))


def _chunks(items: Sequence[Site], size: int) -> Iterator[Sequence[Site]]:
    for index in range(0, len(items), max(1, size)):
        yield items[index:index + size]


def _regex_literal(text: str) -> str:
    """``text`` matched literally inside a PromQL double-quoted regex string."""
    escaped = "".join(f"\\{c}" if c in ".^$*+?()[]{}|\\" else c for c in text)
    return escaped.replace("\\", "\\\\").replace('"', '\\"')


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _values(samples: Samples, stamps: Iterable[float]) -> list[float]:
    values = []
    for ts in stamps:
        value = samples.get(ts)
        if value is not None and math.isfinite(value):
            values.append(value)
    return values


def _last(samples: Samples) -> float | None:
    for ts in sorted(samples, reverse=True):
        if math.isfinite(samples[ts]):
            return samples[ts]
    return None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
