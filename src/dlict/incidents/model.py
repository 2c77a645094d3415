"""The case model every part of ``dlict.incidents`` shares.

A case is what DFIR-IRIS and TheHive call a case, shaped by Thai law and paperwork: an id in
the office's style (``INC-2569-0007``: B.E. year of opening, a number within that year), the
ThaiCERT/eCSIRT category, the Cybersecurity Act's threat level, whether personal data is
involved (PDPA s.37(4)), a status that moves only along :data:`TRANSITIONS`, tasks,
observables (de-duplicated per case), a timeline and an append-only audit trail.

Times are UTC-aware datetimes everywhere; they are shown in Bangkok time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dlict.core.clock import BANGKOK
from dlict.i18n import BE_OFFSET

CASE_ID = re.compile(r"^INC-(\d{4})-(\d{4,})$")


def case_id(opened_at: datetime, number: int) -> str:
    """``INC-<B.E. year of opening in Bangkok>-<number, 4 digits at least>``."""
    return f"INC-{opened_at.astimezone(BANGKOK).year + BE_OFFSET}-{number:04d}"


class CaseStatus(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    CONTAINED = "contained"
    ERADICATED = "eradicated"
    RECOVERED = "recovered"
    CLOSED = "closed"
    FALSE_POSITIVE = "false-positive"

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.CLOSED, CaseStatus.FALSE_POSITIVE)


#: Where a case may go from each status. Forward along the response, a step back when a
#: containment fails, false positive from any open status; ``reopen`` takes a closed case (or a
#: false positive) back to triage.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.TRIAGE, CaseStatus.CONTAINED, CaseStatus.CLOSED,
                               CaseStatus.FALSE_POSITIVE}),
    CaseStatus.TRIAGE: frozenset({CaseStatus.CONTAINED, CaseStatus.CLOSED,
                                  CaseStatus.FALSE_POSITIVE}),
    CaseStatus.CONTAINED: frozenset({CaseStatus.ERADICATED, CaseStatus.TRIAGE,
                                     CaseStatus.CLOSED, CaseStatus.FALSE_POSITIVE}),
    CaseStatus.ERADICATED: frozenset({CaseStatus.RECOVERED, CaseStatus.CONTAINED,
                                      CaseStatus.CLOSED, CaseStatus.FALSE_POSITIVE}),
    CaseStatus.RECOVERED: frozenset({CaseStatus.CLOSED, CaseStatus.CONTAINED,
                                     CaseStatus.FALSE_POSITIVE}),
    CaseStatus.CLOSED: frozenset({CaseStatus.TRIAGE}),
    CaseStatus.FALSE_POSITIVE: frozenset({CaseStatus.TRIAGE}),
}


def may_move(current: CaseStatus, new: CaseStatus) -> bool:
    return new in TRANSITIONS[current]


class Category(StrEnum):
    """ThaiCERT's incident categories (the eCSIRT taxonomy)."""

    ABUSIVE_CONTENT = "abusive-content"
    AVAILABILITY = "availability"
    FRAUD = "fraud"
    INFORMATION_GATHERING = "information-gathering"
    INFORMATION_SECURITY = "information-content-security"
    INTRUSION_ATTEMPTS = "intrusion-attempts"
    INTRUSIONS = "intrusions"
    MALICIOUS_CODE = "malicious-code"
    OTHER = "other"


class ThreatLevel(StrEnum):
    """The Cybersecurity Act B.E. 2562's levels: ไม่ร้ายแรง, ร้ายแรง, วิกฤติ."""

    NON_SERIOUS = "non-serious"
    SERIOUS = "serious"
    CRITICAL = "critical"


class TaskState(StrEnum):
    OPEN = "open"
    DOING = "doing"
    DONE = "done"
    CANCELLED = "cancelled"


class ObservableKind(StrEnum):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH = "hash"
    ACCOUNT = "account"
    MAC = "mac"


class CaseSource(StrEnum):
    """What opened the case."""

    MANUAL = "manual"
    ALERTMANAGER = "alertmanager"
    AUDIT = "audit"
    NETSCAN = "netscan"
    AGENT = "agent"


class DeadlineKind(StrEnum):
    PDPC = "pdpc"  # PDPA s.37(4): the PDPC office, 72 h from awareness
    AGENCY = "agency"  # the agency's own chain (ผอ.สพท. → OBEC), by threat level
    NCSA = "ncsa"  # the NCSA / ThaiCERT, by threat level


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    title: str
    description: str
    reporter: str
    owner: str
    status: CaseStatus
    category: Category
    threat_level: ThreatLevel
    personal_data: bool
    source: CaseSource
    #: Alerts that belong together (Alertmanager's groupKey, or ``audit:<host>:<control>``):
    #: a new alert of an open case's group joins that case instead of opening another.
    group_key: str
    sites: tuple[str, ...]
    hosts: tuple[str, ...]
    aware_at: datetime  # when the office became aware: the PDPA's 72 h start here
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None

    @property
    def year_be(self) -> int:
        match = CASE_ID.match(self.id)
        return int(match.group(1)) if match else self.opened_at.year + BE_OFFSET


@dataclass(frozen=True, slots=True)
class Task:
    case_id: str
    number: int
    title: str
    state: TaskState
    owner: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Observable:
    case_id: str
    kind: ObservableKind
    value: str  # normalised: lower-case domain, hash and MAC; compressed IP
    note: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    case_id: str
    at: datetime  # when it happened (an alert's startsAt, not when dlict heard of it)
    who: str
    kind: str  # note | status | alert-firing | alert-resolved | finding | evidence | task | ...
    text: str


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One change, as stored: nothing in a case changes without one of these."""

    seq: int
    case_id: str
    at: datetime
    who: str
    action: str  # open | update | status | task-add | task-state | note | observable | ...
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deadline:
    case_id: str
    kind: DeadlineKind
    due_at: datetime
    basis: str  # the rule and its source, e.g. "PDPA s.37(4): 72 h from awareness"
    met_at: datetime | None = None  # when the report was recorded as sent


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One entry of a case's evidence manifest (``dlict.incidents.evidence``)."""

    seq: int
    case_id: str
    name: str  # the file's name as added (no directories)
    sha256: str
    size: int
    stored: str  # "copy" (kept in the case's evidence folder) or "reference" (left in place)
    location: str  # the copy's path under the data dir, or the referenced file's path
    added_by: str
    added_at: datetime
    note: str = ""
