"""``dlict facts``: reach every Linux host over SSH and record what it runs."""

from __future__ import annotations

from typing import Annotated

import typer
from loguru import logger
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption
from dlict.cli.results_view import log_results, print_results, run_as_dict
from dlict.cli.text import shown
from dlict.core.results import Result
from dlict.inventory import Role
from dlict.playbooks.facts import gather_facts


def facts(
    ctx: typer.Context,
    limit: Annotated[
        str | None,
        typer.Option("--limit", "-l", help="Ansible host pattern: a site group or host."),
    ] = None,
    _json: JsonOption = False,
) -> None:
    """Reach every Linux host over SSH (host keys verified) and record its facts."""
    actx = app_context(ctx)
    inv = actx.inventory()
    settings = actx.settings
    total = len(inv.hosts_in_role(Role.LINUX_SERVER))
    with actx.recording("facts") as recorder:
        logger.info("facts run {} started on {} Linux hosts (limit {})", recorder.id, total,
                    limit)
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=actx.console,
                            disable=actx.json_output, transient=True)
        with progress:
            task = progress.add_task("facts", total=total)

            def advance(result: Result) -> None:
                progress.update(task, advance=1,
                                description=shown(f"{result.host}: {result.status}"))

            results = gather_facts(inv, limit=limit, forks=settings.forks,
                                   timeout=settings.ssh_timeout, on_result=advance)
        record = recorder.finish(results)
    log_results("facts", record.id, results)
    if actx.json_output:
        actx.print_json(run_as_dict(record.run, results))
    else:
        print_results(actx.console, results, actx.lang, f"facts — run {record.id}")
        actx.console.print(f"stored as run {record.id} in {shown(settings.store_path)}")
    if record.exit_code:
        raise typer.Exit(record.exit_code)
