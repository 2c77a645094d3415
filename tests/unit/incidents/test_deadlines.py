"""Reporting deadlines with fixed clocks: across month and year ends, Buddhist-Era years and
case numbering at the Bangkok new year, and the office's own policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dlict.core.clock import BANGKOK, format_local
from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.deadlines import case_deadlines, next_open_deadline, time_left
from dlict.incidents.model import (
    Case,
    CaseSource,
    CaseStatus,
    Category,
    DeadlineKind,
    ThreatLevel,
)
from dlict.inventory.models import IncidentSettings


def a_case(aware_at: datetime, level: ThreatLevel = ThreatLevel.NON_SERIOUS, *,
           personal_data: bool = True) -> Case:
    return Case(id="INC-2569-0001", title="t", description="", reporter="", owner="",
                status=CaseStatus.NEW, category=Category.OTHER, threat_level=level,
                personal_data=personal_data, source=CaseSource.MANUAL, group_key="",
                sites=(), hosts=(), aware_at=aware_at, opened_at=aware_at, updated_at=aware_at)


def due(case: Case, settings: IncidentSettings | None = None) -> dict[DeadlineKind, datetime]:
    return {d.kind: d.due_at for d in case_deadlines(case, settings or IncidentSettings())}


def test_pdpa_72_hours_cross_the_thai_new_year_into_the_next_buddhist_era_year() -> None:
    # 30 Dec 2569 (B.E.) 20:00 in Bangkok → 2 Jan 2570 20:00
    aware = datetime(2026, 12, 30, 20, 0, tzinfo=BANGKOK)
    pdpc = due(a_case(aware))[DeadlineKind.PDPC]
    assert pdpc.astimezone(BANGKOK) == datetime(2027, 1, 2, 20, 0, tzinfo=BANGKOK)
    assert format_local(pdpc, "th") == "2 มกราคม 2570 20:00:00 น."


def test_a_deadline_crosses_the_end_of_a_short_month_and_a_leap_day() -> None:
    # 27 Feb 2028 (a leap year, B.E. 2571) 23:30 Bangkok: 72 h later is 1 Mar, not 2 Mar
    aware = datetime(2028, 2, 27, 23, 30, tzinfo=BANGKOK)
    assert due(a_case(aware))[DeadlineKind.PDPC].astimezone(BANGKOK) == datetime(
        2028, 3, 1, 23, 30, tzinfo=BANGKOK)
    # 27 Feb 2027 (not a leap year): 2 Mar
    aware = datetime(2027, 2, 27, 23, 30, tzinfo=BANGKOK)
    assert due(a_case(aware))[DeadlineKind.PDPC].astimezone(BANGKOK) == datetime(
        2027, 3, 2, 23, 30, tzinfo=BANGKOK)


def test_the_utc_date_and_the_bangkok_date_differ_and_the_window_is_elapsed_hours() -> None:
    # 31 Jan 20:00 UTC is already 1 Feb 03:00 in Bangkok; a critical case's 1 h window ends
    # on 1 Feb in Bangkok though it is still 31 Jan in UTC
    aware = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)
    ncsa = due(a_case(aware, ThreatLevel.CRITICAL))[DeadlineKind.NCSA]
    assert ncsa == datetime(2027, 1, 31, 21, 0, tzinfo=UTC)
    assert format_local(ncsa, "th") == "1 กุมภาพันธ์ 2570 04:00:00 น."


def test_windows_follow_the_threat_level_and_the_office_policy() -> None:
    aware = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    defaults = due(a_case(aware, ThreatLevel.SERIOUS, personal_data=False))
    assert DeadlineKind.PDPC not in defaults  # no personal data: no PDPC notification
    assert defaults[DeadlineKind.NCSA] - aware == timedelta(hours=24)
    policy = IncidentSettings(report_hours={"agency": {"serious": 6.0},
                                            "ncsa": {"serious": 12.5}}, pdpc_hours=48)
    mine = due(a_case(aware, ThreatLevel.SERIOUS), policy)
    assert mine == {DeadlineKind.AGENCY: aware + timedelta(hours=6),
                    DeadlineKind.NCSA: aware + timedelta(hours=12, minutes=30),
                    DeadlineKind.PDPC: aware + timedelta(hours=48)}
    # a level the policy leaves out has no deadline of that kind
    assert due(a_case(aware, ThreatLevel.CRITICAL, personal_data=False), policy) == {}


def test_time_left_turns_negative_once_missed_and_a_sent_report_is_no_longer_next() -> None:
    aware = datetime(2026, 12, 31, 23, 0, tzinfo=BANGKOK)
    case = a_case(aware, ThreatLevel.SERIOUS)
    deadlines = case_deadlines(case, IncidentSettings())
    first = next_open_deadline(deadlines)
    assert first is not None and first.kind is DeadlineKind.AGENCY
    assert time_left(first, aware + timedelta(hours=23)) == timedelta(hours=1)
    assert time_left(first, aware + timedelta(hours=25)) == -timedelta(hours=1)
    sent = case_deadlines(case, IncidentSettings(), {DeadlineKind.AGENCY: aware,
                                                     DeadlineKind.NCSA: aware})
    later = next_open_deadline(sent)
    assert later is not None and later.kind is DeadlineKind.PDPC


def test_case_book_deadlines_follow_a_change_of_threat_level_and_a_report_sent(
        tmp_path: Path) -> None:
    now = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 Jan 2570 00:30 in Bangkok
    with EvidenceStore.open(tmp_path / "e.sqlite") as store:
        book = CaseBook(store, now=lambda: now)
        case = book.open(title="ransomware", personal_data=True,
                         aware_at=now - timedelta(hours=1))
        assert case.id == "INC-2570-0001"
        book.update(case.id, threat_level=ThreatLevel.CRITICAL)
        ncsa = next(d for d in book.deadlines(case.id) if d.kind is DeadlineKind.NCSA)
        assert ncsa.due_at == now and ncsa.met_at is None
        book.mark_reported(case.id, DeadlineKind.NCSA)
        marked = {d.kind: d.met_at for d in book.deadlines(case.id)}
        assert marked[DeadlineKind.NCSA] == now and marked[DeadlineKind.PDPC] is None
        with pytest.raises(InputError, match="needs a date and time with a time zone"):
            book.note(case.id, "x", at=datetime(2026, 12, 31, 12, 0))
