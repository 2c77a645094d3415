"""Working days: Monday to Friday less the Thai public holidays of a data file the office keeps.

The shipped file (``data/holidays_th.yml``) lists the years it covers; the inventory may name
the office's own copy (``dlict_access.holidays_file``). A year not covered counts weekends only,
and ``uncovered_years`` says which, so that the office is told to update the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from dlict.core.errors import InputError
from dlict.core.yamlfile import load_yaml_file, load_yaml_text

SHIPPED = "holidays_th.yml"


class _Holiday(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    name_th: str
    name_en: str = ""


class _HolidayFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    years: list[int]
    holidays: list[_Holiday]


@dataclass(frozen=True)
class Calendar:
    """Which days are working days."""

    holidays: dict[date, str]
    years: frozenset[int]
    source: str

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (the day received is day 0)."""
        current = start
        counted = 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def uncovered_years(self, days: Iterable[date]) -> list[int]:
        return sorted({d.year for d in days} - self.years)


def load_calendar(path: Path | None = None) -> Calendar:
    """The holidays of ``path`` (the office's file), else of the shipped file.

    Raises:
        InputError: the file is missing, malformed or has a field wrong, naming it.
    """
    where = f"(dlict) {SHIPPED}" if path is None else str(path)
    try:
        if path is None:
            text = files("dlict.access").joinpath("data", SHIPPED).read_text(encoding="utf-8")
            data = load_yaml_text(Path(SHIPPED), text)
        else:
            data = load_yaml_file(path)
    except ValueError as exc:  # the YAML loader's own dates: 2028-02-30
        raise InputError(f"{where}: holiday file: {exc}") from None
    try:
        parsed = _HolidayFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: holiday file: {place}: {first['msg']}") from None
    return Calendar({h.date: h.name_th for h in parsed.holidays}, frozenset(parsed.years), where)
