"""Tables and JSON of results, shared by every command that shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from dlict.cli.text import shown, word
from dlict.core.clock import format_local
from dlict.core.results import Result, Status, count_by_status
from dlict.core.store import Run

STATUS_STYLE = {
    Status.PASS: "green", Status.FAIL: "red", Status.ERROR: "red",
    Status.UNREACHABLE: "yellow", Status.SKIPPED: "dim",
}


def result_as_dict(result: Result) -> dict[str, Any]:
    return {
        "site": result.site, "host": result.host, "control": result.control,
        "target": result.target, "status": result.status.value, "evidence": result.evidence,
        "observed_at": result.observed_at.isoformat(),
    }


def run_as_dict(run: Run, results: Sequence[Result]) -> dict[str, Any]:
    return {
        "id": run.id, "kind": run.kind, "command": run.command, "operator": run.operator,
        "dlict_version": run.dlict_version, "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status.value,
        "counts": {k.value: v for k, v in count_by_status(results).items()},
        "results": [result_as_dict(r) for r in results],
    }


def print_results(console: Console, results: Sequence[Result], lang: str, title: str) -> None:
    table = Table(title=shown(title))
    for key in ("site", "host", "control", "status", "evidence"):
        table.add_column(word(key, lang))
    for r in results:
        style = STATUS_STYLE[r.status]
        table.add_row(shown(r.site), shown(r.host), shown(r.control or r.target),
                      f"[{style}]{word(r.status.value, lang)}[/{style}]",
                      shown(r.evidence, keep_newlines=True))
    console.print(table)
    counts = count_by_status(results)
    console.print("  ".join(f"{word(s.value, lang)} {n}" for s, n in counts.items() if n))


def print_runs(console: Console, runs: Sequence[Run], lang: str) -> None:
    table = Table()
    for key in ("run", "kind", "started", "operator", "status"):
        table.add_column(word(key, lang))
    for run in runs:
        table.add_row(str(run.id), shown(run.kind), format_local(run.started_at, lang),
                      shown(run.operator),
                      word(run.status.value, lang))
    console.print(table)
