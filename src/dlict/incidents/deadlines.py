"""When each report of a case is due: pure functions of the case, the policy and the clock.

Every window runs from ``aware_at`` (when the office became aware), in real elapsed hours:
a deadline is a UTC instant, so month ends, year ends (C.E. or B.E.) and the absence of
daylight saving in Bangkok need no special case. The windows themselves are policy, read
from the inventory's ``dlict_incidents`` (:class:`~dlict.inventory.models.IncidentSettings`);
docs/decisions.md says where the defaults come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from dlict.incidents.model import Case, Deadline, DeadlineKind
from dlict.inventory.models import IncidentSettings

PDPC_BASIS = "PDPA B.E. 2562 s.37(4): notify the PDPC office within {hours:g} h of awareness"
AGENCY_BASIS = ("Cybersecurity Act B.E. 2562 s.57 (office policy dlict_incidents.report_hours"
                ".agency.{level}): report to the agency's chain within {hours:g} h")
NCSA_BASIS = ("Cybersecurity Act B.E. 2562 s.57-58 (office policy dlict_incidents.report_hours"
              ".ncsa.{level}): notify the NCSA/ThaiCERT within {hours:g} h")


def report_window(settings: IncidentSettings, kind: DeadlineKind, level: str) -> float | None:
    """Hours allowed for ``kind`` at threat ``level``; None when the policy sets none."""
    if kind is DeadlineKind.PDPC:
        return settings.pdpc_hours
    return settings.report_hours.get(kind.value, {}).get(level)


def case_deadlines(case: Case, settings: IncidentSettings,
                   met: Mapping[DeadlineKind, datetime] | None = None) -> list[Deadline]:
    """The case's deadlines, soonest first: agency and NCSA by threat level, the PDPC office
    only when personal data is involved. ``met``: when each report was recorded as sent."""
    met = met or {}
    level = case.threat_level.value
    kinds = [DeadlineKind.AGENCY, DeadlineKind.NCSA]
    if case.personal_data:
        kinds.insert(0, DeadlineKind.PDPC)
    found: list[Deadline] = []
    for kind in kinds:
        hours = report_window(settings, kind, level)
        if hours is None:
            continue
        found.append(Deadline(case_id=case.id, kind=kind,
                              due_at=case.aware_at + timedelta(hours=hours),
                              basis=_basis(kind, hours, level), met_at=met.get(kind)))
    return sorted(found, key=lambda d: (d.due_at, d.kind.value))


def _basis(kind: DeadlineKind, hours: float, level: str) -> str:
    template = {DeadlineKind.PDPC: PDPC_BASIS, DeadlineKind.AGENCY: AGENCY_BASIS,
                DeadlineKind.NCSA: NCSA_BASIS}[kind]
    return template.format(hours=hours, level=level)


def time_left(deadline: Deadline, now: datetime) -> timedelta:
    """Negative once missed."""
    return deadline.due_at - now


def next_open_deadline(deadlines: list[Deadline]) -> Deadline | None:
    """The soonest deadline whose report is not yet recorded as sent."""
    pending = [d for d in deadlines if d.met_at is None]
    return min(pending, key=lambda d: d.due_at) if pending else None
