"""What needs someone's attention: open requests against their SLA, approvals near or past
their expiry; as rows for ``dlict access list`` and as Prometheus samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dlict.access.holidays import Calendar
from dlict.access.requests import OPEN, AccessRequest, Status
from dlict.core.clock import BANGKOK
from dlict.core.metric_names import (
    ACCESS_CHECKED_AT,
    ACCESS_EXPIRED,
    ACCESS_EXPIRING,
    ACCESS_OPEN,
    ACCESS_PAST_SLA,
)
from dlict.core.promtext import Writer
from dlict.inventory.models import AccessSettings


@dataclass(frozen=True)
class Sla:
    """The SOP's window: decided between ``earliest`` and ``due`` (working days)."""

    earliest: date
    due: date
    working_days_open: int
    past: bool


@dataclass(frozen=True)
class Reminder:
    request: str
    kind: str  # past-sla | expiring | expired
    day: date
    text: str


def local_day(moment: datetime) -> date:
    return moment.astimezone(BANGKOK).date()


def sla_of(request: AccessRequest, calendar: Calendar, settings: AccessSettings,
           today: date) -> Sla:
    received = local_day(request.received_at)
    end = local_day(request.decided_at) if request.decided_at else today
    due = calendar.add_working_days(received, settings.sla_max_days)
    return Sla(earliest=calendar.add_working_days(received, settings.sla_min_days), due=due,
               working_days_open=calendar.working_days_between(received, end),
               past=end > due)


def reminders(requests: Sequence[AccessRequest], calendar: Calendar,
              settings: AccessSettings, today: date) -> list[Reminder]:
    """Open requests past their SLA; approvals ending within ``remind_days`` or already past."""
    out: list[Reminder] = []
    horizon = today + timedelta(days=settings.remind_days)
    for request in requests:
        if request.status in OPEN:
            sla = sla_of(request, calendar, settings, today)
            if sla.past:
                out.append(Reminder(request.id, "past-sla", sla.due,
                                    f"{request.id}: past its SLA (due {sla.due.isoformat()}, "
                                    f"{sla.working_days_open} working days open)"))
        elif request.status == Status.APPROVED and request.expires is not None:
            if request.expires < today:
                out.append(Reminder(request.id, "expired", request.expires,
                                    f"{request.id}: approval of {request.login or '-'} ended "
                                    f"{request.expires.isoformat()}: run dlict access revoke "
                                    "--expired"))
            elif request.expires <= horizon:
                out.append(Reminder(request.id, "expiring", request.expires,
                                    f"{request.id}: approval of {request.login or '-'} ends "
                                    f"{request.expires.isoformat()}: renew or let it end"))
    return out


def exposition(requests: Sequence[AccessRequest], found: Sequence[Reminder],
               now: datetime) -> str:
    """The Prometheus text format of the counts (no per-request labels: bounded series)."""
    out = Writer()
    kinds = [r.kind for r in found]
    out.family(ACCESS_OPEN, [("", float(sum(r.status in OPEN for r in requests)))])
    out.family(ACCESS_PAST_SLA, [("", float(kinds.count("past-sla")))])
    out.family(ACCESS_EXPIRING, [("", float(kinds.count("expiring")))])
    out.family(ACCESS_EXPIRED, [("", float(kinds.count("expired")))])
    out.family(ACCESS_CHECKED_AT, [("", now.timestamp())])
    return out.text()
