"""Words shown to the user in tables and reports, in Thai (default) and English; and how a
value that is not ours (a school's name, a host, a log line) is made safe to print."""

from __future__ import annotations

import json
import re

from rich.markup import escape as markup_escape

from dlict.core.printable import printable

__all__ = ["json_text", "printable", "shown", "word"]

WORDS: dict[str, dict[str, str]] = {
    "site": {"th": "หน่วยงาน", "en": "Site"},
    "code": {"th": "รหัส", "en": "Code"},
    "name": {"th": "ชื่อ", "en": "Name"},
    "amphoe": {"th": "อำเภอ", "en": "District"},
    "host": {"th": "เครื่อง", "en": "Host"},
    "address": {"th": "ที่อยู่", "en": "Address"},
    "roles": {"th": "บทบาท", "en": "Roles"},
    "control": {"th": "รายการตรวจ", "en": "Control"},
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
    "skipped": {"th": "ไม่เกี่ยวข้อง", "en": "n/a"},
    "ok": {"th": "ปกติ", "en": "ok"},
    "findings": {"th": "มีข้อตรวจพบ", "en": "findings"},
    "running": {"th": "กำลังทำงาน", "en": "running"},
    "sites_hosts": {"th": "{sites} หน่วยงาน ({schools} โรงเรียน), {hosts} เครื่อง",
                    "en": "{sites} sites ({schools} schools), {hosts} hosts"},
}


def word(key: str, lang: str) -> str:
    """The word for ``key`` in ``lang``; the key itself when there is none."""
    return WORDS.get(key, {}).get(lang, key)


# What JSON (ensure_ascii off, for Thai) would still write raw: JSON escapes C0 itself.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` ready for Rich (console, table cell or title, progress text): printable, and
    its ``[...]`` shown as written, never read as markup."""
    return markup_escape(printable(value, keep_newlines=keep_newlines))


def json_text(data: object) -> str:
    """``data`` as indented JSON that keeps Thai readable but writes every control character
    as a ``\\u`` escape: the same values, nothing a terminal would act on."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
