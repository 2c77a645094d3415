"""The audit report (``dlict audit --report``, ``dlict netdev audit --report``) as one
self-contained HTML page or its printed form, Thai (default) or English.

The page puts what needs work first: every check that did not pass, most severe first, with
the control's severity, the evidence and the fix from the control catalog. Passing checks are
folded away (``<details>``); a reader filters the rows by site and by result with radio
buttons and CSS alone (no script reads the values). The printed form has no filter and shows
the passing checks as counts per control.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dlict import __version__
from dlict.controls import Catalog, Control
from dlict.core.clock import format_local
from dlict.core.results import Result, Status
from dlict.core.store import Run
from dlict.i18n import name_of
from dlict.inventory import Inventory
from dlict.reports.document import document_fields, office_of
from dlict.reports.env import report_environment
from dlict.reports.summary import scores

#: Statuses folded away: nothing to do about them.
QUIET = frozenset({Status.PASS, Status.SKIPPED})
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True)
class Row:
    """One host × control line of the report; ``site_index`` names its filter class."""

    result: Result
    control: Control | None
    site_index: int

    @property
    def severity(self) -> str:
        return self.control.severity.value if self.control else ""


@dataclass(frozen=True)
class ControlCount:
    """How many hosts passed (and were skipped on) one control: the printed form's fold."""

    control_id: str
    control: Control | None
    passed: int
    skipped: int


def _rank(row: Row) -> tuple[int, str, str, str]:
    return (_SEVERITY_RANK.get(row.severity, len(_SEVERITY_RANK)), row.result.site,
            row.result.host, row.result.control or "")


def audit_rows(results: Sequence[Result], catalog: Catalog
               ) -> tuple[list[str], list[Row], list[Row]]:
    """The sites in order of first appearance, the rows needing attention (most severe first)
    and the quiet rows (in the results' order)."""
    sites = list(dict.fromkeys(r.site for r in results))
    index = {site: number for number, site in enumerate(sites)}
    rows = [Row(r, catalog.by_id.get(r.control or ""), index[r.site]) for r in results]
    attention = sorted((row for row in rows if row.result.status not in QUIET), key=_rank)
    quiet = [row for row in rows if row.result.status in QUIET]
    return sites, attention, quiet


def passing_counts(quiet: Sequence[Row]) -> list[ControlCount]:
    """Per control (catalog order as met), the hosts that passed and that were skipped."""
    passed = Counter(row.result.control or "" for row in quiet
                     if row.result.status is Status.PASS)
    skipped = Counter(row.result.control or "" for row in quiet
                      if row.result.status is Status.SKIPPED)
    controls = {row.result.control or "": row.control for row in quiet}
    return [ControlCount(cid, controls[cid], passed[cid], skipped[cid])
            for cid in sorted(controls)]


def render_audit_html(run: Run, results: Sequence[Result], catalog: Catalog,
                      inventory: Inventory, lang: str, *, printed: bool = False,
                      today: date | None = None) -> str:
    """The report's page (``printed``: the form handed to ``dlict.reports.pdf``)."""
    env = report_environment(lang)
    site_names = {s.id: name_of(s.meta, lang) for s in inventory.sites}
    sites, attention, quiet = audit_rows(results, catalog)
    return env.get_template("audit.html.j2").render(
        run=run, when=format_local(run.started_at, lang),
        scores=scores(results, catalog), sites=sites, attention=attention, quiet=quiet,
        counts=passing_counts(quiet), site_names=site_names, version=__version__,
        Status=Status, printed=printed,
        **document_fields(office_of(inventory), lang, today),
    )
