"""``dlict controls``: the SOP control catalog."""

from __future__ import annotations

import typer
from rich.table import Table

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption
from dlict.controls import load_catalog

app = typer.Typer(help="The SOP control catalog.", no_args_is_help=True)


@app.command("list")
def list_controls(ctx: typer.Context, _json: JsonOption = False) -> None:
    """Every control with its SOP clause, severity and title."""
    actx = app_context(ctx)
    catalog = load_catalog()
    if actx.json_output:
        actx.print_json([c.model_dump(mode="json") for c in catalog.controls])
        return
    table = Table(title=f"{len(catalog.controls)} controls")
    for name in ("ID", "SOP", "severity", "title"):
        table.add_column(name)
    for control in catalog.controls:
        table.add_row(control.id, control.sop_clause, control.severity.value,
                      control.title(actx.lang))
    actx.console.print(table)
