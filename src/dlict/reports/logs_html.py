"""The log-retention report (``dlict logs check --report``): one page the director can sign."""

from __future__ import annotations

from dlict import __version__
from dlict.core.clock import BE_OFFSET, THAI_MONTHS, format_local
from dlict.logs.check import KINDS, CheckReport
from dlict.reports.env import report_environment

TEXT = {
    "th": {
        "title": "รายงานการเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์ (SOP ข้อ 5.5.5)",
        "law": "ตามพระราชบัญญัติว่าด้วยการกระทำความผิดเกี่ยวกับคอมพิวเตอร์ พ.ศ. 2550 "
               "แก้ไขเพิ่มเติม พ.ศ. 2560 มาตรา 26 และประกาศกระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม "
               "เรื่อง หลักเกณฑ์การเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์ พ.ศ. 2564",
        "when": "ตรวจเมื่อ", "root": "ที่เก็บ", "window": "ช่วงที่ตรวจ", "days": "วัน",
        "retention": "ระยะเวลาเก็บรักษาที่กำหนด", "summary": "สรุปรายแหล่งข้อมูล",
        "source": "แหล่งข้อมูล (หน่วยงาน/เครื่อง)", "covered": "วันที่ครบถ้วน",
        "sealed": "ผนึกถึงวันที่", "heard": "ได้รับล่าสุด", "clock": "เวลาคลาดเคลื่อน",
        "result": "ผล", "ok": "ผ่าน", "problem": "พบปัญหา", "problems": "ปัญหาที่พบ",
        "kind": "ประเภท", "day": "วันที่", "detail": "รายละเอียด", "none": "ไม่พบปัญหา",
        "not_reported": "ไม่มีรายงาน", "minutes_ago": "นาทีก่อน", "general": "ทั้งระบบ",
        "signed": "ผู้รับรองรายงาน", "generated": "จัดทำโดย dlict",
        "fields": "ข้อมูลจราจรครบตามประกาศ",
    },
    "en": {
        "title": "Computer traffic data retention report (SOP 5.5.5)",
        "law": "Under the Computer Crime Act B.E. 2550 as amended B.E. 2560, section 26, and the "
               "MDES notification on computer traffic data retention B.E. 2564",
        "when": "Checked at", "root": "Log tree", "window": "Window", "days": "days",
        "retention": "Configured retention", "summary": "Summary per source",
        "source": "Source (site/host)", "covered": "Days complete", "sealed": "Sealed to",
        "heard": "Last heard", "clock": "Clock offset", "result": "Result", "ok": "pass",
        "problem": "problem", "problems": "Problems found", "kind": "Kind", "day": "Day",
        "detail": "Detail", "none": "No problem found", "not_reported": "not reported",
        "minutes_ago": "min ago", "general": "whole tree", "signed": "Certified by",
        "generated": "Produced by dlict", "fields": "Traffic-data fields complete",
    },
}

KIND_TEXT = {
    "th": {
        "modified": "ไฟล์ถูกแก้ไข", "truncated": "ไฟล์ถูกตัดทอน", "lines-deleted": "บรรทัดถูกลบ",
        "grown": "มีบรรทัดเพิ่มหลังผนึก", "reordered": "ไฟล์สลับวัน", "renamed": "ไฟล์ถูกเปลี่ยนชื่อ",
        "deleted": "ไฟล์ถูกลบ", "inserted": "มีไฟล์แปลกปลอม", "unsealed": "ยังไม่ได้ผนึก",
        "gap": "ขาดช่วง", "retention": "เก็บไม่ครบระยะเวลา",
        "manifest-truncated": "บัญชีผนึกถูกตัดทอน", "manifest-edited": "บัญชีผนึกถูกแก้ไข",
        "manifest-rollback": "บัญชีผนึกถูกย้อนกลับ", "foreign-key": "ลงนามด้วยกุญแจอื่น",
        "chain-broken": "ลำดับการผนึกขาด", "manifest-moved": "บัญชีผนึกผิดแหล่ง",
        "state": "สถานะการผนึก", "silent": "ไม่ได้รับข้อมูล", "clock": "นาฬิกาคลาดเคลื่อน",
        "fields": "ข้อมูลจราจรไม่ครบ", "policy": "นโยบายการเก็บรักษา",
        "permissions": "สิทธิ์การเข้าถึงไฟล์", "not-regular": "ไม่ใช่ไฟล์ปกติ",
        "unreadable": "อ่านไฟล์ไม่ได้", "oversized": "ไฟล์หรือบรรทัดยาวเกินกำหนด",
        "duplicate": "วันเดียวกันมีสองไฟล์",
    },
    "en": {kind: kind.replace("-", " ") for kind in KINDS},
}


def thai_day(iso: str | None, lang: str) -> str:
    """A day as the reader expects it: ``21 พ.ย. 2569``-style in Thai (B.E.), ISO in English."""
    if not iso:
        return "-"
    if lang != "th":
        return iso
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{day} {THAI_MONTHS[month - 1]} {year + BE_OFFSET}"


def render_logs_html(report: CheckReport, lang: str) -> str:
    env = report_environment(day=lambda iso: thai_day(iso, lang))
    return env.get_template("logs.html.j2").render(
        t=TEXT[lang], k=KIND_TEXT[lang], lang=lang, data=report.as_dict(),
        when=format_local(report.checked_at, lang), version=__version__,
    )
