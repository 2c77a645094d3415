"""What an agent sends: a result, a security event or a metric sample, each with the key
that lets the office store it exactly once however often it arrives.

The key is made once, when the record is made, and travels with it through the outbox, every
retry and the intake's de-duplication. A result is the project's one ``Result``; an event is
something the operator must hear about (an unknown device on the school LAN); a sample is one
value of a metric series. Only samples may be dropped when the outbox is full — never a
result or an event without the drop being counted and reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dlict.core.clock import to_utc, utc_now
from dlict.core.results import Result, Status


class Kind(StrEnum):
    RESULT = "result"
    EVENT = "event"
    SAMPLE = "sample"

    @property
    def droppable(self) -> bool:
        """Whether the outbox may drop it (oldest first) to stay under its disk cap."""
        return self is Kind.SAMPLE


def new_key() -> str:
    """A fresh idempotency key: 128 random bits, hex."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Record:
    """One thing an agent tells the office.

    ``body`` by kind:
      - result: ``{"status", "control"|"target", "evidence"}`` (site, host, time are fields here)
      - event: ``{"type": str, "detail": str, ...}`` — free keys, strings and numbers only
      - sample: ``{"name": str, "labels": {str: str}, "value": float}``
    """

    kind: Kind
    site: str
    host: str
    body: Mapping[str, Any]
    created_at: datetime = field(default_factory=utc_now)
    key: str = field(default_factory=new_key)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "created_at", to_utc(self.created_at))


def result_record(result: Result) -> Record:
    body: dict[str, Any] = {"status": str(result.status), "evidence": result.evidence}
    if result.control:
        body["control"] = result.control
    if result.target:
        body["target"] = result.target
    return Record(Kind.RESULT, result.site, result.host, body, result.observed_at)


def result_of(record: Record) -> Result:
    """The ``Result`` a result record carries.

    Raises:
        ValueError: the record is not a result or its body is not one.
    """
    if record.kind is not Kind.RESULT:
        raise ValueError(f"a {record.kind} record is not a result")
    body = record.body
    return Result(site=record.site, host=record.host, status=Status(body["status"]),
                  control=body.get("control"), target=body.get("target"),
                  evidence=str(body.get("evidence", "")), observed_at=record.created_at)


def sample_record(site: str, host: str, name: str, labels: Mapping[str, str], value: float,
                  at: datetime | None = None) -> Record:
    body = {"name": name, "labels": dict(labels), "value": float(value)}
    return Record(Kind.SAMPLE, site, host, body, at or utc_now())


def event_record(site: str, host: str, event_type: str, detail: str,
                 at: datetime | None = None, **extra: str | int | float) -> Record:
    body: dict[str, Any] = {"type": event_type, "detail": detail, **extra}
    return Record(Kind.EVENT, site, host, body, at or utc_now())
