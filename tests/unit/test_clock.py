"""Times are shown in Bangkok time with Buddhist-Era years in Thai."""

from __future__ import annotations

from datetime import UTC, datetime

from dlict.core.clock import format_local


def test_thai_date_has_buddhist_era_year_and_bangkok_time() -> None:
    moment = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)  # 00:30 on the 22nd in Bangkok
    assert format_local(moment, "th") == "22 พฤศจิกายน 2569 00:30:00 น."


def test_english_date_is_iso_like_in_bangkok_time() -> None:
    moment = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    assert format_local(moment, "en") == "2026-11-22 00:30:00 (UTC+07:00)"
