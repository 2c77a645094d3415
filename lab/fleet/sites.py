"""Simulated sites of a Maha Sarakham secondary education service area (all names made up)."""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE = "มหาสารคาม"
PROVINCE_CODE = "44"

#: The districts (อำเภอ) of Maha Sarakham province; schools are spread over them in turn.
AMPHOES: tuple[str, ...] = (
    "เมืองมหาสารคาม",
    "กันทรวิชัย",
    "โกสุมพิสัย",
    "บรบือ",
    "วาปีปทุม",
    "พยัคฆภูมิพิสัย",
    "เชียงยืน",
    "นาเชือก",
    "นาดูน",
    "แกดำ",
    "ยางสีสุราช",
    "กุดรัง",
    "ชื่นชม",
)


@dataclass(frozen=True)
class School:
    """A simulated school with a 10-digit school code."""

    number: int
    code: str
    name_th: str
    name_en: str
    amphoe: str


def school(number: int) -> School:
    """Return simulated school number ``number`` (1-based)."""
    return School(
        number=number,
        code=f"{PROVINCE_CODE}01{number:06d}",
        name_th=f"โรงเรียนจำลองที่ {number}",
        name_en=f"Simulated School {number}",
        amphoe=AMPHOES[(number - 1) % len(AMPHOES)],
    )


def schools(count: int) -> list[School]:
    """Return the first ``count`` simulated schools."""
    return [school(number) for number in range(1, count + 1)]


def school_by_code(code: str) -> School:
    """Return the simulated school whose code is ``code``.

    Raises:
        ValueError: ``code`` is not a simulated school code.
    """
    if len(code) != 10 or not code.startswith(f"{PROVINCE_CODE}01") or not code.isdigit():
        raise ValueError(f"{code!r} is not a simulated school code")
    return school(int(code[4:]))


def office_site() -> dict[str, str]:
    """Return the office's ``dlict_site`` inventory variable."""
    return {
        "name_th": "สำนักงานเขตพื้นที่การศึกษามัธยมศึกษามหาสารคาม (จำลอง)",
        "name_en": "Maha Sarakham Secondary Education Service Area Office (simulated)",
        "amphoe": "เมืองมหาสารคาม",
        "province": PROVINCE,
    }


def school_site(code: str) -> dict[str, str]:
    """Return a school's ``dlict_site`` inventory variable."""
    found = school_by_code(code)
    return {
        "school_code": found.code,
        "name_th": found.name_th,
        "name_en": found.name_en,
        "amphoe": found.amphoe,
        "province": PROVINCE,
    }
