"""The incident documents (dlict.incidents.documents): each renders as HTML and prints as an
A4 PDF with its Thai text in an embedded Thai font and B.E. dates, read back with pdffonts and
pdftotext as a person checking the paper would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlict.core.errors import ExitCode
from dlict.incidents.documents import (
    DocumentKind,
    NoPersonalDataError,
    memo_asks,
    render_html,
)
from dlict.reports.pdf import write_pdf
from tests.incident_records import ISSUED, OFFICE, SHA, assert_read_back, case_file
from tests.pdf_support import assert_printed

# The document is dated by the Bangkok day of ISSUED (18:00 UTC on 1 Dec = 01:00 on 2 Dec).
DATE_TH = "2 ธันวาคม พ.ศ. 2569"

# What a person checking each printed Thai document looks for.
EXPECTED_TH: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.MEMO: (
        "บันทึกข้อความ", "ส่วนราชการ", "ที่ ศธ 04999/", f"วันที่ {DATE_TH}",
        "เรื่อง รายงานเหตุภัยคุกคามทางไซเบอร์ INC-2569-0007",
        "เรียน ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษาตัวอย่าง เขต 1",
        "1. เหตุที่เกิดขึ้น", "2. ผลกระทบ", "3. การดำเนินการ", "4. ข้อเสนอเพื่อพิจารณา",
        "(นางสาวสมใจ รักงาน)", "ความเห็น/สั่งการของผู้อำนวยการ", "(นายสมชาย ใจดี)"),
    DocumentKind.NCSA: (
        "สกมช. / ThaiCERT", DATE_TH, "1. หน่วยงานผู้แจ้ง", "203.0.113.9", "ร้ายแรง",
        "การบุกรุกสำเร็จ", "9. ความช่วยเหลือที่ต้องการ"),
    DocumentKind.PDPC: (
        "แบบแจ้งเหตุการละเมิดข้อมูลส่วนบุคคล", DATE_TH, "มาตรา 37 (4)",
        "เลขาธิการคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล", "4. ผลกระทบที่อาจเกิดขึ้น",
        "5. มาตรการที่ดำเนินการแล้ว", "6. ผู้ติดต่อ", "dlict@example.go.th"),
    DocumentKind.TIMELINE: (
        "ลำดับเหตุการณ์ INC-2569-0007", DATE_TH, "1 ธันวาคม 2569 04:30:00 น.",
        "SiteDown firing"),
    DocumentKind.EVIDENCE: (
        "บัญชีหลักฐาน INC-2569-0007", DATE_TH, "access.log", "ล็อกเว็บเซิร์ฟเวอร์"),
}


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_each_document_prints_in_thai_on_a4_with_an_embedded_thai_font(
        kind: DocumentKind, tmp_path: Path) -> None:
    page = render_html(kind, case_file(), OFFICE, "th", issued_at=ISSUED)
    assert '<html lang="th">' in page
    target = tmp_path / f"{kind}.pdf"
    write_pdf(page, target, "th")
    text = assert_printed(target, "INC-2569-0007")  # A4, fonts embedded, a Thai one
    assert_read_back(text, *EXPECTED_TH[kind])
    assert target.stat().st_mode & 0o777 == 0o640
    if kind is DocumentKind.EVIDENCE:
        assert SHA in text  # on a line of its own, unbroken


def test_english_documents_carry_the_same_facts(tmp_path: Path) -> None:
    for kind in DocumentKind:
        page = render_html(kind, case_file(), OFFICE, "en", issued_at=ISSUED)
        assert '<html lang="en">' in page
        assert "INC-2569-0007" in page and "2026-12-02" in page, kind
        assert not re.search("[\u0e00-\u0e7f]", _words_only(page, case_file_values=True)), kind
    memo = tmp_path / "memo-en.pdf"
    write_pdf(render_html(DocumentKind.MEMO, case_file(), OFFICE, "en", issued_at=ISSUED),
              memo, "en")
    assert_printed(memo, "Internal memorandum", "Date 2026-12-02",
                   "To Director, Example Primary Educational Service Area Office 1",
                   "Director's opinion / orders")


def _words_only(page: str, *, case_file_values: bool) -> str:
    """The page's text without the values the case and office carry (those are Thai here
    whatever the language): what is left is the document's own words."""
    record = case_file()
    text = re.sub(r"<[^>]+>", " ", page)
    values = [record.case.title, record.case.description, record.case.reporter,
              OFFICE.director_name, OFFICE.dlict_head_name, OFFICE.address, OFFICE.doc_prefix,
              *(t.title for t in record.tasks), *(o.note for o in record.observables),
              *(e.note for e in record.evidence)]
    for value in values if case_file_values else ():
        text = text.replace(value, "")
    return text


def test_pdpc_draft_is_refused_for_a_case_without_personal_data() -> None:
    with pytest.raises(NoPersonalDataError, match="INC-2569-0007: the case involves no "
                       "personal data") as refused:
        render_html(DocumentKind.PDPC, case_file(personal_data=False), OFFICE, "th",
                    issued_at=ISSUED)
    assert refused.value.exit_code is ExitCode.BAD_INPUT


def test_memo_asks_approval_for_each_report_still_due_and_states_those_sent() -> None:
    asks = memo_asks(case_file(), "th")
    # Ordered by due time: NCSA and the agency at 24 h (the agency already reported), PDPC 72 h.
    assert asks == [
        "อนุมัติให้รายงาน สกมช./ThaiCERT ภายใน 2 ธันวาคม 2569 06:30:00 น.",
        "รายงานหน่วยงานต้นสังกัด (สพฐ.): รายงานแล้วเมื่อ 1 ธันวาคม 2569 09:30:00 น.",
        "อนุมัติให้แจ้งสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล ภายใน 4 ธันวาคม 2569 06:30:00 น.",
    ]
    no_pdpc = memo_asks(case_file(personal_data=False), "en")
    assert not any("PDPC" in ask for ask in no_pdpc)


def test_memo_says_when_it_began_from_the_earliest_timeline_entry() -> None:
    page = render_html(DocumentKind.MEMO, case_file(), OFFICE, "th", issued_at=ISSUED)
    # aware 06:30 Bangkok; the first alert fired two hours earlier.
    assert "ทราบเหตุเมื่อ 1 ธันวาคม 2569 06:30:00 น." in page
    assert "เหตุเริ่มเมื่อ 1 ธันวาคม 2569 04:30:00 น." in page


def test_memo_without_an_office_in_the_inventory_leaves_lines_to_fill_by_hand() -> None:
    from dlict.inventory.models import OfficeSettings

    page = render_html(DocumentKind.MEMO, case_file(), OfficeSettings(), "th", issued_at=ISSUED)
    assert "................/...................." in page  # no registry prefix known
    assert "(............................................)" in page  # signatories unnamed
    assert "เรียน</b> ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา</p>" in page
