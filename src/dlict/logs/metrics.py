"""The check's results as Prometheus samples: for the exporter, or a node_exporter textfile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from dlict.logs.check import CheckReport


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    samples: list[tuple[dict[str, str], float]]


def families(report: CheckReport) -> list[Family]:
    """One family per figure; labels ``site`` and ``host`` (bounded by the inventory)."""
    covered, last_sealed, integrity, heard, offset = [], [], [], [], []
    for source in report.sources:
        site, _, host = source.source.partition("/")
        labels = {"site": site, "host": host}
        covered.append((labels, float(source.days_covered)))
        integrity.append((labels, 1.0 if source.integrity_ok else 0.0))
        if source.last_sealed_day is not None:
            midnight = datetime.combine(source.last_sealed_day, time(0)).astimezone()
            last_sealed.append((labels, midnight.timestamp()))
        if source.silent_seconds is not None:
            heard.append((labels, source.silent_seconds))
        if source.clock is not None:
            offset.append((labels, source.clock.offset_ms / 1000))
    return [
        Family("dlict_logs_days_covered", "Days of the check window present, sealed and intact.",
               covered),
        Family("dlict_logs_last_sealed_day_timestamp_seconds",
               "Start of the newest sealed day (Unix time).", last_sealed),
        Family("dlict_logs_integrity_ok",
               "1 when every sealed file, the chain and the signatures hold.", integrity),
        Family("dlict_logs_seconds_since_heard",
               "Seconds since the source's newest log line was written.", heard),
        Family("dlict_logs_clock_offset_seconds",
               "Clock offset the source last reported (chronyc tracking, absolute).", offset),
        Family("dlict_logs_check_ok", "1 when the whole check found nothing.",
               [({}, 1.0 if report.ok else 0.0)]),
        Family("dlict_logs_check_timestamp_seconds", "When the check ran (Unix time).",
               [({}, report.checked_at.timestamp())]),
    ]


def exposition(report: CheckReport) -> str:
    """The Prometheus text format."""
    lines = []
    for family in families(report):
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} gauge")
        for labels, value in family.samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
            lines.append(f"{family.name}{{{text}}} {value!r}" if text
                         else f"{family.name} {value!r}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
