"""Time: stored as UTC, shown in Asia/Bangkok, Buddhist-Era years in Thai text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543

THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime; a naive one is refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: dlict stores only timezone-aware times")
    return moment.astimezone(UTC)


def format_local(moment: datetime, lang: str = "th") -> str:
    """Show a moment in Bangkok time: Thai with a B.E. year, or ISO-like English."""
    local = to_utc(moment).astimezone(BANGKOK)
    if lang == "th":
        month = THAI_MONTHS[local.month - 1]
        return f"{local.day} {month} {local.year + BE_OFFSET} {local:%H:%M:%S} น."
    return f"{local:%Y-%m-%d %H:%M:%S} (UTC+07:00)"
