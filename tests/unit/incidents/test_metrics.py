"""The incident collector read back through a fresh registry, as Prometheus would scrape it."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.metrics import IncidentCollector
from dlict.incidents.model import CaseStatus, DeadlineKind, ThreatLevel


def test_open_cases_and_pending_deadlines_are_served(tmp_path: Path) -> None:
    path = tmp_path / "evidence.sqlite"
    aware = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    with EvidenceStore.open(path) as store:
        book = CaseBook(store, now=lambda: aware + timedelta(hours=1))
        breach = book.open(title="grades leaked", personal_data=True,
                           threat_level=ThreatLevel.SERIOUS, aware_at=aware)
        book.mark_reported(breach.id, DeadlineKind.AGENCY)
        done = book.open(title="false alarm")
        book.move(done.id, CaseStatus.FALSE_POSITIVE)
    registry = CollectorRegistry()
    registry.register(IncidentCollector(path))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("dlict_incident_open", threat_level="serious") == 1
    assert value("dlict_incident_open", threat_level="non-serious") == 0  # the false positive
    assert value("dlict_incident_deadline_timestamp_seconds", case=breach.id,
                 kind="pdpc") == (aware + timedelta(hours=72)).timestamp()
    assert value("dlict_incident_deadline_timestamp_seconds", case=breach.id,
                 kind="ncsa") == (aware + timedelta(hours=24)).timestamp()
    # the agency report is recorded as sent; a closed case has nothing due
    assert value("dlict_incident_deadline_timestamp_seconds", case=breach.id,
                 kind="agency") is None
    assert done.id not in generate_latest(registry).decode()


def test_no_store_means_no_cases_and_creates_nothing(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    registry.register(IncidentCollector(tmp_path / "missing" / "evidence.sqlite"))
    assert registry.get_sample_value("dlict_incident_open", {"threat_level": "critical"}) == 0
    assert not (tmp_path / "missing").exists()


def test_the_exposition_passes_promtool_check_metrics(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not on PATH: install Debian's 'prometheus' package",
                    pytrace=False)
    path = tmp_path / "evidence.sqlite"
    with EvidenceStore.open(path) as store:
        CaseBook(store).open(title="leak", personal_data=True)
    registry = CollectorRegistry()
    registry.register(IncidentCollector(path))
    body = generate_latest(registry)
    assert b"dlict_incident_deadline_timestamp_seconds{" in body
    checked = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == b""  # no lint warning either
