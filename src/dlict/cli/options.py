"""Options shared by the commands: numbers checked where they are typed."""

from __future__ import annotations

from typing import Any

import typer

from dlict.core.numbers import NumberRange


def number_option(name: str, bounds: NumberRange, help_text: str) -> Any:
    """A Typer option taking a number: finite and within ``bounds``, else one line naming
    the option and exit 2 (an InputError, not Click's usage screen or a traceback)."""

    def parse(text: str) -> int | float:
        return bounds.check(name, text)

    return typer.Option(name, parser=parse, help=help_text)
