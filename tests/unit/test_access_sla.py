"""The SLA in working days: weekends and the Thai public holidays of the data file skipped;
an office's own holiday file read instead; years the file does not cover are named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dlict.access.holidays import load_calendar
from dlict.access.reminders import reminders, sla_of
from dlict.access.requests import AccessRequest, Requester, Status
from dlict.core.errors import InputError
from dlict.inventory.models import AccessSettings


def _request(received: date, status: Status = Status.RECEIVED,
             expires: date | None = None) -> AccessRequest:
    # 10:00 in Bangkok on ``received``
    at = datetime(received.year, received.month, received.day, 3, 0, tzinfo=UTC)
    who = Requester("นางสมศรี ทดสอบ", "x-xxxx-xxxxx-45-7", "h", "k")
    return AccessRequest("ACC-2569-0001", status, who, "somsri", ("server",), ("office-log",),
                         "ดูแลระบบ", 90, at, "clerk", expires=expires)


def test_five_working_days_skip_weekend_and_holidays() -> None:
    # Thursday 3 Dec 2026: Mon 7 Dec (Father's Day in lieu) and Thu 10 Dec (Constitution Day)
    # are holidays, so the fifth working day is Monday 14 December.
    calendar = load_calendar()
    sla = sla_of(_request(date(2026, 12, 3)), calendar, AccessSettings(), date(2026, 12, 11))
    assert (sla.earliest, sla.due) == (date(2026, 12, 9), date(2026, 12, 14))
    assert sla.working_days_open == 4 and not sla.past
    late = sla_of(_request(date(2026, 12, 3)), calendar, AccessSettings(), date(2026, 12, 15))
    assert late.past
    # New Year: 31 Dec and 1 Jan are holidays.
    assert calendar.add_working_days(date(2026, 12, 29), 3) == date(2027, 1, 5)


def test_reminders_past_sla_expiring_and_expired() -> None:
    today = date(2026, 12, 15)
    found = reminders([_request(date(2026, 12, 3)),
                       _request(date(2026, 12, 1), Status.APPROVED, date(2026, 12, 28)),
                       _request(date(2026, 12, 1), Status.APPROVED, date(2026, 12, 30)),
                       _request(date(2026, 12, 1), Status.APPROVED, date(2026, 12, 14))],
                      load_calendar(), AccessSettings(), today)
    assert [r.kind for r in found] == ["past-sla", "expiring", "expired"]


def test_office_holiday_file(tmp_path: Path) -> None:
    own = tmp_path / "holidays.yml"
    own.write_text("years: [2028]\nholidays:\n  - {date: 2028-01-03, name_th: วันหยุดพิเศษ}\n")
    calendar = load_calendar(own)
    assert not calendar.is_working_day(date(2028, 1, 3))
    assert calendar.uncovered_years([date(2028, 5, 1), date(2029, 1, 2)]) == [2029]
    own.write_text("years: [2028]\nholidays:\n  - {date: 2028-02-30, name_th: x}\n")
    with pytest.raises(InputError, match=r"holidays\.yml"):
        load_calendar(own)
