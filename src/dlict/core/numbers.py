"""Numbers given on the command line: whole or decimal, finite, and within a range.

Imports nothing heavy: ``dlict probe`` checks its options through here before anything
else is loaded.
"""

from __future__ import annotations

import math

from dlict.core.errors import InputError


class NumberRange:
    """The values an option accepts: ``low`` to ``high``; above ``low`` only when
    ``low_open`` (a timeout of 0 means nothing)."""

    __slots__ = ("high", "low", "low_open", "whole")

    def __init__(self, low: float, high: float, *, whole: bool = False,
                 low_open: bool = False) -> None:
        self.low = low
        self.high = high
        self.whole = whole
        self.low_open = low_open

    def describe(self) -> str:
        """The accepted values in words: ``1 to 400``, ``more than 0, at most 600``."""
        low, high = _show(self.low), _show(self.high)
        return f"more than {low}, at most {high}" if self.low_open else f"{low} to {high}"

    def check(self, option: str, given: object) -> int | float:
        """``given`` (text or a number) as an int or float within the range.

        Raises:
            InputError: one line naming the option, the value and what it must be.
        """
        value = self._parse(option, given)
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            raise InputError(f"{option}: {given} is out of range ({self.describe()})")
        return value

    def _parse(self, option: str, given: object) -> int | float:
        kind = "a whole number" if self.whole else "a number"
        if isinstance(given, bool):
            raise InputError(f"{option}: '{given}' is not {kind}")
        try:
            if self.whole:
                return given if isinstance(given, int) else int(str(given).strip())
            value = given if isinstance(given, float | int) else float(str(given).strip())
        except ValueError as exc:
            raise InputError(f"{option}: '{given}' is not {kind}") from exc
        if not math.isfinite(value):
            raise InputError(f"{option}: '{given}' is not a finite number")
        return value


def _show(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)
