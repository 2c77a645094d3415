"""A case record built from the model's own types, for the incident documents' tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dlict.incidents.documents import CaseFile
from dlict.incidents.model import (
    Case,
    CaseSource,
    CaseStatus,
    Category,
    Deadline,
    DeadlineKind,
    EvidenceItem,
    Observable,
    ObservableKind,
    Task,
    TaskState,
    ThreatLevel,
    TimelineEntry,
    TrailEntry,
)
from dlict.inventory.models import OfficeSettings
from tests.pdf_support import as_printed

# 23:30 UTC on 30 Nov 2026 is 06:30 on 1 Dec in Bangkok: the Bangkok day is the one printed.
AWARE = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
ISSUED = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 01:00 on 2 Dec 2026 in Bangkok
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

OFFICE = OfficeSettings(
    name_th="สำนักงานเขตพื้นที่การศึกษาประถมศึกษาตัวอย่าง เขต 1",
    name_en="Example Primary Educational Service Area Office 1",
    short_th="สพป.ตัวอย่าง เขต 1", doc_prefix="ศธ 04999", phone="0 4399 9999",
    email="dlict@example.go.th", address="ถนนตัวอย่าง อำเภอเมือง",
    director_name="นายสมชาย ใจดี", dlict_head_name="นางสาวสมใจ รักงาน")


def case_file(*, personal_data: bool = True, title: str = "เว็บไซต์โรงเรียนถูกแก้ไขหน้าแรก",
              observable: str = "203.0.113.9", description: str = "หน้าแรกของเว็บไซต์ถูกเปลี่ยน",
              who: str = "somjai") -> CaseFile:
    case = Case(
        id="INC-2569-0007", title=title, description=description, reporter="ครูสมศรี",
        owner=who, status=CaseStatus.CONTAINED, category=Category.INTRUSIONS,
        threat_level=ThreatLevel.SERIOUS, personal_data=personal_data,
        source=CaseSource.ALERTMANAGER, group_key="{}:{alertname=\"SiteDown\"}",
        sites=("4401010001",), hosts=("web-4401010001",), aware_at=AWARE,
        opened_at=AWARE + timedelta(minutes=5), updated_at=ISSUED)
    tasks = (
        Task(case.id, 1, "ตัดเครื่องออกจากเครือข่าย", TaskState.DONE, who, AWARE, AWARE),
        Task(case.id, 2, "กู้คืนเว็บไซต์จากข้อมูลสำรอง", TaskState.DOING, who, AWARE, AWARE),
    )
    observables = (Observable(case.id, ObservableKind.IP, observable, "ต้นทางการโจมตี", who,
                              AWARE),)
    timeline = (
        TimelineEntry(case.id, AWARE - timedelta(hours=2), "alertmanager", "alert-firing",
                      "SiteDown firing"),
        TimelineEntry(case.id, AWARE + timedelta(hours=1), who, "status", "contained"),
    )
    evidence = (EvidenceItem(1, case.id, "access.log", SHA, 1234, "copy",
                             "incidents/INC-2569-0007/evidence/access.log", who,
                             AWARE + timedelta(hours=2), "ล็อกเว็บเซิร์ฟเวอร์"),)
    deadlines = [Deadline(case.id, DeadlineKind.NCSA, AWARE + timedelta(hours=24),
                          "NCSC notification B.E. 2566: serious, 24 h"),
                 Deadline(case.id, DeadlineKind.AGENCY, AWARE + timedelta(hours=24),
                          "office policy: serious, 24 h", met_at=AWARE + timedelta(hours=3))]
    if personal_data:
        deadlines.append(Deadline(case.id, DeadlineKind.PDPC, AWARE + timedelta(hours=72),
                                  "PDPA s.37(4): 72 h from awareness"))
    trail = (TrailEntry(1, case.id, case.opened_at, who, "open", {}, {"title": title}),)
    return CaseFile(case, tasks, observables, timeline, evidence, tuple(deadlines), trail)


def folded(text: str) -> str:
    """Text as the PDF gives it back (tests/pdf_support.as_printed), spaces aside: a table
    cell may break a Thai line anywhere."""
    return re.sub(r"\s+", "", as_printed(text))


def assert_read_back(text: str, *wanted: str) -> None:
    for value in wanted:
        assert folded(value) in folded(text), f"{value!r} not in the PDF's text"
