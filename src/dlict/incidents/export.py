"""A case leaves dlict whole: as its own JSON, or as DFIR-IRIS request bodies a CSIRT replays.

``case_json`` is every field of the record (the case, tasks, observables, timeline, evidence,
deadlines and the audit trail) as ``dlict incident show --json`` gives them, times in ISO 8601
UTC: what another dlict, a script or an archive reads.

``iris_import`` targets DFIR-IRIS v2.4 (API 2.0.4–2.0.5, checked against the v2.4.20
source). IRIS has no endpoint that takes a whole case at once, so the export is the bodies of
the calls that build one, in the order they must be made: ``POST /manage/cases/add``, then for
the new case id ``cid`` ``POST /case/assets/add?cid=``, ``/case/ioc/add``, ``/case/tasks/add``,
``/case/evidences/add`` and ``/case/timeline/events/add``. Type fields hold the ids a fresh
IRIS install gives its seeded lists (IOC types, asset types, TLP, task statuses, event
categories, case classifications); each body also carries the seeded *name* under a
``dlict_`` key, which IRIS ignores (its schemas exclude unknown fields) and a loader uses to
look the id up on an instance whose lists were edited.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from dlict import __version__
from dlict.incidents.cases import as_record
from dlict.incidents.documents import CaseFile
from dlict.incidents.model import (
    Case,
    Category,
    EvidenceItem,
    Observable,
    ObservableKind,
    Task,
    TaskState,
    TimelineEntry,
)

CASE_FORMAT = "dlict-incident-case/1"
IRIS_FORMAT = "dlict-dfir-iris-import/1"
IRIS_TARGET = {"iris": "v2.4 (checked against v2.4.20)", "api": "2.0.4-2.0.5"}

IRIS_ENDPOINTS = {
    "case": "POST /manage/cases/add",
    "assets": "POST /case/assets/add?cid={cid}",
    "iocs": "POST /case/ioc/add?cid={cid}",
    "tasks": "POST /case/tasks/add?cid={cid}",
    "evidences": "POST /case/evidences/add?cid={cid}",
    "events": "POST /case/timeline/events/add?cid={cid}",
}

# The seeded lists of a fresh IRIS v2.4 install: name → id (ids follow the seed order).
_IOC_TYPES = {"account": 3, "domain": 20, "ip-any": 76, "mac-address": 86, "md5": 90,
              "sha1": 111, "sha256": 113, "sha512": 119, "url": 141, "other": 96}
_ASSET_TYPES = {"Linux - Server": 3, "Router": 12}
_TLP = {"amber": 2}
_TASK_STATUS = {"To do": 1, "In progress": 2, "Done": 4, "Canceled": 5}
_EVENT_CATEGORY = {"Unspecified": 1, "Remediation": 3, "Initial Access": 4}
_EVIDENCE_TYPE = {"Unspecified": 1}
# MISP's classification taxonomy as IRIS seeds it: one entry per ThaiCERT/eCSIRT category.
_CLASSIFICATION = {
    Category.ABUSIVE_CONTENT: ("abusive-content:spam", 1),
    Category.MALICIOUS_CODE: ("malicious-code:trojan-malware", 7),
    Category.INFORMATION_GATHERING: ("information-gathering:scanner", 11),
    Category.INTRUSION_ATTEMPTS: ("intrusion-attempts:login-attempts", 15),
    Category.INTRUSIONS: ("intrusion:application-compromise", 21),
    Category.AVAILABILITY: ("availability:outage", 25),
    Category.INFORMATION_SECURITY: (
        "information-content-security:Unauthorised-information-access", 26),
    Category.FRAUD: ("fraud:phishing", 30),
    Category.OTHER: ("other:other", 36),
}
_TASK_STATUS_OF = {TaskState.OPEN: "To do", TaskState.DOING: "In progress",
                   TaskState.DONE: "Done", TaskState.CANCELLED: "Canceled"}
_IRIS_TIME = "%Y-%m-%dT%H:%M:%S.%f"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def case_json(record: CaseFile, *, exported_at: datetime) -> dict[str, Any]:
    """Every field dlict holds about the case."""
    case = as_record(record.case)
    case["open"] = record.case.status.is_open
    return {
        "format": CASE_FORMAT, "exported_at": _utc(exported_at),
        "exported_by": f"dlict {__version__}",
        "case": case,
        "tasks": [as_record(t) for t in record.tasks],
        "observables": [as_record(o) for o in record.observables],
        "timeline": [as_record(e) for e in record.timeline],
        "evidence": [as_record(e) for e in record.evidence],
        "deadlines": [as_record(d) for d in record.deadlines],
        "trail": [as_record(t) for t in record.trail],
    }


def _ioc_type(observable: Observable) -> str:
    if observable.kind is ObservableKind.HASH:
        return {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}.get(
            len(observable.value), "other")
    return {ObservableKind.IP: "ip-any", ObservableKind.DOMAIN: "domain",
            ObservableKind.URL: "url", ObservableKind.ACCOUNT: "account",
            ObservableKind.MAC: "mac-address"}[observable.kind]


def _iris_case(case: Case, customer_id: int) -> dict[str, Any]:
    classification, classification_id = _CLASSIFICATION[case.category]
    summary = "\n\n".join(part for part in (
        case.description,
        f"dlict case {case.id}; status {case.status.value}; threat level "
        f"{case.threat_level.value}; personal data: {'yes' if case.personal_data else 'no'}; "
        f"aware at {_utc(case.aware_at)}; reporter: {case.reporter or '-'}; "
        f"owner: {case.owner or '-'}") if part)
    return {
        "case_name": f"{case.id} {case.title}", "case_description": summary,
        "case_soc_id": case.id, "case_customer": customer_id,
        "classification_id": classification_id, "dlict_classification_name": classification,
        "case_tags": ",".join(("dlict", case.category.value, case.threat_level.value)),
    }


# A host name is not enough to tell a server from a router: an IRIS analyst retypes it if
# needed; the name says what dlict calls it.
def _iris_asset(host: str, case: Case) -> dict[str, Any]:
    kind = "Linux - Server"
    return {"asset_name": host, "asset_type_id": _ASSET_TYPES[kind],
            "dlict_asset_type_name": kind, "asset_description":
            f"host in dlict case {case.id}; sites: {', '.join(case.sites) or '-'}",
            "asset_tags": "dlict", "analysis_status_id": None}


def _iris_ioc(observable: Observable) -> dict[str, Any]:
    kind = _ioc_type(observable)
    return {"ioc_value": observable.value, "ioc_type_id": _IOC_TYPES[kind],
            "dlict_ioc_type_name": kind, "ioc_tlp_id": _TLP["amber"], "dlict_tlp_name": "amber",
            "ioc_description": observable.note or f"added by {observable.added_by} at "
                                                  f"{_utc(observable.added_at)}",
            "ioc_tags": f"dlict,{observable.kind.value}"}


def _iris_task(task: Task) -> dict[str, Any]:
    status = _TASK_STATUS_OF[task.state]
    return {"task_title": task.title, "task_status_id": _TASK_STATUS[status],
            "dlict_task_status_name": status, "task_assignees_id": [],
            "task_description": f"owner: {task.owner or '-'}", "task_tags": "dlict"}


def _iris_evidence(item: EvidenceItem) -> dict[str, Any]:
    return {"filename": item.name, "file_hash": item.sha256, "file_size": item.size,
            "type_id": _EVIDENCE_TYPE["Unspecified"], "dlict_type_name": "Unspecified",
            "file_description": "; ".join(part for part in (
                item.note, f"{item.stored} at {item.location}",
                f"added by {item.added_by} at {_utc(item.added_at)}",
                f"manifest entry {item.seq}") if part)}


def _iris_event(entry: TimelineEntry) -> dict[str, Any]:
    category = "Remediation" if entry.kind == "status" else "Unspecified"
    at = entry.at.astimezone(UTC)
    return {"event_title": _event_title(entry), "event_content": entry.text,
            "event_raw": "", "event_source": f"dlict:{entry.kind} by {entry.who}",
            "event_date": at.strftime(_IRIS_TIME), "event_tz": "+00:00",
            "event_category_id": _EVENT_CATEGORY[category],
            "dlict_event_category_name": category, "event_assets": [], "event_iocs": [],
            "event_tags": f"dlict,{entry.kind}", "event_in_summary": False,
            "event_in_graph": True}


def _event_title(entry: TimelineEntry) -> str:
    """IRIS wants a title of two characters at least: the first line of the text, short."""
    first = re.split(r"[\r\n]", entry.text.strip(), maxsplit=1)[0][:120]
    return first if len(first) >= 2 else f"{entry.kind}: {first}".strip()


def iris_import(record: CaseFile, *, exported_at: datetime,
                customer_id: int = 1) -> dict[str, Any]:
    """The case as the DFIR-IRIS calls that rebuild it (see the module docstring).

    Arguments:
        customer_id: the IRIS customer the case belongs to (1: the customer IRIS creates).
    """
    case = record.case
    return {
        "format": IRIS_FORMAT, "exported_at": _utc(exported_at),
        "exported_by": f"dlict {__version__}", "target": IRIS_TARGET,
        "endpoints": IRIS_ENDPOINTS,
        "case": _iris_case(case, customer_id),
        "assets": [_iris_asset(host, case) for host in case.hosts],
        "iocs": [_iris_ioc(o) for o in record.observables],
        "tasks": [_iris_task(t) for t in record.tasks],
        "evidences": [_iris_evidence(e) for e in record.evidence],
        "events": [_iris_event(e) for e in sorted(record.timeline, key=lambda e: e.at)],
    }
