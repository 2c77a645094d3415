"""Findings become cases: a failed control of a chosen severity opens a case, or joins the open
case of the same host and control.

One seam for every producer: ``dlict.runs`` calls :func:`raise_cases` when a run of the CLI
(``dlict audit``, ``dlict netscan``) is finished, and the agents' intake calls it after a
batch's results are stored (``dlict.intake.server``). Which findings count is the inventory's
``dlict_incidents`` (:class:`~dlict.inventory.models.IncidentSettings`): ``raise_on`` maps the
run kind (``audit``, ``netscan``, ``agent``) to the control severities that raise a case;
``always_raise`` lists controls that raise whatever their severity or run kind (ID-04, a second
UID 0 account, by default). Only a ``fail`` counts: an unreachable host or an error is an
operational failure, not an incident.

A case's group key is ``<run kind>:<host>:<control>``; the same finding in the next run adds a
timeline entry only when its evidence changed, so a daily audit of a still-open finding does
not bury the timeline.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from dlict.controls.model import Catalog, Control, load_catalog
from dlict.core.clock import utc_now
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import CaseSource, Category
from dlict.inventory.models import IncidentSettings, Inventory

#: What kind of incident a failing control points at, where it is clear; triage decides the
#: rest. A second UID 0 account is the classic back door of an intruder.
CATEGORY_BY_CONTROL: dict[str, Category] = {"ID-04": Category.INTRUSIONS}
SOURCES: dict[str, CaseSource] = {"audit": CaseSource.AUDIT, "netscan": CaseSource.NETSCAN,
                                  "agent": CaseSource.AGENT}
ACTOR = "dlict findings"
MAX_EVIDENCE = 2000  # characters of a result's evidence quoted on the timeline
_MARK = re.compile(r"\[evidence sha256:([0-9a-f]{16})\]$")


@dataclass(frozen=True, slots=True)
class Raised:
    case_id: str
    opened: bool
    added: bool  # a timeline entry for this finding was added


def _raises(result: Result, kind: str, settings: IncidentSettings,
            controls: dict[str, Control]) -> bool:
    if result.status is not Status.FAIL or not result.control:
        return False
    if result.control in settings.always_raise:
        return True
    control = controls.get(result.control)
    return control is not None and control.severity.value in settings.raise_on.get(kind, [])


def _mark(result: Result) -> str:
    digest = hashlib.sha256(result.evidence.encode()).hexdigest()[:16]
    return f"[evidence sha256:{digest}]"


def _entry_text(result: Result, control: Control | None, kind: str, run_id: int) -> str:
    title = f" ({control.title_en})" if control else ""
    evidence = result.evidence.strip()[:MAX_EVIDENCE]
    said = f": {evidence}" if evidence else ""
    return (f"{result.control}{title} failed on {result.host} in {kind} run {run_id}{said} "
            f"{_mark(result)}")


def _clean(text: str) -> str:
    """Evidence is what a host said: keep its lines, drop any other control character."""
    return "".join(ch if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127) else " "
                   for ch in text)


def _seen(book: CaseBook, case_id: str) -> set[str]:
    marks = (_MARK.search(e.text) for e in book.timeline(case_id) if e.kind == "finding")
    return {match.group(0) for match in marks if match}


def _known(names: Iterable[str], known: Callable[[str], bool]) -> tuple[str, ...]:
    return tuple(name for name in dict.fromkeys(names) if name and known(name))


def raise_one(book: CaseBook, kind: str, run_id: int, result: Result,
              control: Control | None, inventory: Inventory | None = None) -> Raised:
    """Open or join the case of ``result``'s host and control; add the finding to its
    timeline unless the same evidence is already there."""
    result = Result(result.site, result.host, result.status, result.control, result.target,
                    _clean(result.evidence), min(result.observed_at, utc_now()))
    group_key = f"{kind}:{result.host}:{result.control}"
    case = book.find_open(group_key)
    opened = case is None
    if case is None:
        sites_known: Callable[[str], bool] = lambda _name: True  # noqa: E731
        hosts_known = sites_known
        if inventory is not None:
            sites_known = {site.id for site in inventory.sites}.__contains__
            hosts_known = inventory.hosts.__contains__
        what = control.title_en if control else "failed"
        case = book.open(
            title=f"{result.control} {what}: {result.host}"[:200],
            description=f"dlict {kind} run {run_id} found {result.control} failing on "
                        f"{result.host} (site {result.site}).",
            reporter=f"dlict {kind}",
            category=CATEGORY_BY_CONTROL.get(result.control or "", Category.OTHER),
            source=SOURCES.get(kind, CaseSource.MANUAL), group_key=group_key,
            sites=_known([result.site], sites_known), hosts=_known([result.host], hosts_known))
    if _mark(result) in _seen(book, case.id):
        return Raised(case.id, opened, False)
    book.note(case.id, _entry_text(result, control, kind, run_id), kind="finding",
              at=result.observed_at)
    return Raised(case.id, opened, True)


def raise_cases(store: EvidenceStore, kind: str, run_id: int, results: Sequence[Result],
                inventory: Callable[[], Inventory | None], *, catalog: Catalog | None = None
                ) -> list[Raised]:
    """The cases the failed results of run ``run_id`` (of ``kind``) raise or join.

    ``inventory`` gives the district's inventory (None: no inventory, the default settings);
    it is only called when a result failed, so a clean run never loads it.
    """
    failed = [r for r in results if r.status is Status.FAIL and r.control]
    if kind not in SOURCES or not failed:
        return []
    district = inventory()
    settings = district.incidents if district is not None else IncidentSettings()
    controls = (catalog or load_catalog()).by_id
    chosen = [r for r in failed if _raises(r, kind, settings, controls)]
    if not chosen:
        return []
    book = CaseBook(store, district, actor=ACTOR)
    return [raise_one(book, kind, run_id, result, controls.get(result.control or ""),
                      district) for result in chosen]
