"""``dlict logs``: seal the log server's day files and prove them (SOP 5.5.5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption, PdfOption, number_option
from dlict.cli.text import printable
from dlict.core.errors import ExitCode, InputError
from dlict.core.files import write_private
from dlict.core.numbers import NumberRange
from dlict.logs import keys
from dlict.logs.check import DEFAULT_LOCK_WAIT, check_tree, load_public_for
from dlict.logs.metrics import exposition
from dlict.logs.policy import resolve_policy
from dlict.logs.results import check_results
from dlict.logs.seal import seal_tree
from dlict.logs.summary import check_lines, seal_lines

RUN_KIND = "logs-check"

app = typer.Typer(help="Log retention (Computer Crime Act s.26): seal and check the log tree.",
                  no_args_is_help=True)

PolicyOption = Annotated[Path | None, typer.Option(
    "--policy", help="Policy file written by the logging role (default /etc/dlict/logging.json "
    "when it exists).")]
RootOption = Annotated[Path | None, typer.Option("--root", help="The log tree (site/host/day).")]
StateOption = Annotated[Path | None, typer.Option("--state", help="Seal state directory.")]


@app.command()
def keygen(key: Annotated[Path, typer.Option("--key", help="Private key file to create.")]
           ) -> None:
    """Create the Ed25519 sealing key (private 0600, KEY.pub 0644); never overwrites."""
    key_id = keys.generate(key)
    typer.echo(f"created {key} and {keys.public_path(key)} (key id {key_id})")


@app.command()
def seal(ctx: typer.Context, policy_file: PolicyOption = None, root: RootOption = None,
         state: StateOption = None,
         key: Annotated[Path | None, typer.Option("--key", help="Private sealing key.")] = None,
         retention_days: Annotated[int | None, typer.Option(
             "--retention-days", help="Delete sealed days older than this. Without it (or "
             "retention_days in the policy file) nothing is ever deleted.")] = None,
         _json: JsonOption = False,
         ) -> None:
    """Compress closed days, seal them into each source's signed manifest; delete sealed days
    past retention only when a retention was set explicitly."""
    actx = app_context(ctx)
    policy = resolve_policy(policy_file, root=root, signing_key=key, state_dir=state,
                            retention_days=retention_days)
    outcomes = seal_tree(policy)
    if actx.json_output:
        actx.print_json([{"source": o.source, "sealed": o.sealed, "absent": o.absent,
                          "pruned": o.pruned, "refused": o.refused, "stopped": o.stopped,
                          "findings": o.findings}
                         for o in outcomes])
    else:
        for line in seal_lines(outcomes):
            typer.echo(printable(line))
    if any(o.refused or o.stopped or o.findings for o in outcomes):
        raise typer.Exit(ExitCode.FINDINGS)


@app.command()
def check(
    ctx: typer.Context,
    policy_file: PolicyOption = None,
    root: RootOption = None,
    state: StateOption = None,
    key: Annotated[Path | None, typer.Option("--key", help="Trusted public key.")] = None,
    days: Annotated[int | None, number_option("--days", NumberRange(1, 36_500, whole=True),
                                              "Window in days (default: the retention).")
                    ] = None,
    json_file: Annotated[Path | None, typer.Option("--json-file",
                                                   help="Also write the JSON here.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the HTML report here "
                                                                 "(Thai; --lang en).")] = None,
    pdf: PdfOption = None,
    metrics: Annotated[Path | None, typer.Option(
        "--metrics", help="Write Prometheus text format here (node_exporter textfile).")] = None,
    wait: Annotated[float, typer.Option(
        "--wait", help="Seconds to wait for a running seal to finish.")] = DEFAULT_LOCK_WAIT,
    _json: JsonOption = False,
) -> None:
    """Coverage, integrity, freshness, clock offset, policy and traffic-data fields per source.

    Exit 0 when every source is clean, 1 when anything is found.
    """
    # The report writer (Jinja2, the inventory's models) is loaded only by this command.
    from dlict.reports.document import check_targets, office_of, write_report
    from dlict.reports.logs_html import render_logs_html

    actx = app_context(ctx)
    for target in (json_file, report, metrics):
        if target is not None and not target.parent.is_dir():
            raise InputError(f"{target}: the directory does not exist")
    check_targets(report, pdf, html_option="--report")
    # The inventory names the signers; a check without a report never loads it (it is heavy,
    # and the log server may have none).
    wants_report = report is not None or pdf is not None
    office = (office_of(actx.inventory())
              if wants_report and actx.settings.inventory is not None else None)
    policy = resolve_policy(policy_file, root=root, state_dir=state)
    if not 0 <= wait <= 86_400:
        raise InputError(f"--wait must be between 0 and 86400 seconds, got {wait}")
    result = check_tree(policy, load_public_for(policy, key), days=days, lock_wait=wait)
    record = actx.record(RUN_KIND, check_results(result))
    data = result.as_dict()
    if json_file is not None:
        write_private(json_file, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    write_report(lambda printed: render_logs_html(result, actx.lang, office, printed=printed),
                 actx.lang, html=report, pdf=pdf)
    if metrics is not None:
        write_private(metrics, exposition(result))
    if actx.json_output:
        actx.print_json(data | {"run": record.id})
    else:
        for line in check_lines(result):
            typer.echo(printable(line))
        typer.echo(f"stored as run {record.id}")
    if record.exit_code:
        raise typer.Exit(record.exit_code)
