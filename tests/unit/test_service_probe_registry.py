"""Every service probe kind is one object in one registry: the inventory accepts exactly its
kinds, docs/metrics.md documents each family it fills, and /metrics serves each of them.
The test walks the registry, so a kind added tomorrow is held to the same three rules."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dlict.core import metric_names
from dlict.exporter.exposition import SiteExposition
from dlict.exporter.plan import MonitorPlan, ServiceCheck, SiteNames
from dlict.exporter.service_registry import SERVICE_PROBES
from dlict.exporter.state import MonitorState, ServiceSample
from dlict.inventory.models import MonitorSettings, Services
from tests.conftest import REPO

SITE = "4401010001"
# every field set, so no family of any kind is left out for want of a value
SAMPLE = ServiceSample(up=True, seconds=0.125, status=204, cert_not_after=1_800_000_000.0)


def documented() -> set[str]:
    text = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(dlict_[a-z_]+)`", text, flags=re.MULTILINE))


def served(kind: str) -> dict[str, float]:
    """The /metrics samples of one check of ``kind`` that answered ``SAMPLE``."""
    plan = MonitorPlan(settings=MonitorSettings(), sites={SITE: SiteNames("th", "en", "a")})
    target = f"{kind}-target"
    plan.services.append(ServiceCheck(SITE, kind, target))
    state = MonitorState()
    state.put_service((SITE, kind, target), SAMPLE)
    text = SiteExposition(plan, state).render()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.labels == {"site": SITE, "target": target}}


def test_the_inventory_takes_exactly_the_registered_kinds() -> None:
    assert set(SERVICE_PROBES) == set(Services.model_fields)
    assert all(kind == probe.kind for kind, probe in SERVICE_PROBES.items())


@pytest.mark.parametrize("kind", list(SERVICE_PROBES))
def test_each_family_of_a_kind_is_documented_and_served(kind: str) -> None:
    probe = SERVICE_PROBES[kind]
    names = [metric.family.name for metric in probe.metrics]
    assert names, f"{kind} fills no metric family"
    assert set(names) <= {f.name for f in metric_names.ALL}, "named outside core.metric_names"
    assert not set(names) - documented(), f"{kind}: not in docs/metrics.md"
    samples = served(kind)
    assert set(samples) == set(names)  # each of its families, and nobody else's
    for metric in probe.metrics:
        assert samples[metric.family.name] == metric.value(SAMPLE)


def test_kinds_fill_distinct_families() -> None:
    names = [m.family.name for probe in SERVICE_PROBES.values() for m in probe.metrics]
    assert len(names) == len(set(names))


def test_every_named_metric_is_documented_and_every_documented_one_named() -> None:
    assert {f.name for f in metric_names.ALL} == documented()
