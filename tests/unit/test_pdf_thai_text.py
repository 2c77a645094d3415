"""The text a PDF gives back is the Thai that was printed, SARA AA and SARA AM alike.

The Thai shaper draws ำ as NIKHAHIT + SARA AA; WeasyPrint alone maps the shared SARA AA glyph
to whichever of ำ/า it met first, so "นารี" printed after "สำนักงาน" read back as "นำรี", and
"ประจำ" after "รายงาน" as "ประจา"."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from dlict.reports import pdf
from dlict.reports.env import report_environment
from tests.pdf_support import assert_printed


def _page(first: str, then: str) -> str:
    template = report_environment("th").from_string(
        '{% extends "document.html.j2" %}{% block title %}ทดสอบ{% endblock %}'
        '{% block body %}<h1>{{ first }}</h1><p>{{ first }}</p><p>{{ then }}</p>'
        '<h2>{{ then }}</h2>{% endblock %}')
    return template.render(first=first, then=then, office_name="")


def test_sara_aa_after_sara_am_and_the_other_way(tmp_path: Path) -> None:
    for first, then in (("สำนักงานเขตพื้นที่ อำเภอนาเชือก", "โรงเรียนผดุงนารี รายงาน"),
                        ("รายงานสถิติ โรงเรียนผดุงนารี", "ประจำเดือน อำเภอเมือง")):
        target = tmp_path / "t.pdf"
        pdf.write_pdf(_page(first, then), target, "th")
        text = unicodedata.normalize("NFKC", assert_printed(target))
        for words in (first, then):
            assert unicodedata.normalize("NFKC", words) in text, (words, text)
        # Words without SARA AM come back exactly, not merely equal under NFKC.
        assert "โรงเรียนผดุงนารี" in assert_printed(target)
