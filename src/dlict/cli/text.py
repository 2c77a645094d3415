"""Words shown to the user in tables and reports, in Thai (default) and English."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "site": {"th": "หน่วยงาน", "en": "Site"},
    "code": {"th": "รหัส", "en": "Code"},
    "name": {"th": "ชื่อ", "en": "Name"},
    "amphoe": {"th": "อำเภอ", "en": "District"},
    "host": {"th": "เครื่อง", "en": "Host"},
    "address": {"th": "ที่อยู่", "en": "Address"},
    "roles": {"th": "บทบาท", "en": "Roles"},
    "status": {"th": "สถานะ", "en": "Status"},
    "evidence": {"th": "หลักฐาน", "en": "Evidence"},
    "detail": {"th": "รายละเอียด", "en": "Detail"},
    "isp": {"th": "ผู้ให้บริการ", "en": "ISP"},
    "dltv": {"th": "DLTV", "en": "DLTV"},
    "office": {"th": "สำนักงานเขตฯ", "en": "Office"},
    "run": {"th": "ครั้งที่", "en": "Run"},
    "kind": {"th": "ประเภท", "en": "Kind"},
    "started": {"th": "เริ่ม", "en": "Started"},
    "operator": {"th": "ผู้สั่งงาน", "en": "Operator"},
    "pass": {"th": "ผ่าน", "en": "pass"},
    "fail": {"th": "ไม่ผ่าน", "en": "fail"},
    "error": {"th": "ผิดพลาด", "en": "error"},
    "unreachable": {"th": "ติดต่อไม่ได้", "en": "unreachable"},
    "skipped": {"th": "ข้าม", "en": "skipped"},
    "ok": {"th": "ปกติ", "en": "ok"},
    "findings": {"th": "มีข้อตรวจพบ", "en": "findings"},
    "running": {"th": "กำลังทำงาน", "en": "running"},
    "sites_hosts": {"th": "{sites} หน่วยงาน ({schools} โรงเรียน), {hosts} เครื่อง",
                    "en": "{sites} sites ({schools} schools), {hosts} hosts"},
}


def word(key: str, lang: str) -> str:
    """The word for ``key`` in ``lang``; the key itself when there is none."""
    return WORDS.get(key, {}).get(lang, key)
