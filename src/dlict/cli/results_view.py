"""Tables and JSON of results, shared by every command that shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loguru import logger
from rich.console import Console
from rich.table import Table

from dlict.cli.text import shown, word
from dlict.controls import Catalog
from dlict.core.clock import format_local
from dlict.core.results import Result, Status, count_by_status
from dlict.core.store import Run
from dlict.i18n import text
from dlict.reports.summary import scores

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
        "status": run.status.value, "inventory": run.inventory,
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


def print_summary(console: Console, lang: str, catalog: Catalog,
                  results: Sequence[Result]) -> None:
    """The results that need attention, then the score per site and SOP area."""
    problems = [r for r in results if r.status.needs_attention]
    if problems:
        table = Table(title=text("cli.not_passing", lang))
        for key in ("host", "status", "evidence"):
            table.add_column(word(key, lang))
        for r in problems:
            style = STATUS_STYLE[r.status]
            first_line = r.evidence.splitlines()[0] if r.evidence else ""
            table.add_row(
                shown(f"{r.host} {r.control}"),
                f"[{style}]{word(r.status.value, lang)}[/{style}]",
                shown(first_line),
            )
        console.print(table)
    summary = Table(title=text("cli.score_per_site", lang))
    summary.add_column(word("site", lang))
    summary.add_column(text("cli.area", lang))
    for status in Status:
        summary.add_column(word(status.value, lang), justify="right")
    summary.add_column(text("cli.score", lang), justify="right")
    for score in scores(results, catalog):
        site = text("cli.district", lang) if score.site == "*" else score.site
        percent = f"{score.percent:.0f} %" if score.percent is not None else "-"
        summary.add_row(shown(site), shown(score.area), *(str(score.counts[s]) for s in Status),
                        percent)
    console.print(summary)


def log_results(kind: str, run_id: int, results: Sequence[Result]) -> None:
    """A warning for each result that needs attention; a not-applicable one only in the log
    file, since it is neither a warning nor a finding."""
    for result in results:
        if result.status is Status.PASS:
            continue
        level = "WARNING" if result.status.needs_attention else "INFO"
        shown_status = result.status.value if result.status.needs_attention else "not applicable"
        logger.log(level, "{} run {}: {} {} {}: {}", kind, run_id, result.host,
                   result.control or result.target, shown_status, result.evidence)
