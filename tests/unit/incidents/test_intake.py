"""Alertmanager notifications into cases on a real evidence store: one case per group, repeats
add nothing, a resolution goes on the timeline; the payload is read strictly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.intake import receive
from dlict.incidents.model import CaseSource, CaseStatus, Category, ThreatLevel
from dlict.incidents.webhook import AlertStatus, parse_notification
from dlict.inventory import load_inventory
from tests.conftest import EXAMPLE_INVENTORY

GROUP = '{}/{severity="critical"}:{alertname="SchoolLinkDown", site="4401010002"}'
STARTED = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)


def alert(status: str = "firing", fingerprint: str = "cb27da05c1e8a2f1",
          starts: datetime = STARTED, ends: datetime | None = None,
          **labels: str) -> dict[str, Any]:
    return {"status": status,
            "labels": {"alertname": "SchoolLinkDown", "site": "4401010002",
                       "severity": "critical", **labels},
            "annotations": {"summary": "School 4401010002: internet link down",
                            "description": "No probe target of site 4401010002 has answered."},
            "startsAt": starts.isoformat().replace("+00:00", "Z"),
            "endsAt": (ends.isoformat() if ends else "0001-01-01T00:00:00Z"),
            "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": fingerprint}


def payload(*alerts: dict[str, Any], group: str = GROUP) -> bytes:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return json.dumps({"receiver": "dlict-oncall", "status": status, "alerts": list(alerts),
                       "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
                       "externalURL": "http://127.0.0.1:9093", "version": "4",
                       "groupKey": group, "truncatedAlerts": 0}).encode()


@pytest.fixture
def book(tmp_path: Path) -> Iterator[CaseBook]:
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store:
        yield CaseBook(store, actor="alertmanager")


def alert_kinds(book: CaseBook, case_id: str) -> list[str]:
    return [e.kind for e in book.timeline(case_id) if e.kind.startswith("alert-")]


def test_a_firing_group_opens_one_case_and_its_repeats_add_nothing(book: CaseBook) -> None:
    body = payload(alert())
    first = receive(book, parse_notification(body))
    again = [receive(book, parse_notification(body)) for _ in range(3)]
    assert first.opened and first.added == 1
    assert all(not r.opened and r.added == 0 and r.repeats == 1 and r.case_id == first.case_id
               for r in again)
    [case] = book.cases()
    assert (case.title, case.group_key, case.sites) == (
        "School 4401010002: internet link down", GROUP, ("4401010002",))
    assert (case.source, case.category, case.threat_level) == (
        CaseSource.ALERTMANAGER, Category.AVAILABILITY, ThreatLevel.NON_SERIOUS)
    [entry] = [e for e in book.timeline(case.id) if e.kind == "alert-firing"]
    assert entry.at == STARTED  # when the alert started, not when dlict heard of it
    assert entry.text.startswith("SchoolLinkDown firing: School 4401010002: internet link down")


def test_resolution_is_one_timeline_entry_and_a_new_firing_joins_the_open_case(
        book: CaseBook) -> None:
    opened = receive(book, parse_notification(payload(alert())))
    ended = STARTED + timedelta(minutes=10)
    resolved = payload(alert("resolved", ends=ended))
    done = receive(book, parse_notification(resolved))
    repeat = receive(book, parse_notification(resolved))
    assert (done.case_id, done.added, repeat.added, repeat.repeats) == (opened.case_id, 1, 0, 1)
    assert opened.case_id is not None
    assert [e.at for e in book.timeline(opened.case_id) if e.kind == "alert-resolved"] == [ended]
    # the school fails again while the case is still open: same case, a new firing entry
    again = receive(book, parse_notification(payload(alert(starts=ended + timedelta(minutes=5)))))
    assert (again.case_id, again.opened, again.added) == (opened.case_id, False, 1)
    assert alert_kinds(book, opened.case_id) == ["alert-firing", "alert-resolved",
                                                 "alert-firing"]
    assert len(book.cases()) == 1


def test_a_second_alert_of_the_group_joins_and_other_groups_open_their_own(
        book: CaseBook) -> None:
    one = receive(book, parse_notification(payload(alert())))
    both = receive(book, parse_notification(payload(alert(), alert(fingerprint="aa01",
                                                                   target="10.0.0.1"))))
    other = receive(book, parse_notification(payload(alert(site="4401010001"),
                                                     group=GROUP.replace("02", "01"))))
    assert (both.case_id, both.added, both.repeats) == (one.case_id, 1, 1)
    assert other.opened and other.case_id != one.case_id
    assert len(book.cases()) == 2


def test_a_resolution_after_the_case_was_closed_opens_nothing(book: CaseBook) -> None:
    opened = receive(book, parse_notification(payload(alert())))
    assert opened.case_id is not None
    book.move(opened.case_id, CaseStatus.CLOSED, "link repaired by the ISP")
    late = receive(book, parse_notification(payload(
        alert("resolved", ends=STARTED + timedelta(minutes=1)))))
    assert (late.case_id, late.added) == (None, 0)
    assert [c.status for c in book.cases(include_closed=True)] == [CaseStatus.CLOSED]


def test_a_rule_may_set_category_and_threat_level_and_bad_values_fall_back(
        book: CaseBook) -> None:
    marked = receive(book, parse_notification(payload(
        alert(alertname="WebDefaced", category="intrusions", threat_level="serious"),
        group="g1")))
    wrong = receive(book, parse_notification(payload(
        alert(alertname="Odd", category="aliens", threat_level="apocalyptic"), group="g2")))
    assert marked.case_id is not None and wrong.case_id is not None
    first, second = book.get(marked.case_id), book.get(wrong.case_id)
    assert (first.category, first.threat_level) == (Category.INTRUSIONS, ThreatLevel.SERIOUS)
    assert (second.category, second.threat_level) == (Category.OTHER, ThreatLevel.NON_SERIOUS)


def test_sites_the_inventory_does_not_know_are_left_off_the_case(tmp_path: Path) -> None:
    inventory = load_inventory(EXAMPLE_INVENTORY)
    known = inventory.sites[-1].id
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store:
        book = CaseBook(store, inventory, actor="alertmanager")
        done = receive(book, parse_notification(payload(
            alert(site="4409999999"), alert(fingerprint="b1", site=known))), inventory)
        assert done.case_id is not None
        assert book.get(done.case_id).sites == (known,)


def test_a_valid_notification_is_read_field_by_field() -> None:
    ended = STARTED + timedelta(seconds=90)
    notification = parse_notification(payload(alert("resolved", ends=ended)))
    [read] = notification.alerts
    assert (notification.group_key, notification.status, notification.receiver) == (
        GROUP, AlertStatus.RESOLVED, "dlict-oncall")
    assert (read.name, read.fingerprint, read.starts_at, read.ends_at) == (
        "SchoolLinkDown", "cb27da05c1e8a2f1", STARTED, ended)
    assert parse_notification(payload(alert())).alerts[0].ends_at is None  # Go's zero time


def _broken(change: Any) -> bytes:
    data = json.loads(payload(alert()))
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(("body", "named"), [
    (b"", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", "JSON object"),
    (b"[" * 100_000, "not JSON"),
    (_broken(lambda d: d.update(version="3")), "version"),
    (_broken(lambda d: d.pop("groupKey")), "groupKey"),
    (_broken(lambda d: d.update(groupKey="x" * 1001)), "groupKey"),
    (_broken(lambda d: d.update(status="burning")), "status"),
    (_broken(lambda d: d.update(alerts=[])), "alerts"),
    (_broken(lambda d: d.update(alerts=[d["alerts"][0]] * 1001)), "alerts"),
    (_broken(lambda d: d["alerts"][0]["labels"].pop("alertname")), "alertname"),
    (_broken(lambda d: d["alerts"][0]["labels"].update({"bad-name": "x"})), "label name"),
    (_broken(lambda d: d["alerts"][0]["labels"].update(site=7)), "labels.site"),
    (_broken(lambda d: d["alerts"][0]["labels"].update(site="a\x1bb")), "control"),
    (_broken(lambda d: d["alerts"][0]["annotations"].update(summary="x" * 9000)),
     "annotations.summary"),
    (_broken(lambda d: d["alerts"][0]["annotations"].update(
        {f"a{i}": "" for i in range(65)})), "annotations"),
    (_broken(lambda d: d["alerts"][0].update(startsAt="yesterday")), "startsAt"),
    (_broken(lambda d: d["alerts"][0].update(startsAt="2026-12-02T10:00:00")), "time zone"),
    (_broken(lambda d: d["alerts"][0].update(fingerprint="../../etc")), "fingerprint"),
    (_broken(lambda d: d["alerts"][0].update(status=None)), "alerts[0].status"),
])
def test_a_malformed_notification_is_one_line_naming_what_is_wrong(body: bytes,
                                                                   named: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_notification(body)
    message = str(caught.value)
    assert message.startswith("webhook") and named in message and "\n" not in message
