"""The audit report as one self-contained HTML page, Thai (default) or English."""

from __future__ import annotations

from collections.abc import Sequence

from dlict import __version__
from dlict.controls import Catalog
from dlict.core.clock import format_local
from dlict.core.results import Result, Status
from dlict.core.store import Run
from dlict.inventory import Inventory
from dlict.reports.env import report_environment
from dlict.reports.summary import scores

TEXT = {
    "th": {
        "title": "รายงานผลการตรวจสอบมาตรการความมั่นคงปลอดภัยไซเบอร์ (SOP ข้อ 5.5)",
        "run": "การตรวจครั้งที่", "when": "วันเวลาที่ตรวจ", "by": "ผู้ตรวจ",
        "summary": "สรุปผลรายหน่วยงานและด้าน", "site": "หน่วยงาน", "area": "ด้าน",
        "score": "คะแนน", "details": "รายละเอียดรายเครื่อง", "host": "เครื่อง",
        "control": "มาตรการ", "status": "ผล", "evidence": "หลักฐาน", "district": "ภาพรวมเขต",
        "firewall": "ไฟร์วอลล์ (5.5.1)", "antivirus": "แอนติไวรัส (5.5.2)",
        "endpoint": "ความปลอดภัยเครื่อง (5.5.3)", "identity": "การพิสูจน์ตัวตน (5.5.4)",
        "logging": "การเก็บรักษาล็อก (5.5.5)",
        "pass": "ผ่าน", "fail": "ไม่ผ่าน", "error": "ผิดพลาด", "unreachable": "ติดต่อไม่ได้",
        "skipped": "ข้าม", "signed": "ผู้รับรองรายงาน", "generated": "จัดทำโดย dlict",
    },
    "en": {
        "title": "Cyber-security controls audit report (SOP 5.5)",
        "run": "Audit run", "when": "Audited at", "by": "Audited by",
        "summary": "Summary per site and area", "site": "Site", "area": "Area",
        "score": "Score", "details": "Details per host", "host": "Host",
        "control": "Control", "status": "Result", "evidence": "Evidence",
        "district": "District", "firewall": "Firewall (5.5.1)", "antivirus": "Antivirus (5.5.2)",
        "endpoint": "Endpoint (5.5.3)", "identity": "Identity (5.5.4)",
        "logging": "Log retention (5.5.5)",
        "pass": "pass", "fail": "fail", "error": "error", "unreachable": "unreachable",
        "skipped": "skipped", "signed": "Certified by", "generated": "Produced by dlict",
    },
}


def render_audit_html(run: Run, results: Sequence[Result], catalog: Catalog,
                      inventory: Inventory, lang: str) -> str:
    env = report_environment()
    site_names = {s.id: (s.meta.name_th if lang == "th" else s.meta.name_en)
                  for s in inventory.sites}
    return env.get_template("audit.html.j2").render(
        t=TEXT[lang], lang=lang, run=run, when=format_local(run.started_at, lang),
        scores=scores(results, catalog), results=results, catalog=catalog,
        site_names=site_names, version=__version__, Status=Status,
    )
