"""Findings into cases through the one seam, ``dlict.runs``, on a real evidence store: which
failed controls raise a case (``dlict_incidents`` raise_on / always_raise), one case per host
and control, the same evidence in the next run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dlict.controls.model import load_catalog
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.findings import raise_cases
from dlict.incidents.model import CaseSource, Category
from dlict.inventory import load_inventory
from dlict.inventory.models import IncidentSettings, Inventory
from dlict.runs import record_run
from tests.conftest import EXAMPLE_INVENTORY

SITE = "4401010002"
AT = datetime.now(UTC) - timedelta(hours=1)
CATALOG = load_catalog()


def severity(control: str) -> str:
    return CATALOG.by_id[control].severity.value


def fail(control: str, host: str = "s2-srv", evidence: str = "backdoor:x:0:0::/:/bin/sh"
         ) -> Result:
    return Result(SITE, host, Status.FAIL, control=control, evidence=evidence, observed_at=AT)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as opened:
        yield opened


def no_inventory() -> Inventory | None:
    return None


def findings(store: EvidenceStore, case_id: str) -> list[str]:
    return [e.text for e in CaseBook(store).timeline(case_id) if e.kind == "finding"]


def test_a_second_uid_0_account_opens_a_case_by_default_through_the_run_record(
        store: EvidenceStore) -> None:
    results = [fail("ID-04"), Result(SITE, "s2-srv", Status.PASS, control="ID-01"),
               Result(SITE, "s3-srv", Status.UNREACHABLE, control="ID-04", evidence="timeout")]
    run = record_run(store, "audit", results, findings=no_inventory)
    [case] = CaseBook(store).cases()
    assert (case.group_key, case.source, case.category) == (
        "audit:s2-srv:ID-04", CaseSource.AUDIT, Category.INTRUSIONS)
    assert (case.sites, case.hosts) == ((SITE,), ("s2-srv",))
    assert case.title == "ID-04 Only root has UID 0: s2-srv"
    [entry] = findings(store, case.id)
    assert f"audit run {run.id}" in entry and "backdoor:x:0:0" in entry


def test_the_same_finding_again_joins_the_case_and_adds_only_new_evidence(
        store: EvidenceStore) -> None:
    record_run(store, "audit", [fail("ID-04")], findings=no_inventory)
    record_run(store, "audit", [fail("ID-04")], findings=no_inventory)  # tomorrow's audit
    record_run(store, "audit", [fail("ID-04", evidence="backdoor:x:0:0\nevil:x:0:0")],
               findings=no_inventory)
    [case] = CaseBook(store).cases()
    assert len(findings(store, case.id)) == 2


def test_only_chosen_severities_and_kinds_raise(store: EvidenceStore) -> None:
    low = next(c.id for c in CATALOG.controls if c.severity.value in ("low", "medium"))
    critical = next(c.id for c in CATALOG.controls
                    if c.severity.value == "critical" and c.id != "ID-04")
    record_run(store, "audit", [fail(low), fail(critical, host="s9-srv")],
               findings=no_inventory)
    record_run(store, "apply", [fail("ID-04", host="s5-srv")], findings=no_inventory)
    record_run(store, "audit", [fail("ID-04", host="s6-srv")])  # no findings hook: none
    assert [c.group_key for c in CaseBook(store).cases()] == [f"audit:s9-srv:{critical}"]
    assert severity(critical) == "critical"


def test_the_inventorys_settings_decide(store: EvidenceStore) -> None:
    district = load_inventory(EXAMPLE_INVENTORY)
    medium = next(c.id for c in CATALOG.controls if c.severity.value == "medium")
    custom = district.model_copy(update={"incidents": IncidentSettings(
        raise_on={"netscan": ["medium"], "audit": []}, always_raise=["FW-01"])})
    raised = raise_cases(store, "netscan", 1, [fail(medium), fail("ID-04"), fail("FW-01")],
                         lambda: custom)
    assert [r.opened for r in raised] == [True, True]
    keys = {c.group_key for c in CaseBook(store).cases()}
    assert keys == {f"netscan:s2-srv:{medium}", "netscan:s2-srv:FW-01"}  # ID-04 not chosen
    # the host is not in the example inventory: the case names only the site it knows
    assert all(c.hosts == () and c.sites == (SITE,) for c in CaseBook(store).cases())


def test_a_clean_run_never_loads_the_inventory(store: EvidenceStore) -> None:
    def must_not_load() -> Inventory | None:
        raise AssertionError("the inventory was loaded for a clean run")

    record_run(store, "audit", [Result(SITE, "h", Status.PASS, control="ID-04")],
               findings=must_not_load)
    assert CaseBook(store).cases() == []


def test_every_command_recording_through_the_app_context_raises_cases(tmp_path: Path) -> None:
    """The CLI's commands record runs through AppContext.record/recording: that is where the
    findings hook is given, once, for audit, netscan and the rest."""
    from dlict.cli.context import AppContext
    from dlict.core.config import Settings

    actx = AppContext(Settings(inventory=EXAMPLE_INVENTORY, data_dir=tmp_path / "data"))
    site = load_inventory(EXAMPLE_INVENTORY).sites[-1].id
    seen = Result(site, "srv", Status.FAIL, control="ID-04", evidence="x:0:0", observed_at=AT)
    record = actx.record("netscan", [seen])
    with actx.recording("audit") as recorder:
        recorder.finish([Result(site, "srv2", Status.FAIL, control="ID-04", observed_at=AT)])
    with EvidenceStore.open(actx.settings.store_path) as store:
        cases = CaseBook(store).cases()
        assert [c.group_key for c in cases] == ["netscan:srv:ID-04", "audit:srv2:ID-04"]
        assert cases[0].sites == (site,)
        assert f"netscan run {record.id}" in findings(store, cases[0].id)[0]
