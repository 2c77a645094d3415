"""``dlict incident open|list|show|update|task|note|observable|close|reopen``: the case itself.

A thin shell over :class:`dlict.incidents.cases.CaseBook`: every check and every trail entry
happens there. Times are typed as ISO dates/times (a time without a zone is Bangkok time) and
shown in Bangkok time, with B.E. years in Thai.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption
from dlict.cli.text import shown
from dlict.core.clock import BANGKOK, format_local, utc_now
from dlict.core.errors import InputError
from dlict.i18n import text
from dlict.incidents.cases import CaseBook, IllegalTransitionError, as_record
from dlict.incidents.deadlines import next_open_deadline
from dlict.incidents.model import (
    Case,
    CaseStatus,
    Category,
    Deadline,
    DeadlineKind,
    ObservableKind,
    TaskState,
    ThreatLevel,
    may_move,
)

_E = TypeVar("_E", bound=StrEnum)

ActorOption = Annotated[str | None, typer.Option(
    "--actor", help="Who acts, when not the login running dlict (also DLICT_ACTOR); the trail "
    "records it with the login.", show_default=False)]
CaseArg = Annotated[str, typer.Argument(help="The case, e.g. INC-2569-0007.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    for name, command in (("open", open_case), ("list", list_cases), ("show", show_case),
                          ("update", update_case), ("task", task), ("note", note),
                          ("observable", observable), ("close", close), ("reopen", reopen)):
        app.command(name)(command)


# -- commands -------------------------------------------------------------------------------

def open_case(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="What happened, in one line.")],
    description: Annotated[str, typer.Option(help="The longer story.")] = "",
    reporter: Annotated[str, typer.Option(help="Who reported it.")] = "",
    owner: Annotated[str, typer.Option(help="Who handles it.")] = "",
    category: Annotated[str, typer.Option(
        help="ThaiCERT/eCSIRT category: " + ", ".join(c.value for c in Category))
    ] = "other",
    threat_level: Annotated[str, typer.Option(
        "--threat-level", help="Cybersecurity Act level: non-serious, serious, critical.")
    ] = "non-serious",
    personal_data: Annotated[bool, typer.Option(
        "--personal-data", help="Personal data is involved (PDPA: 72 h to notify the PDPC).")
    ] = False,
    site: Annotated[list[str] | None, typer.Option("--site", help="An affected site "
                                                   "(repeatable).")] = None,
    host: Annotated[list[str] | None, typer.Option("--host", help="An affected host "
                                                   "(repeatable).")] = None,
    aware_at: Annotated[str | None, typer.Option(
        "--aware-at", help="When the office became aware (ISO; Bangkok time without a zone); "
        "now when not given.")] = None,
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Open a case; prints its id."""
    actx = app_context(ctx)
    with _book(actx, actor) as book:
        case = book.open(title=title, description=description, reporter=reporter, owner=owner,
                         category=_choice(Category, category, "--category"),
                         threat_level=_choice(ThreatLevel, threat_level, "--threat-level"),
                         personal_data=personal_data, sites=site or (), hosts=host or (),
                         aware_at=_when(aware_at, "--aware-at"))
        _print_case_result(actx, book, case)


def list_cases(
    ctx: typer.Context,
    include_closed: Annotated[bool, typer.Option(
        "--all", help="Closed cases and false positives too.")] = False,
    _json: JsonOption = False,
) -> None:
    """Open cases, the one whose next report is due soonest first."""
    actx = app_context(ctx)
    now = utc_now()
    with _book(actx, None) as book:
        cases = book.cases(include_closed=include_closed)
        due = {c.id: next_open_deadline(book.deadlines(c.id)) if c.status.is_open else None
               for c in cases}
    cases.sort(key=lambda c: _urgency(due[c.id], c))
    if actx.json_output:
        actx.print_json([as_record(c) | {"next_deadline": _deadline_dict(due[c.id], now)}
                         for c in cases])
        return
    if not cases:
        actx.console.print(text("incident.none", actx.lang), markup=False)
        return
    lang = actx.lang
    table = Table(*(text(f"incident.col.{k}", lang)
                    for k in ("case", "status", "level", "title", "next")))
    for case in cases:
        table.add_row(case.id, _word("status", case.status, lang),
                      _word("level", case.threat_level, lang), shown(case.title),
                      _next_text(due[case.id], now, lang))
    actx.console.print(table)


def show_case(
    ctx: typer.Context,
    case_id: CaseArg,
    trail: Annotated[bool, typer.Option("--trail", help="Also every recorded change.")] = False,
    _json: JsonOption = False,
) -> None:
    """One case: its fields, deadlines with time left, tasks, observables and timeline."""
    actx = app_context(ctx)
    with _book(actx, None) as book:
        _show(actx, book, book.get(case_id), with_trail=trail)


def update_case(
    ctx: typer.Context,
    case_id: CaseArg,
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    reporter: Annotated[str | None, typer.Option(help="Who reported it.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who handles it.")] = None,
    category: Annotated[str | None, typer.Option(help="ThaiCERT/eCSIRT category.")] = None,
    threat_level: Annotated[str | None, typer.Option(
        "--threat-level", help="non-serious, serious or critical.")] = None,
    personal_data: Annotated[bool | None, typer.Option(
        "--personal-data/--no-personal-data", help="Whether personal data is involved.",
        show_default=False)] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="The affected sites (all "
                                                   "of them; repeatable).")] = None,
    host: Annotated[list[str] | None, typer.Option("--host", help="The affected hosts (all "
                                                   "of them; repeatable).")] = None,
    aware_at: Annotated[str | None, typer.Option("--aware-at", help="When the office became "
                                                 "aware (ISO; Bangkok time without a zone).")
                        ] = None,
    status: Annotated[str | None, typer.Option(
        help="Move to: " + ", ".join(s.value for s in CaseStatus))] = None,
    reported: Annotated[str | None, typer.Option(
        help="Record a report as sent: pdpc, agency or ncsa.")] = None,
    reported_at: Annotated[str | None, typer.Option(
        "--reported-at", help="When that report was sent (default now).")] = None,
    note_text: Annotated[str, typer.Option("--note", help="Why (kept with a status "
                                           "change).")] = "",
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Change fields, move the status along the allowed steps, record a report as sent."""
    actx = app_context(ctx)
    fields: dict[str, Any] = {
        name: value for name, value in (
            ("title", title), ("description", description), ("reporter", reporter),
            ("owner", owner),
            ("category", category and _choice(Category, category, "--category")),
            ("threat_level", threat_level and _choice(ThreatLevel, threat_level,
                                                      "--threat-level")),
            ("personal_data", personal_data), ("sites", site), ("hosts", host),
            ("aware_at", _when(aware_at, "--aware-at"))) if value is not None}
    new_status = _choice(CaseStatus, status, "--status") if status else None
    report = _choice(DeadlineKind, reported, "--reported") if reported else None
    report_at = _when(reported_at, "--reported-at")
    if report_at is not None and report is None:
        raise InputError(f"{case_id}: --reported-at needs --reported pdpc|agency|ncsa")
    if not fields and new_status is None and report is None:
        raise InputError(f"{case_id}: nothing to update (give a field, --status or --reported)")
    with _book(actx, actor) as book:
        _refuse_before_writing(book, book.get(case_id), new_status, report)
        case = book.update(case_id, **fields) if fields else book.get(case_id)
        if new_status is not None:
            case = book.move(case_id, new_status, note_text)
        if report is not None:
            book.mark_reported(case_id, report, report_at)
        _print_case_result(actx, book, case)


def _refuse_before_writing(book: CaseBook, case: Case, status: CaseStatus | None,
                           report: DeadlineKind | None) -> None:
    """The checks of move and mark_reported, made before the first of the writes: a refused
    status or report leaves the fields given with it unwritten too."""
    if status is not None and not may_move(case.status, status):
        book.move(case.id, status)  # raises IllegalTransitionError, writing nothing
    if report is not None and report not in {d.kind for d in book.deadlines(case.id)}:
        book.mark_reported(case.id, report)  # raises InputError, writing nothing


def task(
    ctx: typer.Context,
    case_id: CaseArg,
    title: Annotated[str | None, typer.Argument(help="A new task's title.")] = None,
    owner: Annotated[str, typer.Option(help="Who does the new task.")] = "",
    number: Annotated[int | None, typer.Option("--number", help="The task to change.",
                                               min=1, max=1_000_000)] = None,
    state: Annotated[str | None, typer.Option(
        help="Its new state: " + ", ".join(s.value for s in TaskState))] = None,
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Add a task (TITLE), or change one's state (--number N --state done)."""
    actx = app_context(ctx)
    if (number is None) != (state is None) or (number is None) == (title is None):
        raise InputError(f"{case_id}: give a TITLE to add a task, or --number and --state to "
                         "change one")
    with _book(actx, actor) as book:
        if number is not None and state is not None:
            found = book.set_task(case_id, number, _choice(TaskState, state, "--state"))
        else:
            found = book.add_task(case_id, title or "", owner)
    _print_item(actx, as_record(found), f"{found.case_id} task {found.number}: "
                f"{found.state.value}: {found.title}")


def note(
    ctx: typer.Context,
    case_id: CaseArg,
    body: Annotated[str, typer.Argument(help="What to put on the timeline.")],
    at: Annotated[str | None, typer.Option("--at", help="When it happened (ISO; Bangkok "
                                           "time without a zone); default now.")] = None,
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Add an entry to the case's timeline."""
    actx = app_context(ctx)
    with _book(actx, actor) as book:
        entry = book.note(case_id, body, at=_when(at, "--at"))
    _print_item(actx, as_record(entry), f"{case_id}: noted at "
                f"{format_local(entry.at, actx.lang)}")


def observable(
    ctx: typer.Context,
    case_id: CaseArg,
    kind: Annotated[str, typer.Argument(
        help="ip, domain, url, hash, account or mac.", show_default=False)],
    value: Annotated[str, typer.Argument(help="The value (normalised before it is kept).")],
    note_text: Annotated[str, typer.Option("--note", help="Where it was seen.")] = "",
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Record an IP, domain, URL, hash, account or MAC; each is kept once per case."""
    actx = app_context(ctx)
    chosen = _choice(ObservableKind, kind, "KIND")
    with _book(actx, actor) as book:
        seen, added = book.observe(case_id, chosen, value, note_text)
    _print_item(actx, as_record(seen) | {"added": added},
                f"{case_id}: {seen.kind.value} {shown(seen.value)} "
                f"{'added' if added else 'already recorded'}")


def close(
    ctx: typer.Context,
    case_id: CaseArg,
    false_positive: Annotated[bool, typer.Option(
        "--false-positive", help="Close it as a false positive.")] = False,
    note_text: Annotated[str, typer.Option("--note", help="Why.")] = "",
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Close the case (or mark it a false positive)."""
    target = CaseStatus.FALSE_POSITIVE if false_positive else CaseStatus.CLOSED
    _move(ctx, case_id, target, note_text, actor)


def reopen(
    ctx: typer.Context,
    case_id: CaseArg,
    note_text: Annotated[str, typer.Option("--note", help="Why.")] = "",
    actor: ActorOption = None,
    _json: JsonOption = False,
) -> None:
    """Take a closed case (or a false positive) back to triage."""
    _move(ctx, case_id, CaseStatus.TRIAGE, note_text, actor, only_closed=True)


# -- helpers ---------------------------------------------------------------------------------

@contextmanager
def _book(actx: AppContext, actor: str | None) -> Iterator[CaseBook]:
    inventory = actx.inventory() if actx.settings.inventory is not None else None
    with actx.open_store() as store:
        yield CaseBook(store, inventory, actor=actor)


def _move(ctx: typer.Context, case_id: str, status: CaseStatus, note_text: str,
          actor: str | None, *, only_closed: bool = False) -> None:
    actx = app_context(ctx)
    with _book(actx, actor) as book:
        current = book.get(case_id).status
        if only_closed and current.is_open:
            raise IllegalTransitionError(f"{case_id}: cannot reopen: it is {current.value}, "
                                         "not closed")
        case = book.move(case_id, status, note_text)
        _print_case_result(actx, book, case)


def _print_case_result(actx: AppContext, book: CaseBook, case: Case) -> None:
    if actx.json_output:
        _show(actx, book, case, with_trail=False)
    else:
        actx.console.print(f"{case.id}: {case.status.value}: {shown(case.title)}",
                           markup=False)


def _print_item(actx: AppContext, record: dict[str, Any], line: str) -> None:
    if actx.json_output:
        actx.print_json(record)
    else:
        actx.console.print(line, markup=False)


def _show(actx: AppContext, book: CaseBook, case: Case, *, with_trail: bool) -> None:
    now = utc_now()
    deadlines = book.deadlines(case.id)
    tasks, seen = book.tasks(case.id), book.observables(case.id)
    timeline = book.timeline(case.id)
    trail = book.trail(case.id) if with_trail or actx.json_output else []
    if actx.json_output:
        actx.print_json(as_record(case) | {
            "deadlines": [_deadline_dict(d, now) for d in deadlines],
            "tasks": [as_record(t) for t in tasks],
            "observables": [as_record(o) for o in seen],
            "timeline": [as_record(e) for e in timeline],
            "trail": [as_record(t) for t in trail]})
        return
    lang, out = actx.lang, actx.console
    out.print(f"[bold]{case.id}[/bold] {shown(case.title)}")
    for label, value in (
            ("incident.col.status", _word("status", case.status, lang)),
            ("incident.col.level", _word("level", case.threat_level, lang)),
            ("incident.field.category", _word("category", case.category, lang)),
            ("incident.field.personal",
             text("incident.yes" if case.personal_data else "incident.no", lang)),
            ("incident.field.aware", format_local(case.aware_at, lang)),
            ("incident.field.opened", format_local(case.opened_at, lang)),
            ("incident.field.owner", case.owner or "-"),
            ("incident.field.reporter", case.reporter or "-"),
            ("incident.field.sites", ", ".join(case.sites) or "-"),
            ("incident.field.hosts", ", ".join(case.hosts) or "-")):
        out.print(f"  {text(label, lang)}: {shown(value)}")
    if case.description:
        out.print(shown(case.description, keep_newlines=True))
    _table(actx, "incident.deadlines", ("deadline", "due", "left"),
           [(_word("deadline", d.kind, lang), format_local(d.due_at, lang),
             _left_text(d, now, lang)) for d in deadlines])
    _table(actx, "incident.tasks", ("task", "state", "owner", "title"),
           [(str(t.number), t.state.value, t.owner or "-", t.title) for t in tasks])
    _table(actx, "incident.observables", ("kind", "value", "who", "text"),
           [(o.kind.value, o.value, o.added_by, o.note) for o in seen])
    _table(actx, "incident.timeline", ("when", "who", "kind", "text"),
           [(format_local(e.at, lang), e.who, e.kind, e.text) for e in timeline])
    if with_trail:
        _table(actx, "incident.trail", ("when", "who", "action", "text"),
               [(format_local(t.at, lang), t.who, t.action, _change_text(t.before, t.after))
                for t in trail])


def _table(actx: AppContext, title: str, columns: tuple[str, ...],
           rows: list[tuple[str, ...]]) -> None:
    if not rows:
        return
    lang = actx.lang
    table = Table(*(text(f"incident.col.{c}", lang) for c in columns),
                  title=text(title, lang), title_justify="left")
    for row in rows:
        table.add_row(*(shown(cell, keep_newlines=True) for cell in row))
    actx.console.print(table)


def _change_text(before: dict[str, Any], after: dict[str, Any]) -> str:
    if not before:
        return ", ".join(f"{k}={v}" for k, v in after.items()
                         if k in ("title", "value", "kind", "text", "number"))
    changed = [f"{k}: {before[k]} → {after.get(k)}" for k in before if before[k] != after.get(k)]
    extra = [f"{k}={v}" for k, v in after.items() if k not in before and v]
    return ", ".join(changed + extra)


def _urgency(deadline: Deadline | None, case: Case) -> tuple[int, str, str]:
    if deadline is None:
        return (1, "", case.opened_at.isoformat())
    return (0, deadline.due_at.isoformat(), case.opened_at.isoformat())


def _deadline_dict(deadline: Deadline | None, now: datetime) -> dict[str, Any] | None:
    if deadline is None:
        return None
    return as_record(deadline) | {
        "seconds_left": None if deadline.met_at else round((deadline.due_at - now)
                                                           .total_seconds())}


def _next_text(deadline: Deadline | None, now: datetime, lang: str) -> str:
    if deadline is None:
        return "-"
    return (f"{_word('deadline', deadline.kind, lang)}: {format_local(deadline.due_at, lang)}"
            f" ({_left_text(deadline, now, lang)})")


def _left_text(deadline: Deadline, now: datetime, lang: str) -> str:
    if deadline.met_at is not None:
        return text("incident.met", lang, when=format_local(deadline.met_at, lang))
    seconds = (deadline.due_at - now).total_seconds()
    key = "incident.left" if seconds >= 0 else "incident.overdue"
    return text(key, lang, span=_span(abs(seconds), lang))


def _span(seconds: float, lang: str) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return text("incident.span.days", lang, days=days, hours=hours)
    return text("incident.span.hours", lang, hours=hours, minutes=minutes)


def _word(group: str, value: StrEnum, lang: str) -> str:
    return text(f"incident.{group}.{value.value}", lang)


def _choice(kind: type[_E], value: str, option: str) -> _E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        raise InputError(f"{option} {value!r}: not one of "
                         f"{', '.join(member.value for member in kind)}") from None


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; without a zone it is Bangkok time (a date: its start)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{option} {value!r}: not an ISO date or date-time "
                         "(e.g. 2026-12-02T09:30 or 2026-12-02T02:30Z)") from None
    if len(value.strip()) == 10:
        moment = datetime.combine(moment.date(), time(0), BANGKOK)
    return moment if moment.tzinfo else moment.replace(tzinfo=BANGKOK)

