"""``dlict incident evidence add|list|verify`` and ``dlict incident logs``: evidence with its
proof (a thin shell over :mod:`dlict.incidents.evidence` and :mod:`dlict.incidents.excerpt`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption
from dlict.cli.text import printable
from dlict.core.clock import format_local
from dlict.core.errors import ExitCode, InputError
from dlict.core.files import EVIDENCE_MODE, os_failure
from dlict.core.inputs import require_regular_file
from dlict.incidents import evidence, excerpt
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import EvidenceItem
from dlict.logs import keys
from dlict.logs.check import load_public_for
from dlict.logs.policy import resolve_policy
from dlict.logs.seal import local_zone

CaseArg = Annotated[str, typer.Argument(help="The case, e.g. INC-2569-0007.")]
ActorOption = Annotated[str | None, typer.Option(
    "--actor", help="Who acts, when not the login running dlict (also DLICT_ACTOR).",
    show_default=False)]

evidence_app = typer.Typer(help="Evidence with a chain of custody: hashed copies in a signed "
                           "manifest per case.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(evidence_app, name="evidence")
    app.command("logs")(logs)


@contextmanager
def _book(actx: AppContext, actor: str | None) -> Iterator[CaseBook]:
    with actx.open_store() as store:
        yield CaseBook(store, actor=actor)


@evidence_app.command("add")
def add(
    ctx: typer.Context,
    case_id: CaseArg,
    # Text, not Path: Click's own readability check would answer with its usage screen.
    files: Annotated[list[str], typer.Argument(help="The files to add.", show_default=False)],
    reference: Annotated[bool, typer.Option(
        "--reference", help="Record the hash and leave the file where it is (large files); "
        "verify hashes it there again.")] = False,
    note: Annotated[str, typer.Option("--note", help="Where it came from, in one line.")] = "",
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Hash files, keep copies (or references) and append them to the case's signed
    evidence manifest; a timeline entry records it."""
    actx = app_context(ctx)
    paths = [Path(name) for name in files]
    evidence.check_files(paths)  # before the store is even opened: bad input writes nothing
    evidence.case_dir(actx.settings.data_dir, case_id)
    with _book(actx, actor) as book:
        added = evidence.add(actx.settings.data_dir, case_id, paths, reference=reference,
                             note=note, book=book)
    _show_items(actx, added)


@evidence_app.command("list")
def list_items(ctx: typer.Context, case_id: CaseArg, _json: JsonOption = False) -> None:
    """The case's evidence items, in the order they were added."""
    actx = app_context(ctx)
    with _book(actx, None) as book:
        book.get(case_id)
    _show_items(actx, evidence.items(actx.settings.data_dir, case_id))


@evidence_app.command("verify")
def verify(ctx: typer.Context, case_id: CaseArg, _json: JsonOption = False) -> None:
    """Prove nothing changed: the manifest's chain, signatures and head, and every item hashed
    again. Exit 1 when anything is found."""
    actx = app_context(ctx)
    with _book(actx, None) as book:
        book.get(case_id)
    data_dir = actx.settings.data_dir
    problems = evidence.verify(data_dir, case_id)
    count = len(evidence.items(data_dir, case_id))
    if actx.json_output:
        actx.print_json({"case": case_id, "ok": not problems, "items": count,
                         "problems": [p.as_dict() for p in problems]})
    elif problems:
        for problem in problems:
            where = f" item {problem.seq}" if problem.seq is not None else ""
            typer.echo(printable(f"PROBLEM {case_id}{where} {problem.kind}: {problem.detail}"))
    else:
        typer.echo(f"{case_id}: {count} evidence item(s) verified, nothing changed")
    if problems:
        raise typer.Exit(ExitCode.FINDINGS)


@evidence_app.command("check-excerpt")
def check_excerpt(
    ctx: typer.Context,
    bundle: Annotated[str, typer.Argument(help="An excerpt bundle from `dlict incident logs`.")],
    key: Annotated[Path | None, typer.Option(
        "--key", help="The seal's public key to trust (default: the key the bundle names; "
        "then compare its id with the office's).")] = None,
    _json: JsonOption = False,
) -> None:
    """Verify an excerpt bundle on its own, without the log tree: every day's signed entry and
    re-hash. Exit 1 when it is not verified."""
    actx = app_context(ctx)
    path = Path(bundle)
    require_regular_file(path)
    trusted = keys.load_public(key) if key is not None else None
    checked = excerpt.check_bundle(path, trusted)
    if actx.json_output:
        actx.print_json({"bundle": str(path), "verified": checked.verified,
                         "key": checked.key, "lines": checked.lines,
                         "problems": checked.problems})
    else:
        verdict = "VERIFIED" if checked.verified else "UNVERIFIED"
        typer.echo(printable(f"{verdict} {path}: {checked.lines} line(s); seal key "
                             f"{checked.key}"))
        for problem in checked.problems:
            typer.echo(printable(f"  {problem}"))
    if not checked.verified:
        raise typer.Exit(ExitCode.FINDINGS)


def _show_items(actx: AppContext, shown_items: list[EvidenceItem]) -> None:
    if actx.json_output:
        actx.print_json([_item_record(item) for item in shown_items])
        return
    for item in shown_items:
        typer.echo(printable(f"{item.seq:>3} {item.name}  sha256 {item.sha256}  {item.size} "
                             f"bytes  {item.stored} {item.location}  {item.added_by}  "
                             f"{format_local(item.added_at)}"))


def _item_record(item: EvidenceItem) -> dict[str, Any]:
    return asdict(item) | {"added_at": item.added_at.isoformat()}


def logs(
    ctx: typer.Context,
    case_id: CaseArg,
    host: Annotated[str, typer.Option("--host", help="The host (or SITE/HOST) in the log "
                                                     "tree.")],
    start: Annotated[str, typer.Option("--from", help="Start (ISO; Bangkok time without a "
                                                      "zone).")],
    end: Annotated[str, typer.Option("--to", help="End, included (ISO).")],
    grep: Annotated[str | None, typer.Option(
        "--grep", help="Keep only lines matching this regular expression (bounded: no "
        "nested repeats or back-references).")] = None,
    policy_file: Annotated[Path | None, typer.Option(
        "--policy", help="Policy file of the log server (default /etc/dlict/logging.json).")
    ] = None,
    root: Annotated[Path | None, typer.Option("--root", help="The log tree.")] = None,
    state: Annotated[Path | None, typer.Option("--state", help="Seal state directory.")
                     ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="The seal's public key.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Also write the bundle here.")] = None,
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Extract a host's log lines of a window from the sealed tree with their proof, and add
    the bundle to the case's evidence. Exit 1 when a day cannot be proved (unverified)."""
    actx = app_context(ctx)
    moments = excerpt.parse_moment(start, "--from"), excerpt.parse_moment(end, "--to")
    if grep is not None:
        excerpt.compile_grep(grep)
    if output is not None and not output.parent.is_dir():
        raise InputError(f"{output}: the directory does not exist")
    policy = resolve_policy(policy_file, root=root, state_dir=state)
    public = load_public_for(policy, key)
    source = excerpt.find_source(policy.root, host)
    excerpt.window_days(*moments, local_zone(policy))
    evidence.case_dir(actx.settings.data_dir, case_id)
    with _book(actx, actor) as book:
        book.get(case_id)
        made, item = _extract_and_add(actx, book, policy, public, case_id, source.name,
                                      moments, grep, output)
    if actx.json_output:
        actx.print_json({"case": case_id, "source": made.source, "lines": made.lines,
                         "verified": made.verified, "reasons": made.reasons,
                         "days": [{"day": d.day.isoformat(), "file": d.file,
                                   "verified": d.verified, "reason": d.reason}
                                  for d in made.days],
                         "evidence": _item_record(item)})
    else:
        verdict = "VERIFIED" if made.verified else "UNVERIFIED"
        typer.echo(printable(f"{verdict} {made.source} {made.start.isoformat()} .. "
                             f"{made.end.isoformat()}: {made.lines} line(s) from "
                             f"{len(made.days)} day(s); seal key {made.key}"))
        for reason in made.reasons:
            typer.echo(printable(f"  unverified {reason}"))
        typer.echo(printable(f"evidence {item.seq}: {item.name} sha256 {item.sha256}"))
    if not made.verified:
        raise typer.Exit(ExitCode.FINDINGS)


def _extract_and_add(actx: AppContext, book: CaseBook, policy: Any, public: Any,
                     case_id: str, source: str, moments: tuple[Any, Any], grep: str | None,
                     output: Path | None) -> tuple[excerpt.Excerpt, EvidenceItem]:
    data_dir = actx.settings.data_dir
    start, end = moments
    name = (f"excerpt-{source.replace('/', '_')}-{start.strftime('%Y%m%dT%H%M%S')}-"
            f"{end.strftime('%Y%m%dT%H%M%S')}.jsonl")
    work = Path(tempfile.mkdtemp(prefix=".excerpt.", dir=data_dir))
    try:
        bundle = work / name
        with bundle.open("w", encoding="utf-8") as out:
            made = excerpt.extract(policy, public, out, case_id=case_id, host=source,
                                   start=start, end=end, grep=grep)
        bundle.chmod(0o640)
        (item,) = evidence.add(data_dir, case_id, [bundle], book=book,
                               note=f"log excerpt of {source}, "
                                    f"{'verified' if made.verified else 'UNVERIFIED'}")
        if output is not None:
            _copy_out(bundle, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return made, item


def _copy_out(bundle: Path, output: Path) -> None:
    """The bundle also at ``output``, whole or not at all, 0640 (streamed, not held)."""
    partial = output.with_name(f".{output.name}.part")
    try:
        shutil.copyfile(bundle, partial)
        partial.chmod(EVIDENCE_MODE)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise os_failure(output, "write the bundle", exc) from exc
