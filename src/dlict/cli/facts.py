"""``dlict facts``: reach every Linux host over SSH and record what it runs."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated

import typer
from loguru import logger
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption
from dlict.cli.results_view import print_results, run_as_dict
from dlict.cli.text import shown
from dlict.core.errors import ExitCode
from dlict.core.results import Result, Status
from dlict.core.store import RunStatus
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
    with actx.open_store() as store:
        run_id = store.start_run("facts", shlex.join(["dlict", *sys.argv[1:]]))
        logger.info("facts run {} started on {} Linux hosts (limit {})", run_id, total, limit)
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
        store.add_results(run_id, results)
        bad = any(r.status is not Status.PASS for r in results)
        store.finish_run(run_id, RunStatus.ERROR if bad else RunStatus.OK)
        for result in results:
            logger.log("INFO" if result.status is Status.PASS else "WARNING",
                       "facts run {}: {} {}: {}", run_id, result.host, result.status.value,
                       result.evidence)
        run = store.run(run_id)
    if actx.json_output:
        actx.print_json(run_as_dict(run, results))
    else:
        print_results(actx.console, results, actx.lang, f"facts — run {run_id}")
        actx.console.print(f"stored as run {run_id} in {shown(settings.store_path)}")
    if bad:
        raise typer.Exit(ExitCode.OPERATIONAL)
