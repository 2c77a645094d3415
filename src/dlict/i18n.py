"""Every word dlict shows a person, in Thai (the default) and English, and Thai dates.

One catalogue: a message id → its Thai and English text, with ``{field}`` places that
:func:`text` fills. The CLI, the report templates (through the ``t`` global of
``dlict.reports.env``) and the log server's zipapp all read it, so this module uses only the
standard library. Thai dates carry Buddhist-Era years (พ.ศ. = C.E. + 543); English dates are
ISO.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal, NamedTuple, Protocol

__all__ = [
    "BE_OFFSET", "CATALOGUE", "LANGS", "THAI_MONTHS", "Lang", "Message", "date_text",
    "is_thai", "local_time_text", "lookup", "name_of", "pick", "text",
]

Lang = Literal["th", "en"]
LANGS: Final = ("th", "en")
BE_OFFSET: Final = 543
THAI_MONTHS: Final = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)


class Message(NamedTuple):
    th: str
    en: str


_CLI: dict[str, Message] = {
    "cli.site": Message("หน่วยงาน", "Site"),
    "cli.code": Message("รหัส", "Code"),
    "cli.name": Message("ชื่อ", "Name"),
    "cli.amphoe": Message("อำเภอ", "District"),
    "cli.host": Message("เครื่อง", "Host"),
    "cli.address": Message("ที่อยู่", "Address"),
    "cli.roles": Message("บทบาท", "Roles"),
    "cli.control": Message("รายการตรวจ", "Control"),
    "cli.status": Message("สถานะ", "Status"),
    "cli.evidence": Message("หลักฐาน", "Evidence"),
    "cli.detail": Message("รายละเอียด", "Detail"),
    "cli.isp": Message("ผู้ให้บริการ", "ISP"),
    "cli.dltv": Message("DLTV", "DLTV"),
    "cli.office": Message("สำนักงานเขตฯ", "Office"),
    "cli.run": Message("ครั้งที่", "Run"),
    "cli.kind": Message("ประเภท", "Kind"),
    "cli.started": Message("เริ่ม", "Started"),
    "cli.operator": Message("ผู้สั่งงาน", "Operator"),
    "cli.pass": Message("ผ่าน", "pass"),
    "cli.fail": Message("ไม่ผ่าน", "fail"),
    "cli.error": Message("ผิดพลาด", "error"),
    "cli.unreachable": Message("ติดต่อไม่ได้", "unreachable"),
    "cli.skipped": Message("ไม่เกี่ยวข้อง", "n/a"),
    "cli.ok": Message("ปกติ", "ok"),
    "cli.findings": Message("มีข้อตรวจพบ", "findings"),
    "cli.running": Message("กำลังทำงาน", "running"),
    "cli.sites_hosts": Message("{sites} หน่วยงาน ({schools} โรงเรียน), {hosts} เครื่อง",
                               "{sites} sites ({schools} schools), {hosts} hosts"),
    "cli.not_passing": Message("รายการที่ไม่ผ่าน", "not passing"),
    "cli.score_per_site": Message("คะแนนรายหน่วยงานและด้าน", "score per site and area"),
    "cli.area": Message("ด้าน", "area"),
    "cli.score": Message("คะแนน", "score"),
    "cli.district": Message("ภาพรวมเขต", "district"),
    "cli.stored_as_run": Message("บันทึกเป็นครั้งที่", "stored as run"),
    "cli.fw11_title": Message("FW-11 พอร์ตที่ตอบจากภายนอก", "FW-11 from outside"),
    "cli.fw11_figures": Message("{hosts} เครื่อง, ส่งทดสอบ {probes} ครั้ง ใน {seconds} วินาที",
                                "{hosts} hosts, {probes} probes in {seconds} s"),
    "cli.ep07_title": Message("EP-07 อุปกรณ์ในเครือข่าย LAN", "EP-07 devices on the LAN"),
    "cli.ep07_figures": Message("{lans} LAN, {addresses} ที่อยู่ ใน {seconds} วินาที",
                                "{lans} LANs, {addresses} addresses in {seconds} s"),
}

# Local time: Thai with a B.E. year, or ISO-like English.
_TIME: dict[str, Message] = {
    "time.moment": Message("{day} {month} {year} {clock} น.", "{iso} {clock} (UTC+07:00)"),
}

_AUDIT: dict[str, Message] = {
    "audit.title": Message("รายงานผลการตรวจสอบมาตรการความมั่นคงปลอดภัยไซเบอร์ (SOP ข้อ 5.5)",
                           "Cyber-security controls audit report (SOP 5.5)"),
    "audit.run": Message("การตรวจครั้งที่", "Audit run"),
    "audit.when": Message("วันเวลาที่ตรวจ", "Audited at"),
    "audit.by": Message("ผู้ตรวจ", "Audited by"),
    "audit.summary": Message("สรุปผลรายหน่วยงานและด้าน", "Summary per site and area"),
    "audit.site": Message("หน่วยงาน", "Site"),
    "audit.area": Message("ด้าน", "Area"),
    "audit.score": Message("คะแนน", "Score"),
    "audit.details": Message("รายละเอียดรายเครื่อง", "Details per host"),
    "audit.host": Message("เครื่อง", "Host"),
    "audit.control": Message("มาตรการ", "Control"),
    "audit.status": Message("ผล", "Result"),
    "audit.evidence": Message("หลักฐาน", "Evidence"),
    "audit.district": Message("ภาพรวมเขต", "District"),
    "audit.area.firewall": Message("ไฟร์วอลล์ (5.5.1)", "Firewall (5.5.1)"),
    "audit.area.antivirus": Message("แอนติไวรัส (5.5.2)", "Antivirus (5.5.2)"),
    "audit.area.endpoint": Message("ความปลอดภัยเครื่อง (5.5.3)", "Endpoint (5.5.3)"),
    "audit.area.identity": Message("การพิสูจน์ตัวตน (5.5.4)", "Identity (5.5.4)"),
    "audit.area.logging": Message("การเก็บรักษาล็อก (5.5.5)", "Log retention (5.5.5)"),
    "audit.status.pass": Message("ผ่าน", "pass"),
    "audit.status.fail": Message("ไม่ผ่าน", "fail"),
    "audit.status.error": Message("ผิดพลาด", "error"),
    "audit.status.unreachable": Message("ติดต่อไม่ได้", "unreachable"),
    "audit.status.skipped": Message("ข้าม", "skipped"),
    "audit.generated": Message("จัดทำโดย dlict", "Produced by dlict"),
    "audit.attention": Message("รายการที่ไม่ผ่านหรือตรวจไม่ได้", "Not passing or not checked"),
    "audit.attention_none": Message("ไม่มี: ทุกรายการผ่าน", "None: every check passed"),
    "audit.severity": Message("ระดับความรุนแรง", "Severity"),
    "audit.severity.low": Message("ต่ำ", "low"),
    "audit.severity.medium": Message("ปานกลาง", "medium"),
    "audit.severity.high": Message("สูง", "high"),
    "audit.severity.critical": Message("วิกฤต", "critical"),
    "audit.fix": Message("วิธีแก้ไข", "Fix"),
    "audit.passing": Message("รายการที่ผ่านหรือข้าม {count} รายการ (คลิกเพื่อแสดง)",
                             "{count} passing or skipped checks (click to show)"),
    "audit.passing_counts": Message("รายการที่ผ่าน: จำนวนเครื่องรายมาตรการ",
                                    "Passing checks: hosts per control"),
    "audit.hosts_passing": Message("เครื่องที่ผ่าน", "Hosts passing"),
    "audit.hosts_skipped": Message("เครื่องที่ข้าม", "Hosts skipped"),
    "audit.filter": Message("แสดงเฉพาะ", "Show only"),
    "audit.filter.all_sites": Message("ทุกหน่วยงาน", "all sites"),
    "audit.filter.all": Message("ทุกผล", "every result"),
    "audit.filter.attention": Message("ไม่ผ่าน", "not passing"),
    "audit.filter.passing": Message("ผ่าน", "passing"),
}

_LOGS: dict[str, Message] = {
    "logs.title": Message("รายงานการเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์ (SOP ข้อ 5.5.5)",
                          "Computer traffic data retention report (SOP 5.5.5)"),
    "logs.law": Message(
        "ตามพระราชบัญญัติว่าด้วยการกระทำความผิดเกี่ยวกับคอมพิวเตอร์ พ.ศ. 2550 "
        "แก้ไขเพิ่มเติม พ.ศ. 2560 มาตรา 26 และประกาศกระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม "
        "เรื่อง หลักเกณฑ์การเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์ พ.ศ. 2564",
        "Under the Computer Crime Act B.E. 2550 as amended B.E. 2560, section 26, and the "
        "MDES notification on computer traffic data retention B.E. 2564"),
    "logs.when": Message("ตรวจเมื่อ", "Checked at"),
    "logs.root": Message("ที่เก็บ", "Log tree"),
    "logs.window": Message("ช่วงที่ตรวจ", "Window"),
    "logs.days": Message("วัน", "days"),
    "logs.retention": Message("ระยะเวลาเก็บรักษาที่กำหนด", "Configured retention"),
    "logs.summary": Message("สรุปรายแหล่งข้อมูล", "Summary per source"),
    "logs.source": Message("แหล่งข้อมูล (หน่วยงาน/เครื่อง)", "Source (site/host)"),
    "logs.covered": Message("วันที่ครบถ้วน", "Days complete"),
    "logs.sealed": Message("ผนึกถึงวันที่", "Sealed to"),
    "logs.heard": Message("ได้รับล่าสุด", "Last heard"),
    "logs.clock": Message("เวลาคลาดเคลื่อน", "Clock offset"),
    "logs.result": Message("ผล", "Result"),
    "logs.ok": Message("ผ่าน", "pass"),
    "logs.problem": Message("พบปัญหา", "problem"),
    "logs.problems": Message("ปัญหาที่พบ", "Problems found"),
    "logs.kind": Message("ประเภท", "Kind"),
    "logs.day": Message("วันที่", "Day"),
    "logs.detail": Message("รายละเอียด", "Detail"),
    "logs.none": Message("ไม่พบปัญหา", "No problem found"),
    "logs.not_reported": Message("ไม่มีรายงาน", "not reported"),
    "logs.minutes_ago": Message("นาทีก่อน", "min ago"),
    "logs.general": Message("ทั้งระบบ", "whole tree"),
    "logs.generated": Message("จัดทำโดย dlict", "Produced by dlict"),
    "logs.fields": Message("ข้อมูลจราจรครบตามประกาศ", "Traffic-data fields complete"),
    # Terminal lines of ``dlict logs`` and the server's zipapp. PROBLEM, ok, REFUSED and
    # FINDING stay as they are in both languages: scripts on the log server look for them.
    "logs.line.source": Message(
        "{verdict:7} {source}: ครบ {covered}/{required} วัน, ผนึกถึง {sealed}, "
        "ได้รับล่าสุด {heard}, เวลาคลาดเคลื่อน {clock}",
        "{verdict:7} {source}: {covered}/{required} days covered, sealed to {sealed}, "
        "heard {heard}, clock {clock}"),
    "logs.line.heard": Message("{minutes:.0f} นาทีก่อน", "{minutes:.0f} min ago"),
    "logs.line.never": Message("ไม่เคย", "never"),
    "logs.line.total": Message(
        "แหล่งข้อมูลไม่มีปัญหา {clean} จาก {total}; ตรวจ {megabytes:.1f} MB ใน {files} ไฟล์ "
        "ย้อนหลัง {days} วัน",
        "{clean} of {total} sources clean; {megabytes:.1f} MB in {files} files checked over "
        "{days} days"),
    "logs.line.sealed": Message("ผนึก {days}", "sealed {days}"),
    "logs.line.absent": Message("ไม่มีล็อกวันที่ {days}", "no logs on {days}"),
    "logs.line.pruned": Message("ลบ {count} ไฟล์ที่เกินระยะเวลาเก็บรักษา",
                                "deleted {count} file(s) past retention"),
    "logs.line.keygen": Message("สร้าง {path} แล้ว (รหัสกุญแจ {key_id})",
                                "created {path} (key id {key_id})"),
}

# One per kind in dlict.logs.check.KINDS (a test holds them equal).
_LOG_KINDS: dict[str, str] = {
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
}
_LOGS.update({f"logs.kind.{kind}": Message(thai, kind.replace("-", " "))
              for kind, thai in _LOG_KINDS.items()})

_SURVEY: dict[str, Message] = {
    # The columns of OBEC's survey form, in order.
    "survey.col.number": Message("ที่", "No."),
    "survey.col.code": Message("รหัสโรงเรียน", "School code"),
    "survey.col.name": Message("ชื่อโรงเรียน", "School name"),
    "survey.col.amphoe": Message("อำเภอ", "District (amphoe)"),
    "survey.col.province": Message("จังหวัด", "Province"),
    "survey.col.equipment": Message("อุปกรณ์ที่มีปัญหา", "Equipment with the problem"),
    "survey.col.need": Message("ความต้องการ", "Need"),
    "survey.col.evidence": Message("สภาพปัญหา", "Problem (evidence)"),
    "survey.col.contact": Message("ผู้ประสานงาน", "Coordinator"),
    "survey.col.phone": Message("โทรศัพท์", "Telephone"),
    "survey.col.remarks": Message("หมายเหตุ", "Remarks"),
    "survey.equipment.dish": Message("จานรับสัญญาณ", "dish"),
    "survey.equipment.lnb": Message("LNB", "LNB"),
    "survey.equipment.cable": Message("สายนำสัญญาณและขั้วต่อ", "cable and connectors"),
    "survey.equipment.receiver": Message("เครื่องรับสัญญาณ", "receiver"),
    "survey.need.replace": Message("ทดแทน", "replace"),
    "survey.need.repair": Message("ซ่อมบำรุง", "repair"),
    "survey.action.lnb-failed": Message("เปลี่ยน LNB", "replace the LNB"),
    "survey.action.no-lock": Message(
        "ตรวจสายนำสัญญาณ ขั้วต่อ (ความชื้น สนิม) LNB และจานรับสัญญาณ",
        "check the cable, connectors (moisture, corrosion), LNB and dish"),
    "survey.action.receiver": Message("ตรวจการตั้งค่าช่องสัญญาณและเครื่องรับสัญญาณ",
                                      "check the receiver's tuning and the receiver itself"),
    "survey.action.weak-signal": Message(
        "ปรับมุมจาน ตรวจขั้วต่อ (เผื่อสัญญาณลดลงเมื่อฝนตก)",
        "realign the dish, check the connectors (margin for rain fade)"),
    "survey.source.tvheadend": Message("Tvheadend", "Tvheadend"),
    "survey.source.dvb_femon": Message("จูนเนอร์ DVB", "DVB tuner"),
    "survey.source.hls": Message("สตรีมออนไลน์ (HLS)", "online streams (HLS)"),
    "survey.title": Message(
        "แบบสำรวจข้อมูลความต้องการทดแทน/ซ่อมบำรุงอุปกรณ์รับสัญญาณดาวเทียม "
        "(มูลนิธิการศึกษาทางไกลผ่านดาวเทียม DLTV)",
        "Survey of the need to replace or repair satellite receiving equipment (DLTV)"),
    "survey.period": Message("ข้อมูลจากระบบเฝ้าระวังเครื่องรับสัญญาณ ระหว่างวันที่",
                             "From the receiver monitoring, period"),
    "survey.period_span": Message("{first} ถึง {last} ({days} วัน)",
                                  "{first} to {last} ({days} days)"),
    "survey.generated_at": Message("จัดทำเมื่อ", "Produced at"),
    "survey.form_note": Message(
        "คอลัมน์จัดตามแบบสำรวจของ สพฐ. เท่าที่เข้าใจ (ไม่ใช่แบบฟอร์มฉบับทางการ)",
        "Columns follow OBEC's survey form as we understand it (not the official form)"),
    "survey.needs": Message(
        "โรงเรียนที่อุปกรณ์รับสัญญาณดาวเทียมต้องทดแทนหรือซ่อมบำรุง",
        "Schools whose satellite receiving equipment needs replacement or repair"),
    "survey.no_needs": Message("ไม่พบโรงเรียนที่ต้องทดแทนหรือซ่อมบำรุงอุปกรณ์",
                               "No school needs equipment replaced or repaired"),
    "survey.unchecked": Message(
        "โรงเรียนที่ตรวจสอบอุปกรณ์จากระยะไกลไม่ได้ (ให้สำรวจที่โรงเรียน)",
        "Schools whose equipment could not be checked remotely (survey on site)"),
    "survey.reason": Message("เหตุผล", "Reason"),
    "survey.no_data_reason": Message("ไม่มีข้อมูลในช่วงที่สำรวจ", "no data in the period"),
    "survey.details": Message("ตัวเลขรายโรงเรียน (เวลาเรียน)", "Figures per school (school hours)"),
    "survey.readable": Message("อ่านสถานะได้", "Readable"),
    "survey.unlocked": Message("ไม่ล็อกสัญญาณ", "Unlocked"),
    "survey.snr": Message("SNR มัธยฐานขณะล็อก", "Median SNR when locked"),
    "survey.threshold": Message("เกณฑ์ SNR", "SNR threshold"),
    "survey.signal": Message("ระดับสัญญาณ", "Signal level"),
    "survey.channels": Message("ช่องที่รับได้", "Channels received"),
    "survey.result": Message("ผล", "Result"),
    "survey.healthy": Message("ปกติ", "ok"),
    "survey.source": Message("ตรวจวัดจาก", "Measured by"),
    "survey.remarks": Message("{action}; ตรวจวัดจาก {source}", "{action}; Measured by {source}"),
    "survey.rules": Message("เกณฑ์ที่ใช้", "Rules applied"),
    "survey.warnings": Message("หมายเหตุการประมวลผล", "Processing notes"),
    "survey.generated": Message("จัดทำโดย dlict", "Produced by dlict"),
    "survey.count": Message("จำนวน", "Count"),
    "survey.schools": Message("โรงเรียน", "schools"),
    "survey.ignored_unknown": Message(
        "รหัส {site} มีข้อมูล DLTV ใน Prometheus แต่ไม่อยู่ในทะเบียนหน่วยงาน: ไม่นำมารายงาน",
        "site {site} has DLTV data in Prometheus but is not in the inventory: left out"),
    "survey.ignored_no_dltv": Message(
        "รหัส {site} มีข้อมูล DLTV ใน Prometheus แต่ทะเบียนไม่ได้ระบุเครื่องรับ DLTV: "
        "ไม่นำมารายงาน",
        "site {site} has DLTV data in Prometheus but no DLTV receiver in the inventory: "
        "left out"),
    # The rules as the page states them; the figures come from the analysis' thresholds.
    "survey.share": Message("ร้อยละ {percent}", "{percent}%"),
    "survey.rule.hours": Message(
        "นับเฉพาะเวลาเรียน วันจันทร์–ศุกร์ เวลา {hours} น. (เวลาประเทศไทย) "
        "ไม่ได้หักวันหยุดราชการและปิดภาคเรียน",
        "Only school hours count: Monday–Friday {hours} Bangkok time; public holidays and "
        "school breaks are not taken out"),
    "survey.rule.readable": Message(
        "อ่านสถานะเครื่องรับได้น้อยกว่า{readable} ของเวลาเรียน: "
        "จัดเป็น \"ตรวจสอบไม่ได้\" ไม่ถือว่าอุปกรณ์เสีย",
        "Receiver readable less than {readable} of school hours: listed as \"could not be "
        "checked\", not as broken"),
    "survey.rule.lnb": Message(
        "ไม่ล็อกสัญญาณเกิน{unlocked} ของเวลาเรียนที่อ่านได้ และขณะนั้นมีระดับ"
        "สัญญาณตั้งแต่ {present} แต่ SNR ต่ำกว่า {dead} dB: LNB เสีย → ทดแทน LNB",
        "Unlocked more than {unlocked} of readable school hours while the signal level was "
        "at least {present} but SNR below {dead} dB: the LNB has failed → replace the LNB"),
    "survey.rule.no_lock": Message(
        "ไม่ล็อกสัญญาณเกิน{unlocked} และระดับสัญญาณต่ำกว่า "
        "{present} หรือมีระดับสัญญาณแต่ SNR ต่ำกว่าเกณฑ์: ไม่มีสัญญาณหรือ"
        "สัญญาณอ่อนมาก → ซ่อมบำรุง (ตรวจสายนำสัญญาณ ขั้วต่อ LNB และจาน)",
        "Unlocked more than {unlocked} with the signal level below "
        "{present}, or a signal level but SNR below the threshold: no or very "
        "weak signal → repair (check cable, connectors, LNB and dish)"),
    "survey.rule.receiver": Message(
        "ไม่ล็อกสัญญาณเกิน{unlocked} ทั้งที่ระดับสัญญาณและ SNR ผ่านเกณฑ์: "
        "เครื่องรับสัญญาณ → ซ่อมบำรุง",
        "Unlocked more than {unlocked} although signal level and SNR pass: the receiver → "
        "repair"),
    "survey.rule.weak": Message(
        "ล็อกสัญญาณได้ แต่ SNR มัธยฐานขณะล็อกต่ำกว่าเกณฑ์ของเครื่องรับประเภทนั้น: "
        "สัญญาณอ่อน เผื่อฝนตกไม่พอ → ซ่อมบำรุง (ปรับมุมจาน ตรวจขั้วต่อ)",
        "Locked, but the median SNR while locked is below the threshold of that receiver "
        "kind: weak signal, too little margin for rain fade → repair (dish alignment, "
        "connectors)"),
    "survey.rule.online_stream": Message(
        "โรงเรียนที่ตรวจผ่านสตรีมออนไลน์ (HLS) เท่านั้น ไม่ได้วัดจานรับสัญญาณ: "
        "จัดเป็น \"ตรวจสอบไม่ได้\"",
        "Schools watched only through the online streams (HLS) say nothing about the dish: "
        "listed as \"could not be checked\""),
    "survey.rule.order": Message(
        "เรียงตามความรุนแรง (LNB เสีย, ไม่มีสัญญาณ, เครื่องรับ, สัญญาณอ่อน) แล้วตามรหัสโรงเรียน",
        "Rows are sorted by severity (LNB failed, no signal, receiver, weak signal), then by "
        "school code"),
    # สภาพปัญหา: what was seen, in words and figures.
    "survey.not_reported": Message("ไม่มีรายงาน", "not reported"),
    "survey.unlocked_hours": Message(
        "ไม่ล็อกสัญญาณ {share} ของเวลาเรียนที่อ่านได้ ({hours} จาก {of} ชม.)",
        "unlocked {share} of readable school hours ({hours} of {of} h)"),
    "survey.evidence.lnb-failed": Message(
        "{unlocked} ขณะไม่ล็อกมีระดับสัญญาณ {signal} แต่ SNR {snr}: อาการ LNB เสีย",
        "{unlocked}; while unlocked the signal level was {signal} but SNR {snr}: the LNB "
        "has failed"),
    "survey.evidence.no-lock": Message(
        "{unlocked} ขณะไม่ล็อกระดับสัญญาณ {signal} SNR {snr} (เกณฑ์ {threshold}): "
        "ไม่มีสัญญาณหรือสัญญาณอ่อนมาก",
        "{unlocked}; while unlocked the signal level was {signal}, SNR {snr} "
        "(threshold {threshold}): no or very weak signal"),
    "survey.evidence.receiver": Message(
        "{unlocked} ทั้งที่ระดับสัญญาณ {signal} และ SNR {snr} ผ่านเกณฑ์ {threshold}",
        "{unlocked} although the signal level was {signal} and SNR {snr}, above the "
        "threshold {threshold}"),
    "survey.evidence.weak-signal": Message(
        "ล็อกสัญญาณ {locked} ของเวลาเรียนที่อ่านได้ แต่ SNR มัธยฐาน {snr} ต่ำกว่าเกณฑ์ "
        "{threshold} ({below} ของเวลาที่ล็อก)",
        "locked {locked} of readable school hours, but median SNR {snr} is below the "
        "threshold {threshold} ({below} of locked time)"),
    # Why a school could not be judged.
    "survey.unchecked.unreadable": Message(
        "อ่านสถานะเครื่องรับได้เพียง {share} ของเวลาเรียน ({hours} จาก {of} ชม.)",
        "receiver readable only {share} of school hours ({hours} of {of} h)"),
    "survey.unchecked.no-school-hours": Message("มีข้อมูลแต่ไม่มีในเวลาเรียน",
                                                "data, but none in school hours"),
    "survey.unchecked.no-lock-status": Message(
        "เครื่องรับไม่รายงานสถานะการล็อกสัญญาณ",
        "the receiver never reported whether it was locked"),
    "survey.unchecked.streams-only": Message(
        "ตรวจผ่านสตรีมออนไลน์ (HLS) เท่านั้น ไม่ได้วัดจานรับสัญญาณ; "
        "สตรีมเล่นได้ครบ {share} ของเวลาเรียนที่อ่านได้",
        "watched only through the online streams (HLS), the dish is not measured; every "
        "stream played {share} of readable school hours"),
}

# Words shared by every printed document: signature blocks, office header, page furniture.
_DOCUMENT: dict[str, Message] = {
    "doc.date_line": Message("วันที่ ............................................",
                             "Date ............................................"),
    "doc.sign_line": Message("(ลงชื่อ) ............................................",
                             "(Signed) ............................................"),
    "doc.prepared_by": Message("ผู้จัดทำรายงาน", "Prepared by"),
    "doc.certified_by": Message("ผู้รับรองรายงาน", "Certified by"),
    "doc.report_date": Message("วันที่ {date}", "Date {date}"),
}

# Incidents (dlict.incidents): case fields, statuses, deadlines, CLI tables.
_INCIDENT: dict[str, Message] = {
    "incident.status.new": Message("ใหม่", "new"),
    "incident.status.triage": Message("คัดกรอง", "triage"),
    "incident.status.contained": Message("ควบคุมได้แล้ว", "contained"),
    "incident.status.eradicated": Message("กำจัดแล้ว", "eradicated"),
    "incident.status.recovered": Message("กู้คืนแล้ว", "recovered"),
    "incident.status.closed": Message("ปิดแล้ว", "closed"),
    "incident.status.false-positive": Message("แจ้งเตือนผิดพลาด", "false positive"),
    "incident.category.abusive-content": Message("เนื้อหาที่เป็นภัย", "abusive content"),
    "incident.category.availability": Message("การโจมตีสภาพความพร้อมใช้งานของระบบ",
                                              "availability"),
    "incident.category.fraud": Message("การฉ้อโกง", "fraud"),
    "incident.category.information-gathering": Message("การรวบรวมข้อมูล",
                                                       "information gathering"),
    "incident.category.information-content-security": Message(
        "ความมั่นคงปลอดภัยของข้อมูล", "information content security"),
    "incident.category.intrusion-attempts": Message("ความพยายามบุกรุกเข้าระบบ",
                                                    "intrusion attempts"),
    "incident.category.intrusions": Message("การบุกรุกหรือเจาะระบบได้สำเร็จ", "intrusions"),
    "incident.category.malicious-code": Message("โปรแกรมไม่พึงประสงค์", "malicious code"),
    "incident.category.other": Message("อื่น ๆ", "other"),
    "incident.level.non-serious": Message("ไม่ร้ายแรง", "non-serious"),
    "incident.level.serious": Message("ร้ายแรง", "serious"),
    "incident.level.critical": Message("วิกฤติ", "critical"),
    "incident.deadline.pdpc": Message("แจ้ง สคส. (PDPA ม.37(4))", "PDPC office (PDPA s.37(4))"),
    "incident.deadline.agency": Message("รายงานต้นสังกัด", "agency chain"),
    "incident.deadline.ncsa": Message("แจ้ง สกมช./ThaiCERT", "NCSA/ThaiCERT"),
    "incident.col.case": Message("เลขที่", "Case"),
    "incident.col.status": Message("สถานะ", "Status"),
    "incident.col.level": Message("ระดับ", "Level"),
    "incident.col.title": Message("เรื่อง", "Title"),
    "incident.col.next": Message("กำหนดถัดไป", "Next deadline"),
    "incident.col.deadline": Message("กำหนดส่ง", "Deadline"),
    "incident.col.due": Message("ภายใน", "Due"),
    "incident.col.left": Message("เวลาที่เหลือ", "Time left"),
    "incident.col.when": Message("เวลา", "When"),
    "incident.col.who": Message("ผู้บันทึก", "Who"),
    "incident.col.kind": Message("ประเภท", "Kind"),
    "incident.col.text": Message("รายละเอียด", "Text"),
    "incident.col.task": Message("งาน", "Task"),
    "incident.col.state": Message("สถานะงาน", "State"),
    "incident.col.owner": Message("ผู้รับผิดชอบ", "Owner"),
    "incident.col.value": Message("ค่า", "Value"),
    "incident.col.action": Message("การเปลี่ยนแปลง", "Change"),
    "incident.left": Message("เหลือ {span}", "{span} left"),
    "incident.overdue": Message("เลยกำหนด {span}", "overdue by {span}"),
    "incident.met": Message("ส่งแล้ว {when}", "sent {when}"),
    "incident.span.days": Message("{days} วัน {hours} ชม.", "{days} d {hours} h"),
    "incident.span.hours": Message("{hours} ชม. {minutes} นาที", "{hours} h {minutes} min"),
    "incident.none": Message("ไม่มีกรณีที่เปิดอยู่", "no open cases"),
    "incident.field.aware": Message("ทราบเหตุเมื่อ", "Aware since"),
    "incident.field.opened": Message("เปิดเมื่อ", "Opened"),
    "incident.field.personal": Message("ข้อมูลส่วนบุคคล", "Personal data"),
    "incident.field.category": Message("ประเภทเหตุ (ThaiCERT)", "Category (ThaiCERT)"),
    "incident.field.sites": Message("หน่วยงาน/โรงเรียน", "Sites"),
    "incident.field.hosts": Message("เครื่อง", "Hosts"),
    "incident.field.owner": Message("ผู้รับผิดชอบ", "Owner"),
    "incident.field.reporter": Message("ผู้แจ้ง", "Reporter"),
    "incident.yes": Message("เกี่ยวข้อง", "yes"),
    "incident.no": Message("ไม่เกี่ยวข้อง", "no"),
    "incident.tasks": Message("งาน", "Tasks"),
    "incident.observables": Message("สิ่งบ่งชี้ (IOC)", "Observables"),
    "incident.timeline": Message("ลำดับเหตุการณ์", "Timeline"),
    "incident.trail": Message("บันทึกการเปลี่ยนแปลง", "Audit trail"),
    "incident.deadlines": Message("กำหนดการรายงาน", "Reporting deadlines"),
}

# Incident documents (dlict.incidents.documents): memo, NCSA notification, PDPC draft, annexes.
_INCIDENT_DOCS: dict[str, Message] = {
    # the memo to the office director (บันทึกข้อความ)
    "incdoc.memo.heading": Message("บันทึกข้อความ", "Internal memorandum"),
    "incdoc.memo.department": Message("ส่วนราชการ", "Department"),
    "incdoc.memo.ref": Message("ที่", "Ref."),
    "incdoc.memo.date": Message("วันที่", "Date"),
    "incdoc.memo.subject": Message("เรื่อง", "Subject"),
    "incdoc.memo.to": Message("เรียน", "To"),
    "incdoc.memo.group": Message(
        "กลุ่มส่งเสริมการศึกษาทางไกล เทคโนโลยีสารสนเทศและการสื่อสาร", "DLICT group"),
    "incdoc.memo.phone": Message("โทร. {phone}", "tel. {phone}"),
    "incdoc.memo.subject_text": Message("รายงานเหตุภัยคุกคามทางไซเบอร์ {case}: {title}",
                                        "Cyber-security incident report {case}: {title}"),
    "incdoc.memo.director_of": Message("ผู้อำนวยการ{office}", "Director, {office}"),
    "incdoc.memo.happened": Message("1. เหตุที่เกิดขึ้น", "1. What happened"),
    "incdoc.memo.impact": Message("2. ผลกระทบ", "2. Impact"),
    "incdoc.memo.done": Message("3. การดำเนินการ", "3. What has been done"),
    "incdoc.memo.asked": Message("4. ข้อเสนอเพื่อพิจารณา", "4. What is asked"),
    "incdoc.memo.aware": Message(
        "กลุ่ม DLICT ทราบเหตุเมื่อ {aware} จาก{source} เหตุเริ่มเมื่อ {began} "
        "จัดเป็นเหตุประเภท{category} (ตามการจำแนกของ ThaiCERT)",
        "The DLICT group became aware of the incident at {aware} through {source}; it "
        "began at {began}. ThaiCERT category: {category}."),
    "incdoc.memo.where": Message("หน่วยงานที่ได้รับผลกระทบ: {sites} เครื่องที่ได้รับผลกระทบ: {hosts}",
                                 "Sites affected: {sites}. Hosts affected: {hosts}."),
    "incdoc.memo.level": Message(
        "ระดับภัยคุกคามตาม พ.ร.บ. การรักษาความมั่นคงปลอดภัยไซเบอร์ พ.ศ. 2562: {level}",
        "Threat level under the Cybersecurity Act B.E. 2562: {level}."),
    "incdoc.memo.hosts_count": Message("มีเครื่องที่ได้รับผลกระทบ {count} เครื่อง ใน {sites} หน่วยงาน",
                                       "{count} host(s) affected at {sites} site(s)."),
    "incdoc.memo.personal_yes": Message(
        "เกี่ยวข้องกับข้อมูลส่วนบุคคล: ต้องแจ้งสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล "
        "ภายใน 72 ชั่วโมงนับแต่ทราบเหตุ (พ.ร.บ. คุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 มาตรา 37 (4))",
        "Personal data is involved: the PDPC office must be notified within 72 hours of "
        "becoming aware (PDPA B.E. 2562 s.37(4))."),
    "incdoc.memo.personal_no": Message("ไม่พบว่าเกี่ยวข้องกับข้อมูลส่วนบุคคล",
                                       "No personal data is known to be involved."),
    "incdoc.memo.status": Message("สถานะปัจจุบันของเหตุ: {status}", "Current status: {status}."),
    "incdoc.memo.tasks_done": Message("งานที่ดำเนินการแล้ว", "Tasks done"),
    "incdoc.memo.tasks_open": Message("งานที่อยู่ระหว่างดำเนินการ", "Tasks in progress"),
    "incdoc.memo.evidence": Message(
        "เก็บหลักฐานแล้ว {count} รายการ พร้อมค่า SHA-256 (เอกสารแนบ: บัญชีหลักฐาน)",
        "{count} evidence item(s) kept with their SHA-256 (annex: evidence list)."),
    "incdoc.memo.ask_report": Message("อนุมัติให้{what} ภายใน {due}", "Approve: {what}, by {due}."),
    "incdoc.memo.ask_reported": Message("{what}: รายงานแล้วเมื่อ {met}", "{what}: reported at {met}."),
    "incdoc.memo.closing": Message("จึงเรียนมาเพื่อโปรดทราบและพิจารณา",
                                   "Submitted for your information and consideration."),
    "incdoc.memo.opinion": Message("ความเห็น/สั่งการของผู้อำนวยการ", "Director's opinion / orders"),
    "incdoc.memo.writer": Message("ผู้รายงาน", "Reported by"),
    # the NCSA / ThaiCERT notification
    "incdoc.ncsa.title": Message("แบบแจ้งเหตุภัยคุกคามทางไซเบอร์ ถึง สกมช. / ThaiCERT",
                                 "Cyber-security incident notification to NCSA / ThaiCERT"),
    "incdoc.ncsa.reporter": Message("1. หน่วยงานผู้แจ้ง", "1. Reporting organisation"),
    "incdoc.ncsa.incident": Message("2. ข้อมูลเหตุ", "2. The incident"),
    "incdoc.ncsa.affected": Message("3. ระบบที่ได้รับผลกระทบ", "3. Systems affected"),
    "incdoc.ncsa.indicators": Message("4. ข้อบ่งชี้ (IP, โดเมน, URL, ค่าแฮช, บัญชี, MAC)",
                                      "4. Indicators (IP, domain, URL, hash, account, MAC)"),
    "incdoc.ncsa.description": Message("5. รายละเอียดและวิธีที่ตรวจพบ", "5. Description and detection"),
    "incdoc.ncsa.impact": Message("6. ผลกระทบ", "6. Impact"),
    "incdoc.ncsa.actions": Message("7. การดำเนินการรับมือ", "7. Response actions"),
    "incdoc.ncsa.evidence": Message("8. หลักฐาน", "8. Evidence"),
    "incdoc.ncsa.help": Message("9. ความช่วยเหลือที่ต้องการ", "9. Assistance requested"),
    "incdoc.ncsa.source": Message(
        "หัวข้อของแบบนี้ตามข้อมูลที่ ThaiCERT ต้องใช้ในการประสานเหตุ และแบบรายงานเหตุของ CERT/CC "
        "ที่ CERT ทั่วไปใช้; ประกาศคณะกรรมการกำกับดูแลด้านความมั่นคงปลอดภัยไซเบอร์ "
        "เรื่อง หลักเกณฑ์และวิธีการรายงานภัยคุกคามทางไซเบอร์ พ.ศ. 2566 เป็นฐานของการรายงาน",
        "Fields after what ThaiCERT needs to coordinate an incident and the CERT/CC incident "
        "reporting form most CERTs adapt; reporting rests on the Cybersecurity Regulating "
        "Committee's notification on cyber-threat reporting B.E. 2566."),
    "incdoc.field.organisation": Message("ชื่อหน่วยงาน", "Organisation"),
    "incdoc.field.sector": Message("ประเภทหน่วยงาน", "Sector"),
    "incdoc.field.sector_value": Message("หน่วยงานของรัฐ ด้านการศึกษา", "Government agency, education"),
    "incdoc.field.address": Message("ที่อยู่", "Address"),
    "incdoc.field.contact": Message("ผู้ประสานงาน", "Contact person"),
    "incdoc.field.phone": Message("โทรศัพท์", "Phone"),
    "incdoc.field.email": Message("อีเมล", "E-mail"),
    "incdoc.field.case": Message("เลขที่เหตุ", "Incident reference"),
    "incdoc.field.title": Message("ชื่อเหตุ", "Title"),
    "incdoc.field.category": Message("ประเภทเหตุ (ThaiCERT/eCSIRT)", "Category (ThaiCERT/eCSIRT)"),
    "incdoc.field.level": Message("ระดับภัยคุกคาม", "Threat level"),
    "incdoc.field.status": Message("สถานะ", "Status"),
    "incdoc.field.began": Message("วันเวลาที่เกิดเหตุ", "Date and time it began"),
    "incdoc.field.aware": Message("วันเวลาที่ทราบเหตุ", "Date and time the office became aware"),
    "incdoc.field.detected_by": Message("ตรวจพบโดย", "Detected by"),
    "incdoc.field.reported": Message("วันเวลาที่จัดทำรายงาน", "Date and time of this report"),
    "incdoc.field.personal": Message("เกี่ยวข้องกับข้อมูลส่วนบุคคล", "Personal data involved"),
    "incdoc.field.sites": Message("หน่วยงาน/โรงเรียน", "Sites"),
    "incdoc.field.hosts": Message("เครื่อง", "Hosts"),
    "incdoc.field.kind": Message("ชนิด", "Kind"),
    "incdoc.field.value": Message("ค่า", "Value"),
    "incdoc.field.note": Message("หมายเหตุ", "Note"),
    "incdoc.field.task": Message("งาน", "Task"),
    "incdoc.field.state": Message("สถานะ", "State"),
    "incdoc.field.owner": Message("ผู้รับผิดชอบ", "Owner"),
    "incdoc.field.deadline": Message("กำหนดรายงาน", "Reporting deadline"),
    "incdoc.field.due": Message("ภายใน", "Due"),
    "incdoc.field.basis": Message("ที่มา", "Basis"),
    "incdoc.field.met": Message("รายงานแล้วเมื่อ", "Reported at"),
    "incdoc.yes": Message("ใช่", "yes"),
    "incdoc.no": Message("ไม่ใช่", "no"),
    "incdoc.none": Message("ไม่มี", "none"),
    "incdoc.not_met": Message("ยังไม่ได้รายงาน", "not yet reported"),
    "incdoc.fill": Message("....................................................................",
                           "...................................................................."),
    "incdoc.evidence_count": Message(
        "หลักฐาน {count} รายการ พร้อมค่า SHA-256 ตามเอกสารแนบ: บัญชีหลักฐาน",
        "{count} evidence item(s) with their SHA-256: see the evidence annex."),
    # the PDPC breach-notification draft
    "incdoc.pdpc.title": Message("ร่าง แบบแจ้งเหตุการละเมิดข้อมูลส่วนบุคคล",
                                 "DRAFT personal-data breach notification"),
    "incdoc.pdpc.to": Message("เรียน เลขาธิการคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล",
                              "To: the Secretary-General, Personal Data Protection Committee"),
    "incdoc.pdpc.law": Message(
        "แจ้งตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 มาตรา 37 (4) ภายใน 72 ชั่วโมง "
        "นับแต่ทราบเหตุ (ทราบเหตุเมื่อ {aware}; ครบกำหนด {due})",
        "Notified under PDPA B.E. 2562 s.37(4), within 72 hours of becoming aware (aware at "
        "{aware}; due {due})."),
    "incdoc.pdpc.controller": Message("1. ผู้ควบคุมข้อมูลส่วนบุคคล", "1. Data controller"),
    "incdoc.pdpc.nature": Message("2. ลักษณะของการละเมิด", "2. Nature of the breach"),
    "incdoc.pdpc.subjects": Message("3. ข้อมูลส่วนบุคคลและเจ้าของข้อมูลที่ได้รับผลกระทบ",
                                    "3. Personal data and data subjects affected"),
    "incdoc.pdpc.kinds": Message("ประเภทข้อมูลส่วนบุคคล", "Kinds of personal data"),
    "incdoc.pdpc.subject_count": Message("จำนวนเจ้าของข้อมูลโดยประมาณ",
                                         "Approximate number of data subjects"),
    "incdoc.pdpc.record_count": Message("จำนวนรายการข้อมูลโดยประมาณ",
                                        "Approximate number of records"),
    "incdoc.pdpc.systems": Message("ระบบ/เครื่องที่เก็บข้อมูล", "Systems holding the data"),
    "incdoc.pdpc.consequences": Message("4. ผลกระทบที่อาจเกิดขึ้นกับเจ้าของข้อมูล",
                                        "4. Likely consequences for the data subjects"),
    "incdoc.pdpc.measures": Message("5. มาตรการที่ดำเนินการแล้วและที่จะดำเนินการ",
                                    "5. Measures taken and to be taken"),
    "incdoc.pdpc.contact": Message("6. ผู้ติดต่อ", "6. Contact"),
    "incdoc.pdpc.fill_note": Message(
        "ช่องที่เป็นเส้นประ dlict ไม่มีข้อมูล ให้ผู้รับผิดชอบกรอกก่อนส่ง",
        "Dotted fields are not known to dlict: fill them in before sending."),
    "incdoc.pdpc.signer": Message("ผู้แจ้งในนามผู้ควบคุมข้อมูลส่วนบุคคล",
                                  "For the data controller"),
    # the annexes
    "incdoc.timeline.title": Message("เอกสารแนบ: ลำดับเหตุการณ์ {case}", "Annex: timeline of {case}"),
    "incdoc.timeline.note": Message("เวลาประเทศไทย (UTC+7) ปีเป็นพุทธศักราช",
                                    "Bangkok time (UTC+07:00)."),
    "incdoc.timeline.number": Message("ลำดับ", "No."),
    "incdoc.timeline.when": Message("วันเวลา", "When"),
    "incdoc.timeline.kind": Message("ประเภท", "Kind"),
    "incdoc.timeline.text": Message("รายละเอียด", "What"),
    "incdoc.timeline.who": Message("ผู้บันทึก", "Recorded by"),
    "incdoc.timeline.empty": Message("ยังไม่มีบันทึกเหตุการณ์", "No timeline entries yet."),
    "incdoc.evidence.title": Message("เอกสารแนบ: บัญชีหลักฐาน {case}", "Annex: evidence of {case}"),
    "incdoc.evidence.note": Message(
        "ค่า SHA-256 ของแต่ละไฟล์ตรวจได้ด้วยคำสั่ง sha256sum; ลำดับรายการเชื่อมกันเป็นสายแฮช"
        "และลงลายมือชื่อดิจิทัล ตรวจทั้งชุดได้ด้วย dlict incident evidence verify",
        "Check each file's SHA-256 with sha256sum; the entries are hash-chained and signed: "
        "check the whole set with dlict incident evidence verify."),
    "incdoc.evidence.name": Message("ชื่อไฟล์", "File"),
    "incdoc.evidence.size": Message("ขนาด (ไบต์)", "Size (bytes)"),
    "incdoc.evidence.stored": Message("การเก็บ", "Kept as"),
    "incdoc.evidence.stored.copy": Message("สำเนา", "copy"),
    "incdoc.evidence.stored.reference": Message("อ้างอิงตำแหน่งเดิม", "reference"),
    "incdoc.evidence.added": Message("เพิ่มโดย / เมื่อ", "Added by / at"),
    "incdoc.evidence.empty": Message("ยังไม่มีหลักฐานในเหตุนี้", "No evidence in this case yet."),
    "incdoc.evidence.certify": Message("ผู้รับรองบัญชีหลักฐาน", "Certified by"),
    "incdoc.generated": Message("จัดทำโดย dlict {version}", "Produced by dlict {version}"),
    # words for the case model's values
    "incdoc.category.abusive-content": Message("เนื้อหาที่เป็นภัย", "abusive content"),
    "incdoc.category.availability": Message("การโจมตีสภาพความพร้อมใช้งาน", "availability"),
    "incdoc.category.fraud": Message("การฉ้อฉล", "fraud"),
    "incdoc.category.information-gathering": Message("การรวบรวมข้อมูล", "information gathering"),
    "incdoc.category.information-content-security": Message("ความมั่นคงปลอดภัยของข้อมูล",
                                                           "information content security"),
    "incdoc.category.intrusion-attempts": Message("ความพยายามบุกรุก", "intrusion attempts"),
    "incdoc.category.intrusions": Message("การบุกรุกสำเร็จ", "intrusions"),
    "incdoc.category.malicious-code": Message("โปรแกรมไม่พึงประสงค์", "malicious code"),
    "incdoc.category.other": Message("อื่น ๆ", "other"),
    "incdoc.task.open": Message("ยังไม่เริ่ม", "open"),
    "incdoc.task.doing": Message("กำลังดำเนินการ", "doing"),
    "incdoc.task.done": Message("เสร็จแล้ว", "done"),
    "incdoc.task.cancelled": Message("ยกเลิก", "cancelled"),
    "incdoc.observable.ip": Message("ที่อยู่ IP", "IP address"),
    "incdoc.observable.domain": Message("โดเมน", "domain"),
    "incdoc.observable.url": Message("ที่อยู่เว็บ (URL)", "URL"),
    "incdoc.observable.hash": Message("ค่าแฮช", "hash"),
    "incdoc.observable.account": Message("บัญชีผู้ใช้", "account"),
    "incdoc.observable.mac": Message("ที่อยู่ MAC", "MAC address"),
    "incdoc.source.manual": Message("การแจ้งของผู้ใช้", "a report by a person"),
    "incdoc.source.alertmanager": Message("การแจ้งเตือนของระบบเฝ้าระวัง",
                                          "a monitoring alert"),
    "incdoc.source.audit": Message("การตรวจมาตรการ (dlict audit)",
                                   "a controls audit (dlict audit)"),
    "incdoc.source.netscan": Message("การสแกนเครือข่าย (dlict netscan)",
                                     "a network scan (dlict netscan)"),
    "incdoc.source.agent": Message("ตัวแทนตรวจที่โรงเรียน (dlict agent)",
                                   "a school agent (dlict agent)"),
    "incdoc.deadline.pdpc": Message("แจ้งสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล",
                                    "notify the PDPC office"),
    "incdoc.deadline.agency": Message("รายงานหน่วยงานต้นสังกัด (สพฐ.)",
                                      "report to the parent agency (OBEC)"),
    "incdoc.deadline.ncsa": Message("รายงาน สกมช./ThaiCERT", "report to NCSA/ThaiCERT"),
}

# `dlict report compliance` (dlict.reports.compliance).
_COMPLIANCE: dict[str, Message] = {
    "compliance.title": Message(
        "รายงานผลการดำเนินงานด้านความมั่นคงปลอดภัยไซเบอร์ตามมาตรการ SOP ข้อ 5.5",
        "Cyber-security operations report by SOP clause 5.5"),
    "compliance.report_of": Message("รายงานของ", "Report of the "),
    "compliance.period": Message("ระหว่างวันที่ {start} ถึงวันที่ {end} ({days} วัน)",
                                 "From {start} to {end} ({days} days)"),
    "compliance.previous": Message("เทียบกับช่วงก่อนหน้า {start} ถึง {end}",
                                   "Compared with the previous period {start} to {end}"),
    "compliance.scope_all": Message("ขอบเขต: ทุกหน่วยงานในเขตพื้นที่",
                                    "Scope: every site of the district"),
    "compliance.scope_site": Message("ขอบเขต: {code} {name}", "Scope: {code} {name}"),
    "compliance.made": Message("จัดทำเมื่อ {when}", "Produced {when}"),
    "compliance.how": Message(
        "นับจากผลการตรวจล่าสุดของแต่ละเครื่องและแต่ละมาตรการภายในช่วงเวลารายงาน "
        "(dlict audit, netdev audit, netscan, ตัวแทนโรงเรียน) เครื่องที่ติดต่อไม่ได้นับแยก "
        "ไม่นับเป็นไม่ผ่าน",
        "Each host's latest result for each control within the period (dlict audit, netdev "
        "audit, netscan, school agents). Unreachable hosts are counted apart, not as failures."),
    "compliance.summary": Message("สรุปผลรายข้อของ SOP", "Summary by SOP clause"),
    "compliance.clause": Message("ข้อ", "Clause"),
    "compliance.area": Message("ด้าน", "Area"),
    "compliance.controls": Message("มาตรการ", "Controls"),
    "compliance.compliant": Message("ผ่าน/ตรวจได้", "Compliant/judged"),
    "compliance.hosts": Message("เครื่องที่ผ่านทุกมาตรการ", "Hosts compliant"),
    "compliance.score": Message("ร้อยละ", "Score"),
    "compliance.score_before": Message("ช่วงก่อน", "Previous"),
    "compliance.change": Message("เปลี่ยนแปลง", "Change"),
    "compliance.unreachable": Message("ติดต่อไม่ได้", "Unreachable"),
    "compliance.not_applicable": Message("ไม่เกี่ยวข้อง", "N/A"),
    "compliance.total": Message("รวมทั้งเขต", "Total"),
    "compliance.failures": Message("รายการที่ไม่ผ่าน (เรียงตามความรุนแรง)",
                                   "Failures, most severe first"),
    "compliance.no_failures": Message("ไม่มีรายการที่ไม่ผ่านในช่วงเวลานี้",
                                      "No control fails in this period."),
    "compliance.site": Message("หน่วยงาน", "Site"),
    "compliance.host": Message("เครื่อง", "Host"),
    "compliance.control": Message("มาตรการ", "Control"),
    "compliance.severity": Message("ความรุนแรง", "Severity"),
    "compliance.evidence": Message("หลักฐาน", "Evidence"),
    "compliance.fix": Message("วิธีแก้ไข", "Fix"),
    "compliance.run": Message("ครั้งที่ตรวจ", "Run"),
    "compliance.runs": Message("ครั้งที่ตรวจ", "Runs"),
    "compliance.severity.critical": Message("วิกฤต", "critical"),
    "compliance.severity.high": Message("สูง", "high"),
    "compliance.severity.medium": Message("ปานกลาง", "medium"),
    "compliance.severity.low": Message("ต่ำ", "low"),
    "compliance.status.pass": Message("ผ่าน", "pass"),
    "compliance.status.fail": Message("ไม่ผ่าน", "fail"),
    "compliance.status.error": Message("ตรวจไม่สำเร็จ", "error"),
    "compliance.status.unreachable": Message("ติดต่อไม่ได้", "unreachable"),
    "compliance.status.skipped": Message("ไม่เกี่ยวข้อง", "not applicable"),
    "compliance.status.none": Message("ยังไม่ได้ตรวจ", "not checked"),
    "compliance.clause_detail": Message("ข้อ {clause} {area}", "Clause {clause}: {area}"),
    "compliance.changes": Message("การเปลี่ยนแปลงจากช่วงก่อนหน้า",
                                  "Changes since the previous period"),
    "compliance.no_changes": Message("ไม่มีการเปลี่ยนแปลง", "No change."),
    "compliance.before": Message("ช่วงก่อน", "Before"),
    "compliance.now": Message("ช่วงนี้", "Now"),
    "compliance.exceptions": Message("ข้อยกเว้นที่ยังมีอยู่", "Open exceptions"),
    "compliance.exceptions_note": Message(
        "dlict บันทึกข้อยกเว้นได้เพียงแบบเดียว คือมาตรการที่ไม่เกี่ยวข้องกับเครื่องนั้น "
        "(พร้อมเหตุผล) ยังไม่มีทะเบียนการผ่อนผันหรือการยอมรับความเสี่ยง",
        "The only exception dlict records is a control that does not concern a host (with the "
        "reason); it keeps no register of waivers or accepted risks."),
    "compliance.no_exceptions": Message("ไม่มีข้อยกเว้น", "No exception."),
    "compliance.reason": Message("เหตุผล", "Reason"),
    "compliance.unreached": Message("เครื่องที่ติดต่อไม่ได้ (นับแยก ไม่นับเป็นไม่ผ่าน)",
                                    "Unreachable hosts (counted apart, not as failures)"),
    "compliance.no_unreached": Message("ติดต่อได้ทุกเครื่อง", "Every host was reached."),
    "compliance.last_seen": Message("เวลาที่ตรวจ", "Observed"),
    "compliance.trend": Message("แนวโน้มคะแนนรายหน่วยงาน (ร้อยละ ณ สิ้นวัน)",
                                "Score trend per site (end of each day)"),
    "compliance.trend_last": Message("ล่าสุด", "Latest"),
    "compliance.references": Message("การตรวจที่อ้างอิง", "Runs referred to"),
    "compliance.kind": Message("ประเภท", "Kind"),
    "compliance.started": Message("เวลาเริ่ม", "Started"),
    "compliance.operator": Message("ผู้สั่งงาน", "Operator"),
    "compliance.run_status": Message("ผล", "Outcome"),
    "compliance.prepared": Message("ผู้จัดทำรายงาน", "Prepared by"),
    "compliance.approved": Message("ผู้รับรอง", "Approved by"),
    "compliance.generated": Message("จัดทำโดย dlict {version}", "Produced by dlict {version}"),
    "compliance.area.firewall": Message("ไฟร์วอลล์", "Firewall"),
    "compliance.area.antivirus": Message("แอนติไวรัส", "Antivirus"),
    "compliance.area.endpoint": Message("ความปลอดภัยเครื่องปลายทาง", "Endpoint security"),
    "compliance.area.identity": Message("การพิสูจน์ตัวตนและควบคุมการเข้าถึง",
                                        "Identity and access control"),
    "compliance.area.logging": Message("การเก็บรักษาข้อมูลจราจรคอมพิวเตอร์ (ล็อก)",
                                       "Log retention"),
}

# `dlict report monthly` (dlict.reports.monthly).
_MONTHLY: dict[str, Message] = {
    "monthly.title": Message("รายงานสถิติการใช้งานระบบคอมพิวเตอร์และเครือข่าย",
                   "Computer and network usage statistics report"),
    "monthly.month": Message("ประจำเดือน",
                   "for"),
    "monthly.period": Message("ช่วงเวลาที่รายงาน",
                   "Period reported:"),
    "monthly.to": Message("ถึง",
                   "to"),
    "monthly.sources": Message("ข้อมูลจากประวัติการวัดใน Prometheus และคลังหลักฐานของ dlict"
                               " (ไม่ได้วัดใหม่) เวลาเรียน: จันทร์–ศุกร์ 08:00–16:00 น.",
                   "Figures from the Prometheus history and dlict's evidence store (not measured"
                   " again). School hours: Monday–Friday 08:00–16:00 Bangkok time."),
    "monthly.totals": Message("ภาพรวมทั้งเขตพื้นที่",
                   "District totals"),
    "monthly.schools": Message("จำนวนโรงเรียน",
                   "Schools"),
    "monthly.without_data": Message("โรงเรียนที่ไม่มีข้อมูล",
                   "Schools without data"),
    "monthly.logs_failing": Message("แหล่งบันทึก log ที่ไม่ครบถ้วน",
                   "Log sources not complete"),
    "monthly.per_amphoe": Message("ความพร้อมใช้งานอินเทอร์เน็ตในเวลาเรียน รายอำเภอ",
                   "Link availability in school hours per amphoe"),
    "monthly.worst": Message("โรงเรียนที่อินเทอร์เน็ตใช้งานได้น้อยที่สุด 10 แห่ง",
                   "The ten schools with the least link availability"),
    "monthly.per_school": Message("รายโรงเรียน",
                   "Per school"),
    "monthly.per_school_more": Message("โรงเรียนที่มีเรื่องด้านความปลอดภัยและการดูแลระบบ",
                   "Schools with security or upkeep findings"),
    "monthly.flagged_none": Message("ไม่มี",
                   "None."),
    "monthly.heat": Message("ความพร้อมใช้งานอินเทอร์เน็ตรายวัน",
                   "Link availability per day"),
    "monthly.heat_legend": Message("หนึ่งช่องต่อหนึ่งวัน: เขียวเข้ม ≥ 99%, เขียวอ่อน ≥ 95%,"
                                   " เหลือง ≥ 80%, แดง < 80%, เทา ไม่มีข้อมูล",
                   "One cell a day: dark green ≥ 99%, light green ≥ 95%,"
                   " yellow ≥ 80%, red < 80%, grey no data"),
    "monthly.incidents": Message("เหตุการณ์ภัยคุกคามทางไซเบอร์ตามประเภท",
                   "Incidents by category"),
    "monthly.cat.abusive-content": Message("เนื้อหาไม่เหมาะสม", "Abusive content"),
    "monthly.cat.availability": Message("การโจมตีสภาพพร้อมใช้งาน", "Availability"),
    "monthly.cat.fraud": Message("การฉ้อโกง", "Fraud"),
    "monthly.cat.information-gathering": Message("การรวบรวมข้อมูล", "Information gathering"),
    "monthly.cat.information-content-security": Message("ความมั่นคงปลอดภัยของข้อมูล",
                                                        "Information content security"),
    "monthly.cat.intrusion-attempts": Message("ความพยายามบุกรุก", "Intrusion attempts"),
    "monthly.cat.intrusions": Message("การบุกรุก", "Intrusions"),
    "monthly.cat.malicious-code": Message("โปรแกรมไม่พึงประสงค์", "Malicious code"),
    "monthly.cat.other": Message("อื่น ๆ", "Other"),
    "monthly.incidents_none": Message("ไม่มีเหตุการณ์ในเดือนนี้",
                   "No incidents this month."),
    "monthly.category": Message("ประเภท",
                   "Category"),
    "monthly.count": Message("จำนวน",
                   "Count"),
    "monthly.logs": Message("สถานะการจัดเก็บ log รายแหล่ง",
                   "Log retention per source"),
    "monthly.logs_none": Message("ไม่มีการตรวจ log (dlict logs check) ในเดือนนี้",
                   "No log check (dlict logs check) this month."),
    "monthly.host": Message("เครื่อง",
                   "Host"),
    "monthly.status": Message("สถานะ",
                   "Status"),
    "monthly.evidence": Message("หลักฐาน",
                   "Evidence"),
    "monthly.ok": Message("ครบถ้วน",
                   "complete"),
    "monthly.not_ok": Message("ไม่ครบถ้วน",
                   "not complete"),
    "monthly.changes": Message("การเปลี่ยนแปลงการตั้งค่าอุปกรณ์เครือข่าย",
                   "Network device configuration changes"),
    "monthly.changes_none": Message("ไม่มีการเปลี่ยนแปลงในเดือนนี้",
                   "No changes this month."),
    "monthly.when": Message("เวลา",
                   "When"),
    "monthly.note": Message("บันทึก",
                   "Note"),
    "monthly.silent": Message("agent ที่ไม่ส่งข้อมูลเกิน 1 วัน",
                   "Agents silent for more than a day"),
    "monthly.silent_none": Message("ไม่มี",
                   "None."),
    "monthly.last_seen": Message("ได้รับข้อมูลล่าสุด",
                   "Last heard"),
    "monthly.generated": Message("จัดทำโดย dlict {version} เมื่อ {when}",
                   "Made by dlict {version} at {when}"),
    "monthly.prepared_by": Message("ผู้จัดทำรายงาน",
                   "Prepared by"),
    "monthly.approved_by": Message("ผู้ตรวจรับรอง",
                   "Approved by"),
    "monthly.col.code": Message("รหัสโรงเรียน",
                   "School code"),
    "monthly.col.name": Message("ชื่อโรงเรียน",
                   "School name"),
    "monthly.col.amphoe": Message("อำเภอ",
                   "Amphoe"),
    "monthly.col.school_hours": Message("อินเทอร์เน็ตใช้งานได้ในเวลาเรียน (%)",
                   "Link up in school hours (%)"),
    "monthly.col.link": Message("อินเทอร์เน็ตใช้งานได้ตลอดเดือน (%)",
                   "Link up, whole month (%)"),
    "monthly.col.dltv": Message("รับสัญญาณ DLTV ได้ในเวลาเรียน (%)",
                   "DLTV received in school hours (%)"),
    "monthly.col.loss": Message("แพ็กเก็ตสูญหาย (%)",
                   "Packet loss (%)"),
    "monthly.col.rtt_median": Message("RTT มัธยฐาน (ms)",
                   "RTT median (ms)"),
    "monthly.col.rtt_p95": Message("RTT p95 (ms)",
                   "RTT p95 (ms)"),
    "monthly.col.av": Message("เครื่องที่แอนติไวรัสไม่ผ่าน",
                   "Hosts failing antivirus checks"),
    "monthly.col.changes": Message("การเปลี่ยนแปลงการตั้งค่าอุปกรณ์",
                   "Device configuration changes"),
    "monthly.col.silent": Message("agent ที่เงียบ",
                   "Agents silent"),
}

# Access requests (dlict.access): the request form and the workflow.
_ACCESS: dict[str, Message] = {
    "access.form.title": Message("แบบคำร้องขอเข้าถึงระบบสารสนเทศ",
                                 "Request for access to information systems"),
    "access.form.number": Message("เลขที่คำร้อง", "Request no."),
    "access.form.requester": Message("ส่วนที่ 1 ผู้ยื่นคำร้อง", "Part 1 Requester"),
    "access.form.full_name": Message("ชื่อ-นามสกุล", "Full name"),
    "access.form.national_id": Message("เลขประจำตัวประชาชน", "National ID"),
    "access.form.position": Message("ตำแหน่ง", "Position"),
    "access.form.unit": Message("สังกัด/หน่วยงาน", "Unit"),
    "access.form.phone": Message("โทรศัพท์", "Phone"),
    "access.form.email": Message("อีเมล", "E-mail"),
    "access.form.systems": Message("ระบบที่ขอเข้าถึง", "Systems asked for"),
    "access.form.hosts": Message("เครื่องแม่ข่าย/กลุ่มเครื่อง", "Hosts or groups"),
    "access.form.login": Message("ชื่อบัญชีผู้ใช้", "Login name"),
    "access.form.purpose": Message("วัตถุประสงค์", "Purpose"),
    "access.form.duration": Message("ระยะเวลาที่ขอ", "Duration asked for"),
    "access.form.days": Message("{days} วัน", "{days} days"),
    "access.form.received": Message("วันที่รับคำร้อง", "Received on"),
    "access.form.sla": Message("กำหนดพิจารณาให้แล้วเสร็จ (3–5 วันทำการ)",
                               "Decision due (3–5 working days)"),
    "access.form.sla_window": Message("ระหว่าง {earliest} ถึง {due}", "between {earliest} and {due}"),
    "access.form.status": Message("สถานะ", "Status"),
    "access.form.expires": Message("สิ้นสุดสิทธิ์", "Access ends"),
    "access.form.office_use": Message("ส่วนที่ 2 สำหรับเจ้าหน้าที่", "Part 2 For the office"),
    "access.form.declaration": Message(
        "ข้าพเจ้าขอรับรองว่าข้อมูลข้างต้นเป็นความจริง และจะใช้สิทธิ์เข้าถึงระบบตามวัตถุประสงค์ที่ระบุ"
        "เท่านั้น โดยปฏิบัติตามนโยบายความมั่นคงปลอดภัยสารสนเทศของสำนักงาน",
        "I certify that the above is true and will use this access only for the purpose stated, "
        "following the office's information security policy."),
    "access.form.role.requester": Message("ผู้ยื่นคำร้อง", "Requester"),
    "access.form.role.checker": Message("ผู้ตรวจสอบสิทธิ์", "Rights checked by"),
    "access.form.role.approver": Message("ผู้อนุมัติ", "Approved by"),
    "access.form.checker_title": Message("เจ้าหน้าที่กลุ่ม DLICT", "DLICT group officer"),
    "access.form.decision": Message("( ) อนุมัติ   ( ) ไม่อนุมัติ", "( ) Approved   ( ) Not approved"),
    "access.status.received": Message("รับคำร้องแล้ว", "received"),
    "access.status.checked": Message("ตรวจสอบสิทธิ์แล้ว", "rights checked"),
    "access.status.approved": Message("อนุมัติแล้ว", "approved"),
    "access.status.rejected": Message("ไม่อนุมัติ", "rejected"),
    "access.status.revoked": Message("ยกเลิกสิทธิ์แล้ว", "revoked"),
    "access.status.expired": Message("หมดอายุ", "expired"),
}

CATALOGUE: Final[dict[str, Message]] = {
    **_CLI, **_TIME, **_AUDIT, **_LOGS, **_SURVEY, **_DOCUMENT, **_INCIDENT, **_INCIDENT_DOCS,
    **_COMPLIANCE, **_MONTHLY, **_ACCESS,
}


def is_thai(lang: str) -> bool:
    """Thai is the default: any language but English reads Thai."""
    return lang != "en"


def lookup(key: str, lang: str) -> str | None:
    """The raw text of ``key`` in ``lang`` (its ``{fields}`` unfilled), or None if unknown."""
    message = CATALOGUE.get(key)
    if message is None:
        return None
    return message.th if is_thai(lang) else message.en


def text(key: str, lang: str, /, **fields: object) -> str:
    """The message ``key`` in ``lang``, its ``{name}`` places filled from ``fields``.

    Raises:
        KeyError: no such message (a programming error: ids are fixed in the code).
    """
    found = lookup(key, lang)
    if found is None:
        raise KeyError(f"no message {key!r} in dlict.i18n")
    return found.format(**fields) if fields else found


def pick(th: str, en: str, lang: str) -> str:
    """One of a pair the data gives in both languages (a school's name, a control's title)."""
    return th if is_thai(lang) else en


class Named(Protocol):
    @property
    def name_th(self) -> str: ...

    @property
    def name_en(self) -> str: ...


def name_of(thing: Named, lang: str) -> str:
    """A bilingual object's ``name_th`` or ``name_en``."""
    return pick(thing.name_th, thing.name_en, lang)


def date_text(day: date, lang: str, *, era: bool = False) -> str:
    """``2 ธันวาคม 2569`` in Thai (``2 ธันวาคม พ.ศ. 2569`` with ``era``), ISO in English."""
    if not is_thai(lang):
        return day.isoformat()
    year = f"พ.ศ. {day.year + BE_OFFSET}" if era else str(day.year + BE_OFFSET)
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {year}"


def local_time_text(local: datetime, lang: str) -> str:
    """A moment already in Bangkok time: ``2 ธันวาคม 2569 10:04:05 น.`` or
    ``2026-12-02 10:04:05 (UTC+07:00)``."""
    return text("time.moment", lang, day=local.day, month=THAI_MONTHS[local.month - 1],
                year=local.year + BE_OFFSET, iso=f"{local:%Y-%m-%d}", clock=f"{local:%H:%M:%S}")
