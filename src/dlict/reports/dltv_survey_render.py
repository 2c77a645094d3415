"""The DLTV equipment survey as the office sends it: CSV for Excel and a page to sign.

The columns follow OBEC's yearly form "แบบสำรวจข้อมูลความต้องการทดแทน/ซ่อมบำรุงอุปกรณ์รับ
สัญญาณดาวเทียม" as we understand it (we have no copy of the official form): ที่, รหัสโรงเรียน,
ชื่อโรงเรียน, อำเภอ, จังหวัด, อุปกรณ์ที่มีปัญหา, ความต้องการ, สภาพปัญหา, ผู้ประสานงาน, โทรศัพท์,
หมายเหตุ.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from dlict import __version__
from dlict.core.clock import BANGKOK, BE_OFFSET, THAI_MONTHS, format_local
from dlict.dltv import DVB_FEMON, HLS, TVHEADEND
from dlict.reports.dltv_survey import (
    MAX_UNLOCKED_SHARE,
    MIN_READABLE_SHARE,
    SCHOOL_END,
    SCHOOL_START,
    SIGNAL_PRESENT_RATIO,
    SNR_DEAD_DB,
    Entry,
    Equipment,
    Figures,
    Need,
    Problem,
    Survey,
    Unchecked,
    Verdict,
)
from dlict.reports.env import report_environment

BOM = "\ufeff"

COLUMNS = {
    "th": ["ที่", "รหัสโรงเรียน", "ชื่อโรงเรียน", "อำเภอ", "จังหวัด", "อุปกรณ์ที่มีปัญหา",
           "ความต้องการ", "สภาพปัญหา", "ผู้ประสานงาน", "โทรศัพท์", "หมายเหตุ"],
    "en": ["No.", "School code", "School name", "District (amphoe)", "Province",
           "Equipment with the problem", "Need", "Problem (evidence)", "Coordinator",
           "Telephone", "Remarks"],
}

EQUIPMENT = {
    "th": {Equipment.DISH: "จานรับสัญญาณ", Equipment.LNB: "LNB",
           Equipment.CABLE: "สายนำสัญญาณและขั้วต่อ", Equipment.RECEIVER: "เครื่องรับสัญญาณ"},
    "en": {Equipment.DISH: "dish", Equipment.LNB: "LNB", Equipment.CABLE: "cable and connectors",
           Equipment.RECEIVER: "receiver"},
}
NEED = {
    "th": {Need.REPLACE: "ทดแทน", Need.REPAIR: "ซ่อมบำรุง"},
    "en": {Need.REPLACE: "replace", Need.REPAIR: "repair"},
}
ACTION = {
    "th": {
        Problem.LNB_FAILED: "เปลี่ยน LNB",
        Problem.NO_LOCK: "ตรวจสายนำสัญญาณ ขั้วต่อ (ความชื้น สนิม) LNB และจานรับสัญญาณ",
        Problem.RECEIVER: "ตรวจการตั้งค่าช่องสัญญาณและเครื่องรับสัญญาณ",
        Problem.WEAK_SIGNAL: "ปรับมุมจาน ตรวจขั้วต่อ (เผื่อสัญญาณลดลงเมื่อฝนตก)",
    },
    "en": {
        Problem.LNB_FAILED: "replace the LNB",
        Problem.NO_LOCK: "check the cable, connectors (moisture, corrosion), LNB and dish",
        Problem.RECEIVER: "check the receiver's tuning and the receiver itself",
        Problem.WEAK_SIGNAL: "realign the dish, check the connectors (margin for rain fade)",
    },
}
SOURCE = {
    "th": {TVHEADEND: "Tvheadend", DVB_FEMON: "จูนเนอร์ DVB", HLS: "สตรีมออนไลน์ (HLS)"},
    "en": {TVHEADEND: "Tvheadend", DVB_FEMON: "DVB tuner", HLS: "online streams (HLS)"},
}

TEXT = {
    "th": {
        "title": "แบบสำรวจข้อมูลความต้องการทดแทน/ซ่อมบำรุงอุปกรณ์รับสัญญาณดาวเทียม "
                 "(มูลนิธิการศึกษาทางไกลผ่านดาวเทียม DLTV)",
        "period": "ข้อมูลจากระบบเฝ้าระวังเครื่องรับสัญญาณ ระหว่างวันที่",
        "to": "ถึง", "days": "วัน", "generated_at": "จัดทำเมื่อ",
        "form_note": "คอลัมน์จัดตามแบบสำรวจของ สพฐ. เท่าที่เข้าใจ (ไม่ใช่แบบฟอร์มฉบับทางการ)",
        "needs": "โรงเรียนที่อุปกรณ์รับสัญญาณดาวเทียมต้องทดแทนหรือซ่อมบำรุง",
        "no_needs": "ไม่พบโรงเรียนที่ต้องทดแทนหรือซ่อมบำรุงอุปกรณ์",
        "unchecked": "โรงเรียนที่ตรวจสอบอุปกรณ์จากระยะไกลไม่ได้ (ให้สำรวจที่โรงเรียน)",
        "reason": "เหตุผล", "no_data": "โรงเรียนที่มีเครื่องรับ DLTV ในทะเบียนแต่ไม่มีข้อมูล",
        "no_data_reason": "ไม่มีข้อมูลในช่วงที่สำรวจ", "details": "ตัวเลขรายโรงเรียน (เวลาเรียน)",
        "readable": "อ่านสถานะได้", "unlocked": "ไม่ล็อกสัญญาณ", "snr": "SNR มัธยฐานขณะล็อก",
        "threshold": "เกณฑ์ SNR", "signal": "ระดับสัญญาณ", "channels": "ช่องที่รับได้",
        "result": "ผล", "healthy": "ปกติ", "source": "ตรวจวัดจาก",
        "rules": "เกณฑ์ที่ใช้",
        "warnings": "หมายเหตุการประมวลผล",
        "reporter": "ผู้รายงาน", "director": "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา",
        "date_line": "วันที่ ........ เดือน .................... พ.ศ. ..........",
        "generated": "จัดทำโดย dlict", "count": "จำนวน", "schools": "โรงเรียน",
        "sign": "(ลงชื่อ)",
        "ignored_unknown": "รหัส %s มีข้อมูล DLTV ใน Prometheus แต่ไม่อยู่ในทะเบียนหน่วยงาน: ไม่นำมารายงาน",
        "ignored_no_dltv": "รหัส %s มีข้อมูล DLTV ใน Prometheus แต่ทะเบียนไม่ได้ระบุเครื่องรับ DLTV: "
                           "ไม่นำมารายงาน",
    },
    "en": {
        "title": "Survey of the need to replace or repair satellite receiving equipment (DLTV)",
        "period": "From the receiver monitoring, period", "to": "to", "days": "days",
        "generated_at": "Produced at",
        "form_note": "Columns follow OBEC's survey form as we understand it (not the official "
                     "form)",
        "needs": "Schools whose satellite receiving equipment needs replacement or repair",
        "no_needs": "No school needs equipment replaced or repaired",
        "unchecked": "Schools whose equipment could not be checked remotely (survey on site)",
        "reason": "Reason",
        "no_data": "Schools with a DLTV receiver in the inventory but no data",
        "no_data_reason": "no data in the period", "details": "Figures per school (school hours)",
        "readable": "Readable", "unlocked": "Unlocked", "snr": "Median SNR when locked",
        "threshold": "SNR threshold", "signal": "Signal level", "channels": "Channels received",
        "result": "Result", "healthy": "ok", "source": "Measured by",
        "rules": "Rules applied", "warnings": "Processing notes",
        "reporter": "Reported by", "director": "Director of the Educational Service Area Office",
        "date_line": "Date ....................",
        "generated": "Produced by dlict", "count": "Count", "schools": "schools",
        "sign": "(Signed)",
        "ignored_unknown": "site %s has DLTV data in Prometheus but is not in the inventory: "
                           "left out",
        "ignored_no_dltv": "site %s has DLTV data in Prometheus but no DLTV receiver in the "
                           "inventory: left out",
    },
}


def rules(lang: str) -> list[str]:
    """The rules as stated in the report, from the thresholds the analysis uses."""
    hours = f"{SCHOOL_START:%H:%M}–{SCHOOL_END:%H:%M}"
    readable = f"{MIN_READABLE_SHARE:.0%}"
    unlocked = f"{MAX_UNLOCKED_SHARE:.0%}"
    if lang == "th":
        readable, unlocked = (f"ร้อยละ {share * 100:.0f}"
                              for share in (MIN_READABLE_SHARE, MAX_UNLOCKED_SHARE))
        return [
            f"นับเฉพาะเวลาเรียน วันจันทร์–ศุกร์ เวลา {hours} น. (เวลาประเทศไทย) "
            "ไม่ได้หักวันหยุดราชการและปิดภาคเรียน",
            f"อ่านสถานะเครื่องรับได้น้อยกว่า{readable} ของเวลาเรียน: "
            "จัดเป็น \"ตรวจสอบไม่ได้\" ไม่ถือว่าอุปกรณ์เสีย",
            f"ไม่ล็อกสัญญาณเกิน{unlocked} ของเวลาเรียนที่อ่านได้ และขณะนั้นมีระดับ"
            f"สัญญาณตั้งแต่ {SIGNAL_PRESENT_RATIO:.0%} แต่ SNR ต่ำกว่า {SNR_DEAD_DB:.0f} dB: "
            "LNB เสีย → ทดแทน LNB",
            f"ไม่ล็อกสัญญาณเกิน{unlocked} และระดับสัญญาณต่ำกว่า "
            f"{SIGNAL_PRESENT_RATIO:.0%} หรือมีระดับสัญญาณแต่ SNR ต่ำกว่าเกณฑ์: ไม่มีสัญญาณหรือ"
            "สัญญาณอ่อนมาก → ซ่อมบำรุง (ตรวจสายนำสัญญาณ ขั้วต่อ LNB และจาน)",
            f"ไม่ล็อกสัญญาณเกิน{unlocked} ทั้งที่ระดับสัญญาณและ SNR ผ่านเกณฑ์: "
            "เครื่องรับสัญญาณ → ซ่อมบำรุง",
            "ล็อกสัญญาณได้ แต่ SNR มัธยฐานขณะล็อกต่ำกว่าเกณฑ์ของเครื่องรับประเภทนั้น: "
            "สัญญาณอ่อน เผื่อฝนตกไม่พอ → ซ่อมบำรุง (ปรับมุมจาน ตรวจขั้วต่อ)",
            "โรงเรียนที่ตรวจผ่านสตรีมออนไลน์ (HLS) เท่านั้น ไม่ได้วัดจานรับสัญญาณ: "
            "จัดเป็น \"ตรวจสอบไม่ได้\"",
            "เรียงตามความรุนแรง (LNB เสีย, ไม่มีสัญญาณ, เครื่องรับ, สัญญาณอ่อน) แล้วตามรหัสโรงเรียน",
        ]
    return [
        f"Only school hours count: Monday–Friday {hours} Bangkok time; public holidays and "
        "school breaks are not taken out",
        f"Receiver readable less than {readable} of school hours: listed as \"could not be "
        "checked\", not as broken",
        f"Unlocked more than {unlocked} of readable school hours while the signal level was "
        f"at least {SIGNAL_PRESENT_RATIO:.0%} but SNR below {SNR_DEAD_DB:.0f} dB: the LNB "
        "has failed → replace the LNB",
        f"Unlocked more than {unlocked} with the signal level below "
        f"{SIGNAL_PRESENT_RATIO:.0%}, or a signal level but SNR below the threshold: no or very "
        "weak signal → repair (check cable, connectors, LNB and dish)",
        f"Unlocked more than {unlocked} although signal level and SNR pass: the receiver → "
        "repair",
        "Locked, but the median SNR while locked is below the threshold of that receiver "
        "kind: weak signal, too little margin for rain fade → repair (dish alignment, "
        "connectors)",
        "Schools watched only through the online streams (HLS) say nothing about the dish: "
        "listed as \"could not be checked\"",
        "Rows are sorted by severity (LNB failed, no signal, receiver, weak signal), then by "
        "school code",
    ]


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
    th = lang == "th"
    no_report = "ไม่มีรายงาน" if th else "not reported"
    signal = _pct(f.unlocked_signal_median) if f.unlocked_signal_median is not None \
        else no_report
    snr = _db(f.unlocked_snr_median) if f.unlocked_snr_median is not None else no_report
    unlocked = (f"ไม่ล็อกสัญญาณ {_pct(f.unlocked_share)} ของเวลาเรียนที่อ่านได้ "
                f"({_hours(f, f.unlocked_samples)} จาก {_hours(f, f.lock_known)} ชม.)" if th
                else f"unlocked {_pct(f.unlocked_share)} of readable school hours "
                     f"({_hours(f, f.unlocked_samples)} of {_hours(f, f.lock_known)} h)")
    if problem is Problem.LNB_FAILED:
        return (f"{unlocked} ขณะไม่ล็อกมีระดับสัญญาณ {signal} แต่ SNR {snr}: อาการ LNB เสีย"
                if th else f"{unlocked}; while unlocked the signal level was {signal} but "
                           f"SNR {snr}: the LNB has failed")
    if problem is Problem.NO_LOCK:
        return (f"{unlocked} ขณะไม่ล็อกระดับสัญญาณ {signal} SNR {snr} "
                f"(เกณฑ์ {_db(f.snr_min_db)}): ไม่มีสัญญาณหรือสัญญาณอ่อนมาก" if th
                else f"{unlocked}; while unlocked the signal level was {signal}, SNR {snr} "
                     f"(threshold {_db(f.snr_min_db)}): no or very weak signal")
    if problem is Problem.RECEIVER:
        return (f"{unlocked} ทั้งที่ระดับสัญญาณ {signal} และ SNR {snr} ผ่านเกณฑ์ "
                f"{_db(f.snr_min_db)}" if th
                else f"{unlocked} although the signal level was {signal} and SNR {snr}, "
                     f"above the threshold {_db(f.snr_min_db)}")
    if problem is Problem.WEAK_SIGNAL:
        return (f"ล็อกสัญญาณ {_pct(f.locked_share)} ของเวลาเรียนที่อ่านได้ แต่ SNR มัธยฐาน "
                f"{_db(f.locked_snr_median)} ต่ำกว่าเกณฑ์ {_db(f.snr_min_db)} "
                f"({_pct(f.locked_below_share)} ของเวลาที่ล็อก)" if th
                else f"locked {_pct(f.locked_share)} of readable school hours, but median SNR "
                     f"{_db(f.locked_snr_median)} is below the threshold "
                     f"{_db(f.snr_min_db)} ({_pct(f.locked_below_share)} of locked time)")
    return ""


def unchecked_reason(entry: Entry, lang: str) -> str:
    """Why a school could not be judged (or had no data), with the figures."""
    th = lang == "th"
    verdict = entry.verdict
    if verdict is None:
        return TEXT[lang]["no_data_reason"]
    f = verdict.figures
    if verdict.unchecked is Unchecked.UNREADABLE:
        return (f"อ่านสถานะเครื่องรับได้เพียง {_pct(f.readable_share)} ของเวลาเรียน "
                f"({_hours(f, f.readable_samples)} จาก {_hours(f, f.school_samples)} ชม.)" if th
                else f"receiver readable only {_pct(f.readable_share)} of school hours "
                     f"({_hours(f, f.readable_samples)} of {_hours(f, f.school_samples)} h)")
    if verdict.unchecked is Unchecked.NO_SCHOOL_HOURS:
        return ("มีข้อมูลแต่ไม่มีในเวลาเรียน" if th else "data, but none in school hours")
    if verdict.unchecked is Unchecked.NO_LOCK_STATUS:
        return ("เครื่องรับไม่รายงานสถานะการล็อกสัญญาณ" if th
                else "the receiver never reported whether it was locked")
    if verdict.unchecked is Unchecked.STREAMS_ONLY:
        return (f"ตรวจผ่านสตรีมออนไลน์ (HLS) เท่านั้น ไม่ได้วัดจานรับสัญญาณ; "
                f"สตรีมเล่นได้ครบ {_pct(f.locked_share)} ของเวลาเรียนที่อ่านได้" if th
                else f"watched only through the online streams (HLS), the dish is not "
                     f"measured; every stream played {_pct(f.locked_share)} of readable "
                     f"school hours")
    return ""


def remarks(entry: Entry, lang: str) -> str:
    """หมายเหตุ: what to do, and what measured it."""
    source = SOURCE[lang].get(entry.school.source, entry.school.source)
    return f"{ACTION[lang][entry.problem]}; {TEXT[lang]['source']} {source}"


def form_rows(survey: Survey, lang: str) -> list[list[str]]:
    """The survey form's rows (header not included), one per school needing work."""
    rows = []
    for number, entry in enumerate(survey.findings, start=1):
        problem = entry.problem
        assert entry.verdict is not None  # noqa: S101 - a finding always has a verdict
        rows.append([
            str(number), entry.school.code, entry.school.name(lang), entry.school.amphoe,
            entry.school.province,
            ", ".join(EQUIPMENT[lang][e] for e in problem.equipment),
            NEED[lang][problem.need], evidence(entry.verdict, lang), entry.school.contact,
            entry.school.phone, remarks(entry, lang),
        ])
    return rows


def _cell(text: str) -> str:
    """A cell Excel shows as text, never runs as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(survey: Survey, lang: str) -> str:
    """The form as CSV: UTF-8 with a BOM so Excel reads the Thai, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS[lang])
    for row in form_rows(survey, lang):
        writer.writerow([_cell(c) for c in row])
    return BOM + buffer.getvalue()


def day_text(day: date, lang: str) -> str:
    """``2 ตุลาคม พ.ศ. 2568`` in Thai (Buddhist Era), ISO in English."""
    if lang != "th":
        return day.isoformat()
    return f"{day.day} {THAI_MONTHS[day.month - 1]} พ.ศ. {day.year + BE_OFFSET}"


def period_text(survey: Survey, lang: str) -> str:
    """The days covered in Bangkok time: ``2 ตุลาคม พ.ศ. 2568 ถึง 31 ตุลาคม พ.ศ. 2568 (30 วัน)``."""
    first = survey.start.astimezone(BANGKOK).date()
    # The end is an instant; the last day covered is the one the period ends in (or the day
    # before, when it ends exactly at midnight).
    last = (survey.end.astimezone(BANGKOK) - timedelta(microseconds=1)).date()
    t = TEXT[lang]
    return (f"{day_text(first, lang)} {t['to']} {day_text(last, lang)} "
            f"({survey.days} {t['days']})")


def director_title(survey: Survey, lang: str) -> str:
    office = survey.office_th if lang == "th" else survey.office_en
    if lang == "th" and office.startswith("สำนักงานเขตพื้นที่การศึกษา"):
        return f"ผู้อำนวยการ{office}"
    return TEXT[lang]["director"]


def render_html(survey: Survey, lang: str, generated_at: datetime) -> str:
    """One page: the form, could-not-check and no-data lists, figures, rules, signatures."""
    env = report_environment(pct=_pct, db=_db)
    analysed = sorted(survey.findings + survey.unchecked + survey.healthy,
                      key=lambda e: e.school.code)
    return env.get_template("dltv_survey.html.j2").render(
        t=TEXT[lang], lang=lang, columns=COLUMNS[lang], rows=form_rows(survey, lang),
        survey=survey, period=period_text(survey, lang),
        when=format_local(generated_at, lang), rules=rules(lang),
        unchecked=[(e, unchecked_reason(e, lang)) for e in survey.unchecked + survey.no_data],
        analysed=analysed, office=survey.office_th if lang == "th" else survey.office_en,
        director=director_title(survey, lang), result=lambda e: _result(e, lang),
        source=lambda e: SOURCE[lang].get(e.school.source, e.school.source),
        version=__version__,
    )


def _result(entry: Entry, lang: str) -> str:
    verdict = entry.verdict
    if verdict is None:
        return TEXT[lang]["no_data_reason"]
    if verdict.problem is not None:
        equipment = ", ".join(EQUIPMENT[lang][e] for e in verdict.problem.equipment)
        return f"{NEED[lang][verdict.problem.need]} {equipment}"
    if verdict.unchecked is not None:
        return unchecked_reason(entry, lang)
    return TEXT[lang]["healthy"]
