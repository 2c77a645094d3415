"""``dlict incident report|export``: the memo, notifications and annexes; JSON, DFIR-IRIS."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from dlict.cli.context import AppContext, app_context
from dlict.cli.text import json_text
from dlict.core.clock import utc_now
from dlict.core.errors import InputError
from dlict.core.files import EVIDENCE_MODE, write_atomic, write_private
from dlict.i18n import name_of
from dlict.incidents.cases import CaseBook
from dlict.incidents.documents import CaseFile, DocumentKind, read_evidence, render_html
from dlict.incidents.export import case_json, iris_import
from dlict.inventory.models import OfficeSettings
from dlict.reports.pdf import render_pdf

if TYPE_CHECKING:
    from dlict.inventory import Inventory

_E = TypeVar("_E", bound=StrEnum)

CaseArg = Annotated[str, typer.Argument(help="The case, e.g. INC-2569-0007.")]


class ExportFormat(StrEnum):
    JSON = "json"
    IRIS = "iris"


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("report")(report)
    app.command("export")(export)


def report(
    ctx: typer.Context,
    case_id: CaseArg,
    kind: Annotated[str, typer.Option(
        "--kind", help="memo (to the office director), ncsa (NCSA/ThaiCERT notification), "
        "pdpc (PDPA breach-notification draft), timeline or evidence (annexes).")] = "memo",
    html_file: Annotated[Path | None, typer.Option(
        "--html", help="Write the page here (Thai; --lang en for English).")] = None,
    pdf_file: Annotated[Path | None, typer.Option(
        "--pdf", help="Print it here: A4, Thai font embedded.")] = None,
) -> None:
    """Write one of the case's documents as HTML and/or PDF, dated today (Bangkok).

    The office's names and signatories come from the inventory's dlict_office (-i).
    A PDPC draft is refused (exit 2) for a case that involves no personal data.
    """
    actx = app_context(ctx)
    document = _parsed(DocumentKind, kind, "--kind")
    if html_file is None and pdf_file is None:
        raise InputError("incident report: nothing to write: give --html FILE and/or --pdf FILE")
    inventory = _inventory(actx)
    record = _case_file(actx, case_id, inventory)
    office, site_names = _office(inventory, actx.lang)
    page = render_html(document, record, office, actx.lang, issued_at=utc_now(),
                       site_names=site_names)
    printed = render_pdf(page, actx.lang) if pdf_file is not None else None
    if html_file is not None:
        write_private(html_file, page)
    if pdf_file is not None and printed is not None:
        write_atomic(pdf_file, printed, EVIDENCE_MODE)
    for target in (html_file, pdf_file):
        if target is not None:
            actx.console.print(f"{record.case.id}: {document.value} written to {target}",
                               markup=False, highlight=False)


def export(
    ctx: typer.Context,
    case_id: CaseArg,
    fmt: Annotated[str, typer.Option(
        "--format", help="json (every field dlict holds) or iris (DFIR-IRIS v2.4 API call "
        "bodies).")] = "json",
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write here (mode 0640) instead of standard output.")] = None,
) -> None:
    """Export a case so another tool (or a CSIRT running DFIR-IRIS) can take it over."""
    actx = app_context(ctx)
    chosen = _parsed(ExportFormat, fmt, "--format")
    record = _case_file(actx, case_id, _inventory(actx))
    now = utc_now()
    data = (case_json(record, exported_at=now) if chosen is ExportFormat.JSON
            else iris_import(record, exported_at=now))
    body = json_text(data) + "\n"
    if output is None:
        typer.echo(body, nl=False)
    else:
        write_private(output, body)
        actx.console.print(f"{record.case.id}: {chosen.value} export written to {output}",
                           markup=False, highlight=False)


def _parsed(kind: type[_E], value: str, option: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InputError(f"{option} {value!r}: not one of {choices}") from None


def _inventory(actx: AppContext) -> Inventory | None:
    return actx.inventory() if actx.settings.inventory is not None else None


def _case_file(actx: AppContext, case_id: str, inventory: Inventory | None) -> CaseFile:
    """The whole record of the case (raises CaseNotFoundError, exit 2, when unknown); the
    inventory's dlict_incidents sets its deadlines."""
    with actx.open_store() as store:
        book = CaseBook(store, inventory)
        case = book.get(case_id)
        return CaseFile(case=case, tasks=book.tasks(case.id),
                        observables=book.observables(case.id), timeline=book.timeline(case.id),
                        evidence=read_evidence(actx.settings.data_dir, case.id),
                        deadlines=book.deadlines(case.id), trail=book.trail(case.id))


def _office(inventory: Inventory | None, lang: str) -> tuple[OfficeSettings, dict[str, str]]:
    """The office (signatories, registry prefix) and school names, from the inventory when
    one is given; without one the documents carry dotted lines to fill in by hand."""
    if inventory is None:
        return OfficeSettings(), {}
    return inventory.office, {site.id: name_of(site.meta, lang) for site in inventory.sites}
