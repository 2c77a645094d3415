"""The DLTV equipment survey as the office sends it: CSV for Excel and a page to sign.

The columns follow OBEC's yearly form "แบบสำรวจข้อมูลความต้องการทดแทน/ซ่อมบำรุงอุปกรณ์รับ
สัญญาณดาวเทียม" as we understand it (we have no copy of the official form): ที่, รหัสโรงเรียน,
ชื่อโรงเรียน, อำเภอ, จังหวัด, อุปกรณ์ที่มีปัญหา, ความต้องการ, สภาพปัญหา, ผู้ประสานงาน, โทรศัพท์,
หมายเหตุ.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from dlict import __version__
from dlict.core.clock import BANGKOK, format_local
from dlict.i18n import date_text, lookup, text
from dlict.inventory.models import OfficeSettings
from dlict.reports.dltv_survey import (
    MAX_UNLOCKED_SHARE,
    MIN_READABLE_SHARE,
    SCHOOL_END,
    SCHOOL_START,
    SIGNAL_PRESENT_RATIO,
    SNR_DEAD_DB,
    Entry,
    Figures,
    Problem,
    Survey,
    Unchecked,
    Verdict,
)
from dlict.reports.document import document_fields, named_office
from dlict.reports.env import report_environment

BOM = "\ufeff"

# The form's columns, in the order of OBEC's form (see the module docstring).
COLUMN_KEYS = ("number", "code", "name", "amphoe", "province", "equipment", "need", "evidence",
               "contact", "phone", "remarks")


def columns(lang: str) -> list[str]:
    """The form's header row in ``lang``."""
    return [text(f"survey.col.{key}", lang) for key in COLUMN_KEYS]


def _share(share: float, lang: str) -> str:
    return text("survey.share", lang, percent=f"{share * 100:.0f}")


def rules(lang: str) -> list[str]:
    """The rules as stated in the report, from the thresholds the analysis uses."""
    figures = {
        "hours": f"{SCHOOL_START:%H:%M}–{SCHOOL_END:%H:%M}",
        "readable": _share(MIN_READABLE_SHARE, lang),
        "unlocked": _share(MAX_UNLOCKED_SHARE, lang),
        "present": f"{SIGNAL_PRESENT_RATIO:.0%}",
        "dead": f"{SNR_DEAD_DB:.0f}",
    }
    return [text(f"survey.rule.{rule}", lang, **figures)
            for rule in ("hours", "readable", "lnb", "no_lock", "receiver", "weak",
                         "online_stream", "order")]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _db(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} dB"


def _hours(figures: Figures, samples: int) -> str:
    return f"{figures.hours(samples):.0f}"


def evidence(verdict: Verdict, lang: str) -> str:
    """สภาพปัญหา: what was seen, in words and figures."""
    f = verdict.figures
    problem = verdict.problem
    if problem is None:
        return ""
    no_report = text("survey.not_reported", lang)
    unlocked = text("survey.unlocked_hours", lang, share=_pct(f.unlocked_share),
                    hours=_hours(f, f.unlocked_samples), of=_hours(f, f.lock_known))
    return text(
        f"survey.evidence.{problem.value}", lang, unlocked=unlocked,
        signal=no_report if f.unlocked_signal_median is None else _pct(f.unlocked_signal_median),
        snr=(_db(f.locked_snr_median) if problem is Problem.WEAK_SIGNAL
             else no_report if f.unlocked_snr_median is None else _db(f.unlocked_snr_median)),
        threshold=_db(f.snr_min_db), locked=_pct(f.locked_share),
        below=_pct(f.locked_below_share))


def unchecked_reason(entry: Entry, lang: str) -> str:
    """Why a school could not be judged (or had no data), with the figures."""
    verdict = entry.verdict
    if verdict is None:
        return text("survey.no_data_reason", lang)
    if verdict.unchecked is None:
        return ""
    f = verdict.figures
    unreadable = verdict.unchecked is Unchecked.UNREADABLE
    return text(f"survey.unchecked.{verdict.unchecked.value}", lang,
                share=_pct(f.readable_share if unreadable else f.locked_share),
                hours=_hours(f, f.readable_samples), of=_hours(f, f.school_samples))


def _source(entry: Entry, lang: str) -> str:
    """What measured the school, in words; an unknown source as its name."""
    return lookup(f"survey.source.{entry.school.source}", lang) or entry.school.source


def _equipment(problem: Problem, lang: str) -> str:
    return ", ".join(text(f"survey.equipment.{e.value}", lang) for e in problem.equipment)


def remarks(entry: Entry, lang: str) -> str:
    """หมายเหตุ: what to do, and what measured it."""
    return text("survey.remarks", lang, action=text(f"survey.action.{entry.problem.value}", lang),
                source=_source(entry, lang))


def form_rows(survey: Survey, lang: str) -> list[list[str]]:
    """The survey form's rows (header not included), one per school needing work."""
    rows = []
    for number, entry in enumerate(survey.findings, start=1):
        problem = entry.problem
        assert entry.verdict is not None  # noqa: S101 - a finding always has a verdict
        rows.append([
            str(number), entry.school.code, entry.school.name(lang), entry.school.amphoe,
            entry.school.province,
            _equipment(problem, lang),
            text(f"survey.need.{problem.need.value}", lang), evidence(entry.verdict, lang),
            entry.school.contact, entry.school.phone, remarks(entry, lang),
        ])
    return rows


def _cell(text: str) -> str:
    """A cell Excel shows as text, never runs as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(survey: Survey, lang: str) -> str:
    """The form as CSV: UTF-8 with a BOM so Excel reads the Thai, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(lang))
    for row in form_rows(survey, lang):
        writer.writerow([_cell(c) for c in row])
    return BOM + buffer.getvalue()


def period_text(survey: Survey, lang: str) -> str:
    """The days covered in Bangkok time: ``2 ตุลาคม พ.ศ. 2568 ถึง 31 ตุลาคม พ.ศ. 2568 (30 วัน)``."""
    first = survey.start.astimezone(BANGKOK).date()
    # The end is an instant; the last day covered is the one the period ends in (or the day
    # before, when it ends exactly at midnight).
    last = (survey.end.astimezone(BANGKOK) - timedelta(microseconds=1)).date()
    return text("survey.period_span", lang, first=date_text(first, lang, era=True),
                last=date_text(last, lang, era=True), days=survey.days)


def render_html(survey: Survey, lang: str, generated_at: datetime,
                office: OfficeSettings | None = None, *, printed: bool = False) -> str:
    """One page: the form, could-not-check and no-data lists, figures, rules, signatures
    (from ``office``, the inventory's settings, named after the office site if they are not).
    ``printed``: the form handed to ``dlict.reports.pdf`` (the same page today)."""
    env = report_environment(lang, pct=_pct, db=_db)
    analysed = sorted(survey.findings + survey.unchecked + survey.healthy,
                      key=lambda e: e.school.code)
    return env.get_template("dltv_survey.html.j2").render(
        columns=columns(lang), rows=form_rows(survey, lang),
        survey=survey, period=period_text(survey, lang),
        when=format_local(generated_at, lang), rules=rules(lang),
        unchecked=[(e, unchecked_reason(e, lang)) for e in survey.unchecked + survey.no_data],
        analysed=analysed, result=lambda e: _result(e, lang),
        source=lambda e: _source(e, lang), version=__version__, printed=printed,
        **document_fields(named_office(office, survey.office_th, survey.office_en), lang,
                          generated_at.astimezone(BANGKOK).date()),
    )


def _result(entry: Entry, lang: str) -> str:
    verdict = entry.verdict
    if verdict is None:
        return text("survey.no_data_reason", lang)
    if verdict.problem is not None:
        return (f"{text(f'survey.need.{verdict.problem.need.value}', lang)} "
                f"{_equipment(verdict.problem, lang)}")
    if verdict.unchecked is not None:
        return unchecked_reason(entry, lang)
    return text("survey.healthy", lang)
