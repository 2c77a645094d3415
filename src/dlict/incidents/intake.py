"""Alerts and findings become cases: one case per alert group, never one per repeat.

Alertmanager groups alerts (``group_by: [alertname, site]`` in collectors/alertmanager.yml:
one alert name at one school) and names each group with its ``groupKey``. A firing group opens
a case whose ``group_key`` is that key, or joins the open case that already has it; every
firing alert adds an ``alert-firing`` timeline entry at its ``startsAt``, every resolved one an
``alert-resolved`` entry at its ``endsAt``. Alertmanager repeats a group's notification
(``group_interval``, ``repeat_interval``, a retry after a lost answer): an alert already on the
timeline with the same fingerprint, start and state adds nothing. A resolved group whose case
was closed meanwhile adds nothing either: the people who closed it decided.

The case's category and threat level come from the alert's labels ``category`` and
``threat_level`` when a rule sets them to a known value, else from :data:`CATEGORY_BY_ALERT`;
the threat level is ``non-serious`` unless a rule says otherwise: ``severity`` says how soon
someone must look, not the Cybersecurity Act's threat level, which a person decides in triage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from dlict.core.clock import utc_now
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import Case, CaseSource, Category, ThreatLevel
from dlict.incidents.webhook import Alert, AlertStatus, Notification
from dlict.inventory.models import Inventory

#: The eCSIRT category of each of dlict's own alerts (collectors/rules): a school offline, a
#: DLTV receiver unlocked, a service down are all "availability"; the rest are "other" until
#: triage says more.
CATEGORY_BY_ALERT: dict[str, Category] = {
    name: Category.AVAILABILITY for name in (
        "SchoolLinkDown", "SchoolLinkLoss", "SchoolLinkRttHigh", "DltvUnlockedSchoolHours",
        "DltvReceiverUnreachable", "DltvSnrLow", "DltvStreamDown", "ServiceHttpDown",
        "ServiceTcpDown", "DnsDown", "NetdevUnreachable", "DlictMonitorDown",
        "DlictIntakeDown", "AgentSilentSchoolHours")
}
REPORTER = "alertmanager"
MAX_TITLE = 200
_E = TypeVar("_E", Category, ThreatLevel)
_MARK = re.compile(r"\[fingerprint ([0-9a-f]+) since (\S+)\]$")


@dataclass(frozen=True, slots=True)
class Received:
    """What one notification did: the case it went to (None: none open, nothing to do),
    whether it opened that case, entries added and repeats skipped."""

    case_id: str | None
    opened: bool
    added: int
    repeats: int


def _first(alerts: tuple[Alert, ...], label: str) -> str:
    return next((a.labels[label] for a in alerts if a.labels.get(label)), "")


def _choice(kind: type[_E], value: str, default: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return default


def _title(alerts: tuple[Alert, ...]) -> str:
    first = alerts[0]
    summary = first.annotations.get("summary") or " ".join(
        filter(None, (first.name, first.labels.get("site", ""))))
    return " ".join(summary.split())[:MAX_TITLE]


def _mark(alert: Alert) -> str:
    """What makes an alert's entry unique, at the end of its text: fingerprint and start."""
    return f"[fingerprint {alert.fingerprint} since {alert.starts_at.isoformat()}]"


def _entry_text(alert: Alert) -> str:
    said = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    head = f"{alert.name} {alert.status.value}"
    return f"{head}: {' '.join(said.split())} {_mark(alert)}" if said else f"{head} {_mark(alert)}"


def _entry_moment(alert: Alert) -> datetime:
    """When it happened; never later than now (a Prometheus clock a little ahead)."""
    if alert.status is AlertStatus.RESOLVED and alert.ends_at is not None:
        moment = alert.ends_at
    else:
        moment = alert.starts_at
    return min(moment, utc_now())


def _paragraphs(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _labelled(alerts: tuple[Alert, ...], label: str, known: Callable[[str], bool]
              ) -> tuple[str, ...]:
    values = dict.fromkeys(a.labels[label] for a in alerts if a.labels.get(label))
    return tuple(value for value in values if known(value))


def _open_case(book: CaseBook, notification: Notification, inventory: Inventory | None
               ) -> Case:
    alerts = notification.alerts
    first = alerts[0]
    default = CATEGORY_BY_ALERT.get(first.name, Category.OTHER)
    description = _paragraphs(first.annotations.get("description", ""))
    sites: Callable[[str], bool] = lambda _name: True  # noqa: E731
    hosts = sites
    if inventory is not None:  # a label the inventory does not know stays in the labels only
        sites = {site.id for site in inventory.sites}.__contains__
        hosts = inventory.hosts.__contains__
    return book.open(
        title=_title(alerts), description=description, reporter=REPORTER,
        category=_choice(Category, _first(alerts, "category"), default),
        threat_level=_choice(ThreatLevel, _first(alerts, "threat_level"),
                             ThreatLevel.NON_SERIOUS),
        source=CaseSource.ALERTMANAGER, group_key=notification.group_key,
        sites=_labelled(alerts, "site", sites), hosts=_labelled(alerts, "host", hosts))


def _seen(book: CaseBook, case_id: str) -> set[tuple[str, str]]:
    """(kind, mark) of every alert entry the case's timeline holds."""
    seen = set()
    for entry in book.timeline(case_id):
        match = _MARK.search(entry.text)
        if match and entry.kind.startswith("alert-"):
            seen.add((entry.kind, match.group(0)))
    return seen


def receive(book: CaseBook, notification: Notification, inventory: Inventory | None = None
            ) -> Received:
    """Open or join the group's case and put each alert not seen before on its timeline;
    with ``inventory``, only the sites and hosts it knows are named on a new case."""
    case = book.find_open(notification.group_key)
    opened = False
    if case is None:
        if all(a.status is AlertStatus.RESOLVED for a in notification.alerts):
            return Received(None, False, 0, len(notification.alerts))
        case = _open_case(book, notification, inventory)
        opened = True
    seen = _seen(book, case.id)
    added = repeats = 0
    for alert in notification.alerts:
        key = (f"alert-{alert.status.value}", _mark(alert))
        if key in seen:
            repeats += 1
            continue
        seen.add(key)
        book.note(case.id, _entry_text(alert), kind=key[0], at=_entry_moment(alert))
        added += 1
    return Received(case.id, opened, added, repeats)
