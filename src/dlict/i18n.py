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
    "audit.signed": Message("ผู้รับรองรายงาน", "Certified by"),
    "audit.generated": Message("จัดทำโดย dlict", "Produced by dlict"),
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
    "logs.signed": Message("ผู้รับรองรายงาน", "Certified by"),
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
    "survey.reporter": Message("ผู้รายงาน", "Reported by"),
    "survey.director": Message("ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา",
                               "Director of the Educational Service Area Office"),
    "survey.director_of": Message("ผู้อำนวยการ{office}", "Director of {office}"),
    "survey.date_line": Message("วันที่ ........ เดือน .................... พ.ศ. ..........",
                                "Date ...................."),
    "survey.generated": Message("จัดทำโดย dlict", "Produced by dlict"),
    "survey.count": Message("จำนวน", "Count"),
    "survey.schools": Message("โรงเรียน", "schools"),
    "survey.sign": Message("(ลงชื่อ)", "(Signed)"),
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
}

# Incidents (dlict.incidents): case fields, statuses, deadlines, CLI tables.
_INCIDENT: dict[str, Message] = {
}

# Incident documents (dlict.incidents.reports): memo, NCSA notification, PDPC draft, annexes.
_INCIDENT_DOCS: dict[str, Message] = {
}

# `dlict report compliance` (dlict.reports.compliance).
_COMPLIANCE: dict[str, Message] = {
}

# `dlict report monthly` (dlict.reports.monthly).
_MONTHLY: dict[str, Message] = {
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
