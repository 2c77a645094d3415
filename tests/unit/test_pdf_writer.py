"""The one PDF path (dlict.reports.pdf): A4, Thai font embedded, page numbers, whole or not
at all, and a report value can never make the printer read a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlict.core.errors import OperationalError
from dlict.reports import pdf
from dlict.reports.env import report_environment
from tests.pdf_support import as_printed, assert_printed, pdf_pages


def _page(rows: int, extra: str = "") -> str:
    env = report_environment("th")
    template = env.from_string(
        '{% extends "document.html.j2" %}{% block title %}ทดสอบ{% endblock %}'
        '{% block body %}<h1>รายงาน {{ day | long_date }}</h1><table><thead><tr><th>โรงเรียน</th>'
        '</tr></thead><tbody>{% for i in range(rows) %}<tr><td>โรงเรียนบ้านหนองบัว {{ i }}</td>'
        '</tr>{% endfor %}</tbody></table>{{ extra }}{% endblock %}')
    from datetime import date
    return template.render(rows=rows, day=date(2026, 12, 2), extra=extra, office_name="สพป.")


def test_a4_thai_font_embedded_and_page_numbers(tmp_path: Path) -> None:
    target = tmp_path / "r.pdf"
    pdf.write_pdf(_page(120), target, "th")
    text = assert_printed(target, "รายงาน 2 ธันวาคม พ.ศ. 2569", "โรงเรียนบ้านหนองบัว 119")
    pages, _ = pdf_pages(target)
    assert pages >= 3
    # pdftotext spaces the footer's glyphs apart on some pages: compare without spaces.
    assert f"หน้า{pages}/{pages}" in text.replace(" ", "")
    # The table header is printed again on every page.
    assert text.count("โรงเรียน โรงเรียนบ้านหนองบัว") >= pages
    assert target.stat().st_mode & 0o777 == 0o640


def test_thai_text_reads_back_whole_sara_am_and_sara_aa_alike(tmp_path: Path) -> None:
    """The shaper draws ำ with the glyph of า: neither may read back as the other."""
    target = tmp_path / "r.pdf"
    words = ("ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา นายสมชาย ทำงาน นาน เข้าใจ ที่ผ่านมา กุ้ง "
             "ปู่ น้ำ ไม่ได้ ผู้ดูแล ป่า ฝ้าย ญี่ปุ่น ฐาน ฎีกา ธันวาคม")
    page = f"<html><body><p>{words}</p><p><b>{words}</b></p></body></html>"
    pdf.write_pdf(page, target, "th")
    text = assert_printed(target, words)
    # Regular and bold; pdftotext may see a gap after a bold tone mark: spaces aside.
    assert text.replace(" ", "").count(as_printed(words).replace(" ", "")) == 2, text
    assert "สานักงาน" not in text and "นำย" not in text


def test_a_value_cannot_make_the_printer_read_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET-42</text></svg>')
    env = report_environment("en")
    hostile = env.from_string('<img src="{{ src }}"><link rel="stylesheet" href="{{ src }}">'
                              ).render(src=secret.as_uri())
    target = tmp_path / "r.pdf"
    pdf.write_pdf(f"<html><body><p>x</p>{hostile}</body></html>", target, "en")
    assert "SECRET-42" not in target.read_bytes().decode("latin-1")


def test_failure_leaves_no_file_and_keeps_the_old_one(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old")

    def broken(*args: object, **kwargs: object) -> bytes:
        raise OperationalError("no Thai font is installed")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    with pytest.raises(OperationalError):
        pdf.write_pdf(_page(1), target, "th")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def _word_boxes(path: Path) -> list[tuple[str, float, float]]:
    import re
    import subprocess

    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    return [(m.group(3), float(m.group(1)), float(m.group(2))) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
        html)]


def test_a_report_naming_th_sarabun_prints_like_one_naming_the_font_used(
        tmp_path: Path) -> None:
    """fontconfig answers "TH Sarabun" with a Laksaman shrunk by a matrix the embedded font
    does not carry: letters overlapped in every report. The printer sets the font it found."""
    body = "<p>รายงานผลการดำเนินงาน SOP 5.5.1 WWWWWWWWWW ไฟร์วอลล์ 2/3 66.7</p>"
    pages = {}
    for name, family in (("sarabun", '"TH Sarabun New", "Laksaman", sans-serif'),
                         ("plain", '"Laksaman"')):
        target = tmp_path / f"{name}.pdf"
        pdf.write_pdf(f"<html><head><style>body {{ font-family: {family}; font-size: 16pt }}"
                      f"</style></head><body>{body}</body></html>", target, "th")
        pages[name] = _word_boxes(target)
    assert pages["sarabun"] == pages["plain"]
    # 16 pt asked for TH Sarabun: Laksaman is set at the size fontconfig's rule gives it.
    width = next(x1 - x0 for word, x0, x1 in pages["plain"] if word == "WWWWWWWWWW")
    scale = pdf.size_scale(pdf.thai_font_family())
    assert 6.0 * 16 * scale < width < 12.0 * 16 * scale, width


def test_font_sizes_are_scaled_in_style_sheets_only() -> None:
    page = ("<style>body { font-size: 16pt } .mono { font-size: 10pt }</style>"
            "<p>font-size: 16pt</p>")
    scaled = pdf.scale_font_sizes(page, 0.5)
    assert "body { font-size: 8.0pt }" in scaled and ".mono { font-size: 10pt }" in scaled
    assert "<p>font-size: 16pt</p>" in scaled
    assert pdf.scale_font_sizes(page, 1.0) == page
