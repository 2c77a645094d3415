"""A case exported (dlict.incidents.export): every field in dlict's own JSON, and the bodies
of the DFIR-IRIS v2.4 calls that rebuild it, checked against the fields IRIS's own schemas
require (iris-web v2.4.20, source/app/schema/marshables.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from dlict.incidents.export import case_json, iris_import
from dlict.incidents.model import Case
from tests.incident_records import SHA, case_file

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_case_json_holds_every_field_of_every_part() -> None:
    record = case_file()
    data = json.loads(json.dumps(case_json(record, exported_at=NOW), ensure_ascii=False))
    assert set(data["case"]) == {f.name for f in dataclasses.fields(Case)} | {"open"}
    assert data["case"]["id"] == "INC-2569-0007"
    assert data["case"]["aware_at"] == "2026-11-30T23:30:00.000000+00:00"
    assert data["case"]["status"] == "contained" and data["case"]["sites"] == ["4401010001"]
    for part, items in (("tasks", record.tasks), ("observables", record.observables),
                        ("timeline", record.timeline), ("evidence", record.evidence),
                        ("deadlines", record.deadlines), ("trail", record.trail)):
        assert len(data[part]) == len(items), part
        assert set(data[part][0]) == {f.name for f in dataclasses.fields(items[0])}, part
    assert data["evidence"][0]["sha256"] == SHA
    assert data["deadlines"][1]["met_at"] == "2026-12-01T02:30:00.000000+00:00"
    assert data["trail"][0]["after"] == {"title": record.case.title}


def test_iris_bodies_carry_the_fields_iris_requires() -> None:
    data = iris_import(case_file(), exported_at=NOW)
    assert data["target"]["iris"].startswith("v2.4")
    case = data["case"]
    # CaseSchema: case_name, case_description (2+ chars), case_soc_id, case_customer.
    assert case["case_soc_id"] == "INC-2569-0007" and case["case_customer"] == 1
    assert case["case_name"].startswith("INC-2569-0007 ") and len(case["case_description"]) > 2
    assert case["dlict_classification_name"] == "intrusion:application-compromise"
    # CaseAssetsSchema: asset_name, asset_type_id (int).
    assert [(a["asset_name"], a["asset_type_id"]) for a in data["assets"]] == \
        [("web-4401010001", 3)]
    # IocSchema: ioc_value, ioc_type_id, ioc_tlp_id.
    assert data["iocs"] == [{
        "ioc_value": "203.0.113.9", "ioc_type_id": 76, "dlict_ioc_type_name": "ip-any",
        "ioc_tlp_id": 2, "dlict_tlp_name": "amber", "ioc_description": "ต้นทางการโจมตี",
        "ioc_tags": "dlict,ip"}]
    # CaseTaskSchema: task_title (2+ chars), task_status_id.
    assert [(t["task_status_id"], t["dlict_task_status_name"]) for t in data["tasks"]] == \
        [(4, "Done"), (2, "In progress")]
    # CaseEvidenceSchema: filename (2+ chars); the hash and size as IRIS stores them.
    assert data["evidences"][0]["filename"] == "access.log"
    assert data["evidences"][0]["file_hash"] == SHA and data["evidences"][0]["file_size"] == 1234
    # EventSchema: event_title, event_date (%Y-%m-%dT%H:%M:%S.%f), event_tz,
    # event_category_id, event_assets, event_iocs — in time order.
    first = data["events"][0]
    assert first["event_date"] == "2026-11-30T21:30:00.000000" and first["event_tz"] == "+00:00"
    for event in data["events"]:
        assert {"event_title", "event_date", "event_tz", "event_category_id", "event_assets",
                "event_iocs"} <= set(event)
        assert len(event["event_title"]) >= 2
        datetime.strptime(event["event_date"], "%Y-%m-%dT%H:%M:%S.%f")


def test_iris_hash_observables_are_typed_by_length() -> None:
    from dataclasses import replace

    from dlict.incidents.model import ObservableKind
    record = case_file()
    hashes = [replace(record.observables[0], kind=ObservableKind.HASH, value=value)
              for value in ("a" * 32, "b" * 40, SHA, "c" * 128, "d" * 10)]
    kinds = [i["dlict_ioc_type_name"]
             for i in iris_import(replace(record, observables=hashes), exported_at=NOW)["iocs"]]
    assert kinds == ["md5", "sha1", "sha256", "sha512", "other"]
