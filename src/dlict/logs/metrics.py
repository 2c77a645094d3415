"""The check's results as Prometheus samples, for a node_exporter textfile."""

from __future__ import annotations

from datetime import datetime, time

from dlict.core.metric_names import LOGS_CHECK_OK as CHECK_OK
from dlict.core.metric_names import LOGS_CHECKED_AT as CHECKED_AT
from dlict.core.metric_names import LOGS_COVERED as COVERED
from dlict.core.metric_names import LOGS_HEARD as HEARD
from dlict.core.metric_names import LOGS_INTEGRITY as INTEGRITY
from dlict.core.metric_names import LOGS_LAST_SEALED as LAST_SEALED
from dlict.core.metric_names import LOGS_OFFSET as OFFSET
from dlict.core.metric_names import LOGS_REQUIRED as REQUIRED
from dlict.core.promtext import Family, Writer, labels
from dlict.logs.check import CheckReport

DAY_S = 86_400

Samples = list[tuple[str, float | None]]


def families(report: CheckReport) -> list[tuple[Family, Samples]]:
    """One family per figure; labels ``host`` and ``site`` (bounded by the inventory)."""
    covered: Samples = []
    required: Samples = []
    last_sealed: Samples = []
    integrity: Samples = []
    heard: Samples = []
    offset: Samples = []
    for source in report.sources:
        site, _, host = source.source.partition("/")
        label_set = labels({"host": host, "site": site})
        covered.append((label_set, float(source.days_covered * DAY_S)))
        required.append((label_set, float(source.days_required * DAY_S)))
        integrity.append((label_set, 1.0 if source.integrity_ok else 0.0))
        if source.last_sealed_day is not None:
            midnight = datetime.combine(source.last_sealed_day, time(0)).astimezone()
            last_sealed.append((label_set, midnight.timestamp()))
        heard.append((label_set, source.silent_seconds))
        if source.clock is not None:
            offset.append((label_set, source.clock.offset_ms / 1000))
    return [
        (COVERED, covered), (REQUIRED, required), (LAST_SEALED, last_sealed),
        (INTEGRITY, integrity), (HEARD, heard), (OFFSET, offset),
        (CHECK_OK, [("", 1.0 if report.ok else 0.0)]),
        (CHECKED_AT, [("", report.checked_at.timestamp())]),
    ]


def exposition(report: CheckReport) -> str:
    """The Prometheus text format."""
    out = Writer()
    for family, samples in families(report):
        out.family(family, samples)
    return out.text()
