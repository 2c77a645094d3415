"""The month of `dlict report monthly`: B.E. or C.E., never one that has not begun, and the
sample windows Prometheus is asked for (whole days, weekday school hours, a day cut by now)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dlict.core.clock import BANGKOK
from dlict.core.errors import InputError
from dlict.reports.monthly import Month, parse_month, windows

NOW = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 3 ธันวาคม 2569, 12:00 in Bangkok


@pytest.mark.parametrize("text", ["2569-11", "2026-11", " 2569-11 "])
def test_be_and_ce_name_the_same_month(text: str) -> None:
    assert parse_month(text, NOW) == Month(2026, 11)


def test_the_current_month_is_allowed_and_the_next_is_not() -> None:
    assert parse_month("2569-12", NOW) == Month(2026, 12)
    with pytest.raises(InputError, match=r"^--month 2570-01: the month has not begun yet "
                                         r"\(today is 2569-12-03 B\.E\.\)$"):
        parse_month("2570-01", NOW)


@pytest.mark.parametrize("text", ["2569-13", "2569-00", "11/2569", "2569", "1969-12", ""])
def test_not_a_month(text: str) -> None:
    with pytest.raises(InputError, match=r"^--month "):
        parse_month(text, NOW)


def test_month_bounds_are_bangkok_midnights() -> None:
    month = Month(2026, 11)
    assert month.start == datetime(2026, 11, 1, tzinfo=BANGKOK)
    assert month.end == datetime(2026, 12, 1, tzinfo=BANGKOK)
    assert month.label == "2569-11" and len(month.days) == 30


def test_windows_of_a_whole_month() -> None:
    month = Month(2026, 11)
    days = windows(month, NOW, school_hours=False)
    assert len(days) == 30 and {w.range_s for w in days} == {86400}
    first = days[0]
    # The window's first second is the day's first second, its last the day's last.
    assert first.end - first.range_s + 1 == int(month.start.timestamp())
    assert first.end == int(datetime(2026, 11, 2, tzinfo=BANGKOK).timestamp()) - 1
    lessons = windows(month, NOW, school_hours=True)
    assert [w.day for w in lessons][:3] == [date(2026, 11, 2), date(2026, 11, 3),
                                           date(2026, 11, 4)]  # 1 November is a Sunday
    assert len(lessons) == 21 and {w.range_s for w in lessons} == {8 * 3600}
    assert lessons[0].end - lessons[0].range_s + 1 == int(
        datetime(2026, 11, 2, 8, 0, tzinfo=BANGKOK).timestamp())


def test_windows_of_a_month_in_progress_stop_now() -> None:
    month = Month(2026, 12)
    days = windows(month, NOW, school_hours=False)
    assert [w.day.day for w in days] == [1, 2, 3]
    assert days[-1].end == int(NOW.timestamp()) - 1 and days[-1].range_s == 12 * 3600
    lessons = windows(month, NOW, school_hours=True)
    assert [w.day.day for w in lessons] == [1, 2, 3]
    assert lessons[-1].range_s == 4 * 3600  # 08:00 to 12:00 of today
