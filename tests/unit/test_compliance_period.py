"""The compliance report's period and counting rules, as pure functions."""

from __future__ import annotations

from datetime import date

import pytest

from dlict.controls import load_catalog
from dlict.core.errors import InputError
from dlict.core.results import Result, Status
from dlict.reports.compliance import Period, Tally, choose_period, parse_day
from dlict.reports.summary import scores

TODAY = date(2026, 12, 3)


def test_be_and_ce_years_name_the_same_day() -> None:
    assert parse_day("2569-11-01", "--from") == parse_day("2026-11-01", "--from") == \
        date(2026, 11, 1)


def test_default_period_is_thirty_days_to_today_and_previous_as_long() -> None:
    period = choose_period(None, None, TODAY)
    assert (period.start, period.end, period.days) == (date(2026, 11, 4), TODAY, 30)
    assert period.previous == Period(date(2026, 10, 5), date(2026, 11, 3))


def test_period_bounds_are_bangkok_midnights() -> None:
    period = choose_period("2026-11-01", "2026-11-30", TODAY)
    assert period.since.isoformat() == "2026-10-31T17:00:00+00:00"
    assert period.until.isoformat() == "2026-11-30T17:00:00+00:00"


@pytest.mark.parametrize(("start", "end", "words"), [
    ("2026-11-30", "2026-11-01", "is after"),
    ("2026-12-01", "2026-12-04", "in the future"),
    ("2025-01-01", "2026-11-30", "at most 366"),
    ("2026-11-31", "2026-11-30", "not a date"),
])
def test_bad_periods_are_refused(start: str, end: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        choose_period(start, end, TODAY)


def test_unreachable_and_not_applicable_are_not_judged() -> None:
    tally = Tally.of([Status.PASS, Status.FAIL, Status.ERROR, Status.UNREACHABLE,
                      Status.SKIPPED])
    assert (tally.compliant, tally.failing, tally.judged, tally.unreachable,
            tally.not_applicable) == (1, 2, 3, 1, 1)
    assert Tally.of([Status.UNREACHABLE]).percent is None


def test_an_unreachable_host_does_not_score_zero_percent() -> None:
    """A site with one host passing FW-01 and one unreachable scores 100 %, the unreachable
    one counted apart; before, it scored 50 %."""
    results = [Result("4401010001", "a", Status.PASS, "FW-01"),
               Result("4401010001", "b", Status.UNREACHABLE, "FW-01"),
               Result("4401010002", "c", Status.UNREACHABLE, "FW-01")]
    by_site = {s.site: s for s in scores(results, load_catalog())}
    assert by_site["4401010001"].percent == 100.0
    assert by_site["4401010001"].unreachable == 1
    assert by_site["4401010002"].percent is None  # nothing judged: no score, not 0 %
    assert by_site["*"].percent == 100.0 and by_site["*"].unreachable == 2
