"""``dlict incident report|export`` on a case made through the CLI: every document written as
HTML and an A4 PDF with its Thai text in an embedded Thai font, dated today in B.E.; the
refusals (a PDPC draft without personal data, an unknown case, an unknown kind) exit 2 and
write nothing; the exports hold what was recorded."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from dlict.core.clock import BANGKOK, utc_now
from dlict.i18n import date_text
from dlict.incidents.documents import DocumentKind
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.incident_records import assert_read_back
from tests.pdf_support import assert_printed

pytestmark = pytest.mark.integration  # ansible-inventory reads the example district

INVENTORY = str(EXAMPLE_INVENTORY)
TITLE = "บัญชีผู้ดูแลระบบถูกใช้โดยไม่ได้รับอนุญาต"


EVIDENCE = b"203.0.113.9 - - [01/Dec/2026:04:30:00 +0700] \"POST /login HTTP/1.1\" 200\n"
EVIDENCE_SHA = hashlib.sha256(EVIDENCE).hexdigest()


def _open_case(cli: CliRunner, *, personal_data: bool) -> str:
    extra = ["--personal-data"] if personal_data else []
    opened = cli("--json", "-i", INVENTORY, "incident", "open", "--title", TITLE,
                 "--description", "พบการเข้าระบบทะเบียนนักเรียนจากที่อยู่ไม่รู้จัก",
                 "--site", "4401010001", "--threat-level", "serious", "--category",
                 "intrusions", "--aware-at", "2026-12-01T06:30", *extra)
    assert opened.code == 0, opened.stderr
    case_id: str = json.loads(opened.stdout)["id"]
    for args in (("task", case_id, "ระงับบัญชีและเปลี่ยนรหัสผ่าน"),
                 ("note", case_id, "เข้าระบบครั้งแรกจากต่างประเทศ", "--at", "2026-12-01T04:30"),
                 ("observable", case_id, "ip", "203.0.113.9", "--note", "ต้นทางการเข้าระบบ")):
        done = cli("-i", INVENTORY, "incident", *args)
        assert done.code == 0, done.stderr
    return case_id


def _today_th() -> set[str]:
    """Today in Bangkok as the documents date it (either side of a midnight in the test)."""
    now = utc_now()
    return {date_text((moment.astimezone(BANGKOK)).date(), "th", era=True)
            for moment in (now, now + timedelta(minutes=5))}


# What a person checking each printed document of the case looks for.
WANTED = {
    DocumentKind.MEMO: ("บันทึกข้อความ", "ที่ ศธ 04999/", TITLE, "(นายสมชาย ใจดี)",
                        "(นางสาวสมใจ รักงาน)", "ระงับบัญชีและเปลี่ยนรหัสผ่าน"),
    DocumentKind.NCSA: ("203.0.113.9", "ร้ายแรง", "4401010001"),
    DocumentKind.PDPC: ("มาตรา 37 (4)", TITLE),
    # the time's "น." may wrap into the next column's line
    DocumentKind.TIMELINE: ("1 ธันวาคม 2569 04:30:00", "เข้าระบบครั้งแรกจากต่างประเทศ"),
    DocumentKind.EVIDENCE: ("access.log", "ล็อกเว็บจากเครื่องแม่ข่าย"),
}


def test_every_document_of_a_recorded_case_prints_and_the_exports_hold_it(
        cli: CliRunner, tmp_path: Path) -> None:
    """One case (opening one costs a few inventory loads): each document, then the exports."""
    case_id = _open_case(cli, personal_data=True)
    log = tmp_path / "access.log"
    log.write_bytes(EVIDENCE)
    added = cli("incident", "evidence", "add", case_id, str(log), "--note",
                "ล็อกเว็บจากเครื่องแม่ข่าย")
    assert added.code == 0, added.stderr
    for kind in DocumentKind:
        _document_prints(cli, tmp_path, case_id, kind)
    _exports_hold_it(cli, tmp_path, case_id)


def _document_prints(cli: CliRunner, tmp_path: Path, case_id: str, kind: DocumentKind) -> None:
    html, pdf = tmp_path / f"{kind}.html", tmp_path / f"{kind}.pdf"
    result = cli("-i", INVENTORY, "incident", "report", case_id, "--kind", kind.value,
                 "--html", str(html), "--pdf", str(pdf))
    assert result.code == 0, result.stderr
    for target in (html, pdf):
        assert target.stat().st_mode & 0o777 == 0o640
    page = html.read_text(encoding="utf-8")
    assert case_id in page and any(day in page for day in _today_th())
    text = assert_printed(pdf, case_id)
    assert any(day.replace(" ", "") in text.replace(" ", "").replace("ำ", "า")
               for day in _today_th()), "no B.E. date of today in the PDF"
    assert_read_back(text, *WANTED[kind])
    if kind is DocumentKind.EVIDENCE:
        assert EVIDENCE_SHA in page
        assert EVIDENCE_SHA in text  # on a line of its own, unbroken


def test_refusals_exit_2_and_write_nothing_and_the_english_memo(
        cli: CliRunner, tmp_path: Path) -> None:
    case_id = _open_case(cli, personal_data=False)
    _refusals(cli, tmp_path / "refused", case_id)
    pdf = tmp_path / "memo.pdf"
    result = cli("--lang", "en", "-i", INVENTORY, "incident", "report", case_id, "--pdf", str(pdf))
    assert result.code == 0, result.stderr
    assert_printed(pdf, "Internal memorandum", f"Subject Cyber-security incident report {case_id}",
                   "What is asked", f"Date {utc_now().astimezone(BANGKOK).date().isoformat()}")


def _refusals(cli: CliRunner, folder: Path, case_id: str) -> None:
    folder.mkdir()
    html, pdf = folder / "x.html", folder / "x.pdf"
    for args, says in (
            (("report", case_id, "--kind", "pdpc"), f"{case_id}: the case involves no personal"),
            (("report", "INC-2569-0999", "--kind", "memo"), "INC-2569-0999"),
            (("report", case_id, "--kind", "letter"), "--kind 'letter': not one of memo"),
            (("export", "INC-2569-0999", "--format", "iris"), "INC-2569-0999"),
            (("export", case_id, "--format", "xml"), "--format 'xml': not one of json, iris")):
        output = ("--html", str(html), "--pdf", str(pdf)) if args[0] == "report" else \
            ("-o", str(html))
        result = cli("-i", INVENTORY, "incident", *args, *output)
        assert result.code == 2, (args, result.stderr)
        assert says in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert not html.exists() and not pdf.exists()
    assert list(folder.iterdir()) == []


def _exports_hold_it(cli: CliRunner, tmp_path: Path, case_id: str) -> None:
    target = tmp_path / "case.json"
    written = cli("-i", INVENTORY, "incident", "export", case_id, "-o", str(target))
    assert written.code == 0, written.stderr
    assert target.stat().st_mode & 0o777 == 0o640
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["case"]["id"] == case_id and data["case"]["personal_data"] is True
    assert [t["title"] for t in data["tasks"]] == ["ระงับบัญชีและเปลี่ยนรหัสผ่าน"]
    assert [o["value"] for o in data["observables"]] == ["203.0.113.9"]
    assert "เข้าระบบครั้งแรกจากต่างประเทศ" in [e["text"] for e in data["timeline"]]
    assert {d["kind"] for d in data["deadlines"]} == {"agency", "ncsa", "pdpc"}
    assert data["trail"][0]["action"] == "open" and len(data["trail"]) >= 4
    assert [(e["name"], e["sha256"], e["size"]) for e in data["evidence"]] == \
        [("access.log", EVIDENCE_SHA, len(EVIDENCE))]
    iris = cli("-i", INVENTORY, "incident", "export", case_id, "--format", "iris")
    assert iris.code == 0, iris.stderr
    bodies = json.loads(iris.stdout)
    assert bodies["case"]["case_soc_id"] == case_id
    assert [i["ioc_value"] for i in bodies["iocs"]] == ["203.0.113.9"]
    assert bodies["events"][0]["event_date"] == "2026-11-30T21:30:00.000000"
    assert [e["file_hash"] for e in bodies["evidences"]] == [EVIDENCE_SHA]
