"""What every report the director signs shares: the office's name, the two signature blocks
(the DLICT group's head prepares, the director certifies) and the report's date, all from the
inventory's ``dlict_office`` settings; and the one way a report reaches its files (HTML and/or
PDF, each whole or not at all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dlict.core.clock import BANGKOK, utc_now
from dlict.core.errors import InputError
from dlict.core.files import write_private
from dlict.i18n import pick, text
from dlict.inventory import Inventory
from dlict.inventory.models import OfficeSettings, SiteKind
from dlict.reports.pdf import thai_font_family, write_pdf

# An office named this way is headed by "ผู้อำนวยการ" + its name (the survey's old rule).
_AREA_OFFICE = "สำนักงานเขตพื้นที่การศึกษา"


@dataclass(frozen=True)
class Signer:
    """One signature block: what the signer does, their name (empty: a dotted line), title."""

    role: str
    name: str
    title: str


def named_office(office: OfficeSettings | None, name_th: str, name_en: str) -> OfficeSettings:
    """``office`` (the inventory's ``dlict_office``), named after the office site when the
    settings do not name it; the defaults (dotted lines, generic titles) without either."""
    settings = office or OfficeSettings()
    if "name_th" in settings.model_fields_set or not name_th:
        return settings
    return settings.model_copy(update={"name_th": name_th, "name_en": name_en or name_th})


def office_of(inventory: Inventory) -> OfficeSettings:
    """The inventory's office settings, named after its office site if they name no office."""
    site = next((s for s in inventory.sites if s.kind is SiteKind.OFFICE), None)
    return named_office(inventory.office, site.meta.name_th if site else "",
                        site.meta.name_en if site else "")


def director_title(office: OfficeSettings, lang: str) -> str:
    """The director's position: as the inventory sets it, else made from the office's name
    ("ผู้อำนวยการ" + "สำนักงานเขตพื้นที่การศึกษา...") when the name allows, else the default."""
    if {"director_title_th", "director_title_en"} & office.model_fields_set:
        return pick(office.director_title_th, office.director_title_en, lang)
    if "name_th" in office.model_fields_set and office.name_th.startswith(_AREA_OFFICE):
        return pick(f"ผู้อำนวยการ{office.name_th}", f"Director, {office.name_en}", lang)
    return pick(office.director_title_th, office.director_title_en, lang)


def signers(office: OfficeSettings, lang: str) -> tuple[Signer, Signer]:
    """The DLICT group's head, who prepares the report, and the director, who certifies it."""
    return (
        Signer(text("doc.prepared_by", lang), office.dlict_head_name,
               pick(office.dlict_head_title_th, office.dlict_head_title_en, lang)),
        Signer(text("doc.certified_by", lang), office.director_name,
               director_title(office, lang)),
    )


def today_local() -> date:
    """Today in Bangkok: the date a report is made on."""
    return utc_now().astimezone(BANGKOK).date()


def document_fields(office: OfficeSettings, lang: str, today: date | None = None
                    ) -> dict[str, Any]:
    """The names ``document.html.j2`` and the reports' signature blocks read."""
    return {"office_name": pick(office.name_th, office.name_en, lang),
            "signers": signers(office, lang), "today": today or today_local()}


def check_targets(html: Path | None, pdf: Path | None, *, html_option: str) -> None:
    """Refuse, before any work, a report file whose directory does not exist, and a PDF on a
    machine that cannot print Thai.

    Raises:
        InputError: a target's directory is missing.
        OperationalError: no Thai font (or fontconfig) for the PDF.
    """
    for option, target in ((html_option, html), ("--pdf", pdf)):
        if target is not None and not target.parent.is_dir():
            raise InputError(f"{option} {target}: the directory does not exist")
    if pdf is not None:
        thai_font_family()


def write_report(render: Callable[[bool], str], lang: str, *, html: Path | None = None,
                 pdf: Path | None = None) -> None:
    """Write the report's page (``render(False)``) and its printed form (``render(True)``)
    to the targets given, each atomically with mode 0640.

    Raises:
        OperationalError: a target cannot be written; WeasyPrint or a Thai font is missing.
    """
    if html is not None:
        write_private(html, render(False))
    if pdf is not None:
        write_pdf(render(True), pdf, lang)
