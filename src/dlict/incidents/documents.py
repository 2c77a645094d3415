"""The papers an incident needs, printed from the case record.

Five documents, Thai by default and English with ``lang="en"``, each a page that extends
``document.html.j2`` and prints through ``dlict.reports.pdf``:

- ``memo``: the internal memo to the office director in the บันทึกข้อความ layout (ส่วนราชการ,
  ที่ <doc_prefix>/…, วันที่ in B.E., เรื่อง, เรียน), its body in four parts (what happened, the
  impact, what was done, what is asked), signed by the DLICT head with a space for the
  director's opinion and orders;
- ``ncsa``: the notification to NCSA/ThaiCERT (see docs/decisions.md for where its fields come
  from);
- ``pdpc``: a draft of the PDPA s.37(4) breach notification, only for a case that involves
  personal data: what dlict does not know (kinds of data, numbers of data subjects and records,
  consequences) is left as dotted lines to fill in;
- ``timeline`` and ``evidence``: the annexes, in Bangkok time with B.E. years, the evidence
  with its SHA-256.

Nothing here reads the store: the caller hands over a :class:`CaseFile`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from dlict import __version__
from dlict.core.clock import BANGKOK, format_local
from dlict.core.errors import InputError
from dlict.i18n import is_thai, pick, text
from dlict.incidents import evidence
from dlict.incidents.model import (
    Case,
    Deadline,
    DeadlineKind,
    EvidenceItem,
    Observable,
    Task,
    TaskState,
    TimelineEntry,
    TrailEntry,
)
from dlict.inventory.models import OfficeSettings
from dlict.reports.env import report_environment


class DocumentKind(StrEnum):
    MEMO = "memo"
    NCSA = "ncsa"
    PDPC = "pdpc"
    TIMELINE = "timeline"
    EVIDENCE = "evidence"

    @property
    def template(self) -> str:
        return f"incident_{self.value}.html.j2"


class NoPersonalDataError(InputError):
    """A PDPC notification was asked for a case that involves no personal data."""


@dataclass(frozen=True, slots=True)
class CaseFile:
    """Everything recorded about one case: what the documents print and the export writes."""

    case: Case
    tasks: Sequence[Task] = ()
    observables: Sequence[Observable] = ()
    timeline: Sequence[TimelineEntry] = ()
    evidence: Sequence[EvidenceItem] = ()
    deadlines: Sequence[Deadline] = ()
    trail: Sequence[TrailEntry] = ()

    @property
    def began_at(self) -> datetime:
        """When the incident began as far as the record shows: its earliest timeline entry,
        or the moment the office became aware."""
        return min([self.case.aware_at, *(entry.at for entry in self.timeline)])


def read_evidence(data_dir: Path, case_id: str) -> list[EvidenceItem]:
    """The case's evidence, in the order it was added: the items of its signed manifest whose
    records verify (``dlict.incidents.evidence.items``; ``evidence verify`` says what else is
    wrong). The one place the documents and the export read evidence from."""
    return evidence.items(data_dir, case_id)


def _word(group: str, value: str, lang: str) -> str:
    return text(f"incdoc.{group}.{value}", lang)


@dataclass(frozen=True, slots=True)
class _Words:
    """The case's values in words, once, for every template."""

    lang: str

    def category(self, case: Case) -> str:
        return _word("category", case.category.value, self.lang)

    # The case's own words (dlict.incidents' catalogue): the CLI and the papers agree.
    def level(self, case: Case) -> str:
        return text(f"incident.level.{case.threat_level.value}", self.lang)

    def status(self, case: Case) -> str:
        return text(f"incident.status.{case.status.value}", self.lang)

    def source(self, case: Case) -> str:
        return _word("source", case.source.value, self.lang)

    def task_state(self, task: Task) -> str:
        return _word("task", task.state.value, self.lang)

    def observable(self, observable: Observable) -> str:
        return _word("observable", observable.kind.value, self.lang)

    def deadline(self, deadline: Deadline) -> str:
        return _word("deadline", deadline.kind.value, self.lang)

    def stored(self, item: EvidenceItem) -> str:
        key = f"incdoc.evidence.stored.{item.stored}"
        return text(key, self.lang) if item.stored in ("copy", "reference") else item.stored

    def yes_no(self, flag: bool) -> str:
        return text("incdoc.yes" if flag else "incdoc.no", self.lang)


# A Thai office name of this form makes the director's title ("ผู้อำนวยการ" + the name).
_AREA_OFFICE = "สำนักงานเขตพื้นที่การศึกษา"


def director_title(office: OfficeSettings, lang: str) -> str:
    """เรียน …: ``ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา…`` from the office's own name."""
    name = pick(office.name_th, office.name_en, lang)
    if is_thai(lang) and office.name_th.startswith(_AREA_OFFICE):
        return text("incdoc.memo.director_of", lang, office=office.name_th)
    if not is_thai(lang) and name:
        return text("incdoc.memo.director_of", lang, office=name)
    return pick(office.director_title_th, office.director_title_en, lang)


def _sites(case: Case, site_names: Mapping[str, str], lang: str) -> str:
    if not case.sites:
        return text("incdoc.none", lang)
    return ", ".join(f"{site_names[s]} ({s})" if site_names.get(s) else s for s in case.sites)


def _hosts(case: Case, lang: str) -> str:
    return ", ".join(case.hosts) if case.hosts else text("incdoc.none", lang)


def memo_asks(record: CaseFile, lang: str) -> list[str]:
    """Part 4 of the memo: an approval asked for each report still due, what was already
    reported, then the closing line."""
    asks = []
    for deadline in sorted(record.deadlines, key=lambda d: d.due_at):
        what = _word("deadline", deadline.kind.value, lang)
        if deadline.met_at is None:
            asks.append(text("incdoc.memo.ask_report", lang, what=what,
                             due=format_local(deadline.due_at, lang)))
        else:
            asks.append(text("incdoc.memo.ask_reported", lang, what=what,
                             met=format_local(deadline.met_at, lang)))
    return asks


def _context(kind: DocumentKind, record: CaseFile, office: OfficeSettings, lang: str,
             issued_at: datetime, site_names: Mapping[str, str]) -> dict[str, object]:
    case = record.case
    words = _Words(lang)
    done = [t for t in record.tasks if t.state is TaskState.DONE]
    pending = [t for t in record.tasks if t.state in (TaskState.OPEN, TaskState.DOING)]
    pdpc = next((d for d in record.deadlines if d.kind is DeadlineKind.PDPC), None)
    return {
        "kind": kind.value, "record": record, "case": case, "words": words,
        "office": office, "office_name": pick(office.name_th, office.name_en, lang),
        "director_title": director_title(office, lang),
        "head_title": pick(office.dlict_head_title_th, office.dlict_head_title_en, lang),
        "issued_day": issued_at.astimezone(BANGKOK).date(),
        "issued_at": issued_at, "began_at": record.began_at,
        "sites": _sites(case, site_names, lang), "hosts": _hosts(case, lang),
        "tasks_done": done, "tasks_pending": pending, "asks": memo_asks(record, lang),
        "pdpc_due": pdpc.due_at if pdpc else None,
        "timeline": sorted(record.timeline, key=lambda e: e.at),
        "evidence": sorted(record.evidence, key=lambda e: e.seq),
        "deadlines": sorted(record.deadlines, key=lambda d: d.due_at),
        "version": __version__,
    }


def render_html(kind: DocumentKind, record: CaseFile, office: OfficeSettings, lang: str, *,
                issued_at: datetime, site_names: Mapping[str, str] | None = None) -> str:
    """The page of document ``kind`` for ``record``, dated ``issued_at`` (its Bangkok day).

    Arguments:
        site_names: school code → name, to print beside the codes the case lists.

    Raises:
        NoPersonalDataError: ``kind`` is PDPC and the case involves no personal data.
    """
    if kind is DocumentKind.PDPC and not record.case.personal_data:
        raise NoPersonalDataError(
            f"{record.case.id}: the case involves no personal data, so there is no PDPC "
            f"breach notification to draft (PDPA s.37(4) applies to personal-data breaches)")
    env = report_environment(lang)
    return env.get_template(kind.template).render(
        **_context(kind, record, office, lang, issued_at, site_names or {}))
