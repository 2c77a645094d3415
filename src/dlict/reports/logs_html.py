"""The log-retention report (``dlict logs check --report``): one page the director can sign."""

from __future__ import annotations

from datetime import date

from dlict import __version__
from dlict.core.clock import format_local
from dlict.i18n import date_text
from dlict.inventory.models import OfficeSettings
from dlict.logs.check import CheckReport
from dlict.reports.document import document_fields
from dlict.reports.env import report_environment


def day_text(iso: str | None, lang: str) -> str:
    """A day as the reader expects it: ``21 พฤศจิกายน พ.ศ. 2569`` in Thai, ISO in English."""
    return date_text(date.fromisoformat(iso), lang, era=True) if iso else "-"


def render_logs_html(report: CheckReport, lang: str, office: OfficeSettings | None = None,
                     *, printed: bool = False, today: date | None = None) -> str:
    """The report's page; ``office`` (the inventory's, when there is one) signs it, else the
    signature blocks are dotted lines under the default titles."""
    env = report_environment(lang, day=lambda iso: day_text(iso, lang))
    return env.get_template("logs.html.j2").render(
        data=report.as_dict(), printed=printed,
        when=format_local(report.checked_at, lang), version=__version__,
        **document_fields(office or OfficeSettings(), lang, today),
    )
