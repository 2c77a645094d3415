"""Time: stored as UTC, shown in Asia/Bangkok, Buddhist-Era years in Thai text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dlict.i18n import BE_OFFSET, local_time_text

__all__ = ["BANGKOK", "BE_OFFSET", "format_local", "to_utc", "utc_now"]

BANGKOK = ZoneInfo("Asia/Bangkok")


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime; a naive one is refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: dlict stores only timezone-aware times")
    return moment.astimezone(UTC)


def format_local(moment: datetime, lang: str = "th") -> str:
    """Show a moment in Bangkok time: Thai with a B.E. year, or ISO-like English."""
    return local_time_text(to_utc(moment).astimezone(BANGKOK), lang)
