"""The audit report as one self-contained HTML page, Thai (default) or English."""

from __future__ import annotations

from collections.abc import Sequence

from dlict import __version__
from dlict.controls import Catalog
from dlict.core.clock import format_local
from dlict.core.results import Result, Status
from dlict.core.store import Run
from dlict.i18n import name_of
from dlict.inventory import Inventory
from dlict.reports.env import report_environment
from dlict.reports.summary import scores


def render_audit_html(run: Run, results: Sequence[Result], catalog: Catalog,
                      inventory: Inventory, lang: str) -> str:
    env = report_environment(lang)
    site_names = {s.id: name_of(s.meta, lang) for s in inventory.sites}
    return env.get_template("audit.html.j2").render(
        run=run, when=format_local(run.started_at, lang),
        scores=scores(results, catalog), results=results, catalog=catalog,
        site_names=site_names, version=__version__, Status=Status,
    )
