"""Incident figures for /metrics: open cases and every report still due, read at scrape time.

The store is opened for each scrape (a scrape may come on another thread than the one that
built the collector, and SQLite connections stay on theirs). A missing store is not created:
it has no cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dlict.core.metric_names import INCIDENT_DEADLINE, INCIDENT_OPEN
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import ThreatLevel
from dlict.inventory.models import Inventory


class IncidentCollector(Collector):
    """``dlict_incident_open{threat_level}`` and
    ``dlict_incident_deadline_timestamp_seconds{case,kind}`` from the evidence store.

    Arguments:
        store_path: the evidence store (``Settings.store_path``).
        inventory: its ``dlict_incidents`` policy sets the windows; the defaults without it.
    """

    def __init__(self, store_path: Path, inventory: Inventory | None = None) -> None:
        self.store_path = store_path
        self.inventory = inventory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        open_by_level = {level: 0 for level in ThreatLevel}
        deadlines = GaugeMetricFamily(INCIDENT_DEADLINE.name, INCIDENT_DEADLINE.help,
                                      labels=["case", "kind"])
        if self.store_path.exists():
            with EvidenceStore.open(self.store_path) as store:
                book = CaseBook(store, self.inventory)
                for case in book.cases():
                    open_by_level[case.threat_level] += 1
                for case_id, due in book.all_deadlines().items():
                    for deadline in due:
                        if deadline.met_at is None:
                            deadlines.add_metric([case_id, deadline.kind.value],
                                                 deadline.due_at.timestamp())
        opened = GaugeMetricFamily(INCIDENT_OPEN.name, INCIDENT_OPEN.help,
                                   labels=["threat_level"])
        for level, count in open_by_level.items():
            opened.add_metric([level.value], float(count))
        yield opened
        yield deadlines
