"""Alertmanager's webhook notification (payload version 4), read strictly and within bounds.

Alertmanager POSTs one JSON object per notification of an alert group::

    {"version": "4", "groupKey": "{}:{alertname=\"SchoolLinkDown\", site=\"4401010002\"}",
     "status": "firing" | "resolved", "receiver": "dlict-intake", "truncatedAlerts": 0,
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "...",
     "alerts": [{"status": "firing" | "resolved", "labels": {...}, "annotations": {...},
                 "startsAt": RFC 3339, "endsAt": RFC 3339 (0001-01-01T00:00:00Z: not yet),
                 "generatorURL": "...", "fingerprint": "1a30ba71cca2921f"}]}

Only what the intake uses is required and checked; other keys (a newer Alertmanager's) are
let through unread. Anything wrong is an ``InputError`` naming the field, so the HTTP answer
is a 400 with that line and nothing is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from dlict.core.errors import InputError

#: The largest notification read. Alertmanager sends every alert of a group (``max_alerts``
#: unset) and a district's group is one school's alerts of one name: a few kB. 1 MiB leaves room
#: for a group of some hundreds of alerts and bounds what one request may cost.
MAX_WEBHOOK_BYTES = 1024 * 1024
MAX_ALERTS = 1000
MAX_LABELS = 64  # labels or annotations of one alert
MAX_NAME = 128  # a label's name
MAX_VALUE = 8 * 1024  # a label's or annotation's value
MAX_GROUP_KEY = 1000  # what a case's group key holds (dlict.incidents.cases)
_FINGERPRINT = re.compile(r"[0-9a-f]{1,32}")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NEVER = datetime(1, 1, 1, tzinfo=UTC)  # Go's zero time: Alertmanager's "no end yet"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Alert:
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None: still firing with no end announced
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels["alertname"]


@dataclass(frozen=True, slots=True)
class Notification:
    group_key: str
    status: AlertStatus
    receiver: str
    alerts: tuple[Alert, ...]


def _field(where: str, message: str) -> InputError:
    return InputError(f"webhook: {where}: {message}")


def _text(value: Any, where: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise _field(where, "must be a string")
    if required and not value:
        raise _field(where, "must not be empty")
    if len(value) > limit:
        raise _field(where, f"longer than {limit} characters")
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in value):
        raise _field(where, "holds a control character")
    return value


def _status(value: Any, where: str) -> AlertStatus:
    try:
        return AlertStatus(value)
    except ValueError:
        raise _field(where, "must be \"firing\" or \"resolved\"") from None


def _time(value: Any, where: str) -> datetime:
    text = _text(value, where, 64)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _field(where, f"'{text[:40]}' is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise _field(where, "has no time zone")
    return moment.astimezone(UTC)


def _mapping(value: Any, where: str, *, names_are_labels: bool) -> dict[str, str]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _field(where, "must be an object")
    if len(value) > MAX_LABELS:
        raise _field(where, f"more than {MAX_LABELS} entries")
    out: dict[str, str] = {}
    for name, item in value.items():
        name = _text(name, where, MAX_NAME)
        if names_are_labels and not _LABEL_NAME.fullmatch(name):
            raise _field(where, f"'{name}' is not a label name")
        out[name] = _text(item, f"{where}.{name}", MAX_VALUE, required=False)
    return out


def _alert(value: Any, where: str) -> Alert:
    if not isinstance(value, dict):
        raise _field(where, "must be an object")
    labels = _mapping(value.get("labels"), f"{where}.labels", names_are_labels=True)
    if not labels.get("alertname"):
        raise _field(f"{where}.labels", "has no alertname")
    fingerprint = _text(value.get("fingerprint"), f"{where}.fingerprint", 32)
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise _field(f"{where}.fingerprint", "must be hexadecimal")
    ends_at = _time(value.get("endsAt"), f"{where}.endsAt")
    return Alert(status=_status(value.get("status"), f"{where}.status"), labels=labels,
                 annotations=_mapping(value.get("annotations"), f"{where}.annotations",
                                      names_are_labels=False),
                 starts_at=_time(value.get("startsAt"), f"{where}.startsAt"),
                 ends_at=None if ends_at == _NEVER else ends_at, fingerprint=fingerprint)


def parse_notification(body: bytes) -> Notification:
    """The notification in ``body`` (JSON, UTF-8).

    Raises:
        InputError: the body is too large, not JSON, not version 4, or a field the intake uses
            is missing or wrong (the message names it).
    """
    if len(body) > MAX_WEBHOOK_BYTES:
        raise InputError(f"webhook: {len(body)} bytes; at most {MAX_WEBHOOK_BYTES} are taken")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("webhook: the body is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"webhook: the body is not JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise InputError("webhook: the body must be a JSON object")
    if data.get("version") != "4":
        raise _field("version", f"{str(data.get('version'))[:20]!r} is not \"4\", the "
                     "version this intake reads")
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise _field("alerts", "must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise _field("alerts", f"more than {MAX_ALERTS} alerts")
    return Notification(
        group_key=_text(data.get("groupKey"), "groupKey", MAX_GROUP_KEY),
        status=_status(data.get("status"), "status"),
        receiver=_text(data.get("receiver", ""), "receiver", MAX_NAME, required=False),
        alerts=tuple(_alert(alert, f"alerts[{index}]") for index, alert in enumerate(alerts)))
