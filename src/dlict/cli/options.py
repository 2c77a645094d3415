"""Options shared by the commands: numbers checked where they are typed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dlict.core.numbers import NumberRange


def number_option(name: str, bounds: NumberRange, help_text: str) -> Any:
    """A Typer option taking a number: finite and within ``bounds``, else one line naming
    the option and exit 2 (an InputError, not Click's usage screen or a traceback)."""

    def parse(text: str) -> int | float:
        return bounds.check(name, text)

    return typer.Option(name, parser=parse, help=help_text)


def _json_requested(ctx: typer.Context, value: bool) -> None:
    # Completion parses without running the root callback: there is no context to set then.
    if value and not ctx.resilient_parsing:
        from dlict.cli.context import app_context

        app_context(ctx).json_output = True


# ``dlict X --json``, the same as the global ``dlict --json X``: a command that prints data
# takes ``_json: JsonOption = False`` and reads ``app_context(ctx).json_output`` as before.
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Machine-readable JSON on standard output (as the global --json).",
    callback=_json_requested, expose_value=False)]

# ``--pdf FILE`` of every report: the same page printed on A4, Thai font embedded
# (dlict.reports.pdf); written whole or not at all.
PdfOption = Annotated[Path | None, typer.Option(
    "--pdf", help="Also write the report as PDF (A4, Thai font embedded; --lang en).")]
