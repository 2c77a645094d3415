"""What every job writes its observations with: results, events and samples for one run,
each stamped with the run's site, host and time.

A sample carries the monitor's family name (``dlict.core.metric_names``) and its labels, plus
``vantage="agent"``: the same series the office's ``dlict monitor`` serves, told apart by
where it was observed from (the office probes from outside the school's NAT, the agent from
inside its LAN).
"""

from __future__ import annotations

from collections.abc import Mapping

from dlict.agent.jobs.base import JobContext
from dlict.agent.records import Record, event_record, result_record, sample_record
from dlict.core.promtext import Family
from dlict.core.results import Result, Status

VANTAGE_LABEL = "vantage"
AGENT_VANTAGE = "agent"


class Recorder:
    """The records of one run, in the order they were made."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.records: list[Record] = []

    def sample(self, family: Family, labels: Mapping[str, str], value: float | None) -> None:
        """One value of ``family``; ``None`` (nothing measured) makes no sample, as in the
        monitor's exposition."""
        if value is None:
            return
        context = self.context
        full = {"site": context.site, "host": context.host, **labels,
                VANTAGE_LABEL: AGENT_VANTAGE}
        self.records.append(sample_record(context.site, context.host, family.name, full,
                                          value, context.now))

    def result(self, status: Status, evidence: str, *, control: str | None = None,
               target: str | None = None, host: str | None = None) -> None:
        """One verdict; ``host`` defaults to the agent's host (EP-07 names the device)."""
        context = self.context
        self.records.append(result_record(Result(
            context.site, host or context.host, status, control=control, target=target,
            evidence=evidence, observed_at=context.now)))

    def event(self, event_type: str, detail: str, **extra: str | int | float) -> None:
        context = self.context
        self.records.append(event_record(context.site, context.host, event_type, detail,
                                         context.now, **extra))
