"""The case book on a real evidence store: numbering, lifecycle, observables, the trail."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook, CaseNotFoundError, IllegalTransitionError
from dlict.incidents.model import CaseStatus, ObservableKind, ThreatLevel


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as opened:
        yield opened


def test_cases_are_numbered_per_buddhist_era_year_in_bangkok_time(store: EvidenceStore) -> None:
    # 31 Dec 2026 17:30 UTC is already 1 Jan 2027 (B.E. 2570) in Bangkok.
    clock = Clock(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    book = CaseBook(store, actor="somchai", now=clock)
    first = book.open(title="web defaced")
    second = book.open(title="phishing")
    clock.now = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    third = book.open(title="ransomware")
    assert [first.id, second.id, third.id] == ["INC-2569-0001", "INC-2569-0002",
                                               "INC-2570-0001"]
    assert book.get("INC-2569-0002").title == "phishing"


def test_status_moves_only_along_the_transitions_and_each_move_is_trailed(
        store: EvidenceStore) -> None:
    clock = Clock(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    book = CaseBook(store, actor="somchai", now=clock)
    case = book.open(title="web defaced", group_key="{}:{alertname=\"SiteDown\"}")
    assert book.find_open(case.group_key) == case
    book.move(case.id, CaseStatus.TRIAGE)
    with pytest.raises(IllegalTransitionError, match="cannot move from triage to recovered"):
        book.move(case.id, CaseStatus.RECOVERED)
    clock.now += timedelta(hours=2)
    closed = book.move(case.id, CaseStatus.CLOSED, note="restored from backup")
    assert closed.closed_at == clock.now and not closed.status.is_open
    assert book.find_open(case.group_key) is None
    assert book.cases() == [] and [c.id for c in book.cases(include_closed=True)] == [case.id]
    trail = book.trail(case.id)
    assert [t.action for t in trail] == ["open", "status", "status"]
    assert trail[-1].before["status"] == "triage" and trail[-1].after["status"] == "closed"
    assert all(t.who.startswith("somchai (login ") for t in trail)
    assert [e.kind for e in book.timeline(case.id)] == ["status", "status", "status"]


def test_observables_are_normalised_and_kept_once_per_case(store: EvidenceStore) -> None:
    book = CaseBook(store, actor="somchai")
    case = book.open(title="scan from outside")
    _, added = book.observe(case.id, ObservableKind.IP, "2001:DB8:0:0::1")
    again, added_again = book.observe(case.id, ObservableKind.IP, "2001:db8::1")
    assert added and not added_again and again.value == "2001:db8::1"
    mac, _ = book.observe(case.id, ObservableKind.MAC, "AA-BB-CC-00-11-22")
    domain, _ = book.observe(case.id, ObservableKind.DOMAIN, "Evil.Example.COM.")
    assert (mac.value, domain.value) == ("aa:bb:cc:00:11:22", "evil.example.com")
    with pytest.raises(InputError, match="observable ip: not an IP address"):
        book.observe(case.id, ObservableKind.IP, "10.0.0.300")
    assert len(book.observables(case.id)) == 3
    assert [t.action for t in book.trail(case.id)] == ["open"] + ["observable"] * 3


def test_update_records_before_and_after_and_refuses_unknown_fields(
        store: EvidenceStore) -> None:
    book = CaseBook(store, actor="somchai")
    case = book.open(title="account misuse")
    updated = book.update(case.id, threat_level=ThreatLevel.SERIOUS, owner="dlict-head")
    assert updated.threat_level is ThreatLevel.SERIOUS
    entry = book.trail(case.id)[-1]
    assert entry.before == {"threat_level": "non-serious", "owner": ""}
    assert entry.after == {"threat_level": "serious", "owner": "dlict-head"}
    with pytest.raises(InputError, match="cannot update status"):
        book.update(case.id, status="closed")
    with pytest.raises(CaseNotFoundError, match="INC-2569-0099: no such case"):
        book.note("INC-2569-0099", "hello")
    assert len(book.trail(case.id)) == 2  # the refused changes wrote nothing


def test_the_trail_cannot_be_changed_or_deleted_even_by_sql(store: EvidenceStore) -> None:
    book = CaseBook(store, actor="somchai")
    case = book.open(title="web defaced")
    with sqlite3.connect(store.path) as conn:
        for sql in ("UPDATE incident_trail SET who = 'nobody'", "DELETE FROM incident_trail"):
            with pytest.raises(sqlite3.IntegrityError, match="the incident trail is append-only"):
                conn.execute(sql)
    assert [t.who for t in book.trail(case.id)] == [book.who]


def test_every_status_level_category_and_deadline_kind_has_thai_and_english_words() -> None:
    from dlict.i18n import lookup
    from dlict.incidents.model import Category, DeadlineKind

    for group, members in (("status", CaseStatus), ("level", ThreatLevel),
                           ("category", Category), ("deadline", DeadlineKind)):
        for member in members:
            th, en = (lookup(f"incident.{group}.{member.value}", lang) for lang in ("th", "en"))
            assert th and en and th != en, (group, member)
