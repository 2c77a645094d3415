"""``dlict runs``: what has been run and what it found, from the evidence store."""

from __future__ import annotations

from typing import Annotated

import typer

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption, number_option
from dlict.cli.results_view import print_results, print_runs, run_as_dict
from dlict.core.numbers import NumberRange

app = typer.Typer(help="Past runs and their results, from the evidence store.",
                  no_args_is_help=True)


@app.command("list")
def list_runs(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option(help="Only runs of this kind (facts, audit, …).")
    ] = None,
    limit: Annotated[int, number_option("--limit", NumberRange(1, 100_000, whole=True),
                                        "How many of the latest runs.")] = 20,
    _json: JsonOption = False,
) -> None:
    """The latest runs, newest first."""
    actx = app_context(ctx)
    with actx.open_store() as store:
        runs = store.runs(kind=kind, limit=limit)
    if actx.json_output:
        actx.print_json([run_as_dict(r, []) | {"results": None, "counts": None} for r in runs])
    else:
        print_runs(actx.console, runs, actx.lang)


@app.command()
def show(ctx: typer.Context, run_id: Annotated[int, typer.Argument(help="Run number.")],
         _json: JsonOption = False) -> None:
    """One run with every result and its evidence."""
    actx = app_context(ctx)
    with actx.open_store() as store:
        run = store.run(run_id)
        results = store.results(run_id)
    if actx.json_output:
        actx.print_json(run_as_dict(run, results))
    else:
        print_results(actx.console, results, actx.lang, f"{run.kind} — run {run.id}")
