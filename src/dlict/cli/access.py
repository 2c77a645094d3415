"""``dlict access``: the SOP's access-request form as a workflow (dlict.access)."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption, number_option
from dlict.cli.text import shown
from dlict.core.clock import BANGKOK, utc_now
from dlict.core.errors import InputError
from dlict.core.files import write_private
from dlict.core.numbers import NumberRange

if TYPE_CHECKING:
    from dlict.access.holidays import Calendar
    from dlict.access.register import Change, Edit
    from dlict.access.requests import AccessRequest, RequestBook
    from dlict.core.store import EvidenceStore
    from dlict.inventory import Inventory

app = typer.Typer(help="Access requests: the SOP's request form as a workflow that feeds the "
                  "approved-accounts register.", no_args_is_help=True)

MAX_DAYS = 3 * 365
ById = Annotated[str, typer.Argument(help="The request, e.g. ACC-2569-0001.")]
By = Annotated[str, typer.Option("--by", help="Who did this step (name as on the form).")]
Yes = Annotated[bool, typer.Option("--yes", help="Write the register change shown without "
                                   "asking (for scripts).")]


def _actor() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _today() -> date:
    return utc_now().astimezone(BANGKOK).date()


def _book(store: EvidenceStore) -> RequestBook:
    from dlict.access.requests import RequestBook

    return RequestBook(store, actor=_actor())


def _calendar(ctx: AppContext, inventory: Inventory) -> Calendar:
    from dlict.access.holidays import load_calendar

    name = inventory.access.holidays_file
    if name is None:
        return load_calendar()
    base = ctx.inventory_path()
    base = base if base.is_dir() else base.parent
    return load_calendar(Path(name) if Path(name).is_absolute() else base / name)


def _date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: '{text}' is not a date (YYYY-MM-DD)") from None


def _check_targets(inventory: Inventory, systems: list[str], hosts: list[str]) -> list[str]:
    """The hosts and groups the request covers: those asked for and those of its systems.

    Raises:
        InputError: an unknown system, host or group.
    """
    known_groups = {"all"} | {g for h in inventory.hosts.values() for g in h.groups}
    for code in systems:
        if code not in inventory.access.systems:
            raise InputError(f"--system: unknown system '{code}' (the inventory's dlict_access "
                             f"systems: {', '.join(sorted(inventory.access.systems))})")
    for name in hosts:
        if name not in inventory.hosts and name not in known_groups:
            raise InputError(f"--host: '{name}' is neither a host nor a group of the inventory "
                             f"{inventory.source}")
    covered = list(dict.fromkeys([*hosts, *(h for code in systems
                                            for h in inventory.access.systems[code].hosts)]))
    return covered


def _emit(ctx: AppContext, request: AccessRequest, change: Change | None = None,
          extra: dict[str, Any] | None = None) -> None:
    if ctx.json_output:
        data: dict[str, Any] = {"request": request.as_json(), **(extra or {})}
        if change is not None:
            data["register"] = {"file": str(change.path), "diff": change.diff,
                                "written": not change.empty}
        ctx.print_json(data)
        return
    ctx.console.print(f"{shown(request.id)}: {request.status.value}"
                      + (f", access ends {request.expires.isoformat()}" if request.expires
                         else ""))
    for line in (extra or {}).get("notes", []):
        ctx.console.print(shown(line))


def _review(ctx: AppContext, change: Change, yes: bool) -> None:
    """Show the diff; go on only with --yes or the operator's yes at a terminal."""
    if change.empty:
        return
    out = sys.stderr if ctx.json_output else sys.stdout
    out.write(change.diff)
    out.flush()
    if yes:
        return
    if sys.stdin.isatty() and typer.confirm(f"Write this change to {change.path}?"):
        return
    raise InputError(f"{change.path}: register change not confirmed; nothing written "
                     "(add --yes to write it)")


def _plan(ctx: AppContext, edit: Edit) -> Change:
    from dlict.access.register import plan

    return plan(ctx.inventory_path(), edit)


@app.command("request")
def request_cmd(
    ctx: typer.Context,
    full_name: Annotated[str, typer.Option("--name", help="Requester's full name.")],
    position: Annotated[str, typer.Option("--position", help="Requester's position.")],
    unit: Annotated[str, typer.Option("--unit", help="Requester's unit or school.")],
    purpose: Annotated[str, typer.Option("--purpose", help="What the access is for.")],
    system: Annotated[list[str], typer.Option("--system", help="A system asked for (code of "
                                              "dlict_access.systems); repeat for more.")],
    national_id: Annotated[str, typer.Option(
        "--national-id", prompt="National ID (13 digits)", hide_input=True,
        help="Requester's Thai national ID; asked without echo when left out. Checked by its "
        "check digit, stored only masked and as a keyed hash.")],
    host: Annotated[list[str] | None, typer.Option(
        "--host", help="A host or group asked for; repeat for more.")] = None,
    login: Annotated[str, typer.Option("--login", help="Login name of the account (needed "
                                       "when hosts are asked for).")] = "",
    phone: Annotated[str, typer.Option("--phone")] = "",
    email: Annotated[str, typer.Option("--email")] = "",
    days: Annotated[int, number_option("--days", NumberRange(1, MAX_DAYS, whole=True),
                                       f"Duration asked for, 1 to {MAX_DAYS} days.")] = 365,
    received_by: Annotated[str, typer.Option("--received-by",
                                             help="Who received the form.")] = "",
    _json: JsonOption = False,
) -> None:
    """Record a request received now, with the form's fields."""
    from dlict.access.national_id import IdKey, default_key_file, masked, normalise
    from dlict.access.requests import NewRequest, Requester
    from dlict.inventory.models import LOGIN_NAME

    app_ctx = app_context(ctx)
    digits = normalise(national_id)
    if not full_name.strip():
        raise InputError("--name: the requester's name is empty")
    inventory = app_ctx.inventory()
    hosts = _check_targets(inventory, system, list(host or []))
    if hosts and not LOGIN_NAME.match(login):
        raise InputError(f"--login: '{login}' is not a login name (lower-case letters, digits, "
                         "_ and -, at most 32); a request for hosts needs one")
    key = IdKey.load(default_key_file(), app_ctx.settings.data_dir, create=True)
    requester = Requester(full_name.strip(), masked(digits), key.digest(digits), key.key_id,
                          position, unit, phone, email)
    with app_ctx.open_store() as store:
        book = _book(store)
        earlier = [r.id for r in book.by_person(requester.id_hmac)]
        made = book.open(NewRequest(requester, login, system, hosts, purpose, days,
                                    received_by=received_by))
    notes = [f"the same person also asked in {', '.join(earlier)}"] if earlier else []
    _emit(app_ctx, made, extra={"same_person": earlier, "notes": notes})


@app.command("check")
def check_cmd(ctx: typer.Context, rid: ById, by: By,
              note: Annotated[str, typer.Option("--note")] = "", _json: JsonOption = False,
              ) -> None:
    """Record that the requester's rights were checked."""
    from dlict.access.requests import Status

    app_ctx = app_context(ctx)
    with app_ctx.open_store() as store:
        done = _book(store).step(
            rid, "check", by=by, detail=f"rights checked by {by}" + (f": {note}" if note else ""),
            columns={"checked_at": utc_now(), "checked_by": by}, status=Status.CHECKED)
    _emit(app_ctx, done)


@app.command("approve")
def approve_cmd(
    ctx: typer.Context, rid: ById, by: By,
    until: Annotated[str | None, typer.Option(
        "--until", help="Last day of access (YYYY-MM-DD); default: today plus the days "
        "asked for.")] = None,
    yes: Yes = False, _json: JsonOption = False,
) -> None:
    """Approve: record it and add the account to the register (diff shown first)."""
    from dlict.access.register import add_entry, entry
    from dlict.access.requests import Status

    app_ctx = app_context(ctx)
    today = _today()
    with app_ctx.open_store() as store:
        book = _book(store)
        current = book.require_step(rid, "approve")
        expires = _date("--until", until) if until else today + timedelta(
            days=current.duration_days)
        if expires < today:
            raise InputError(f"--until: {expires.isoformat()} is in the past")
        change = None
        if current.hosts:
            change = _plan(app_ctx, add_entry(entry(
                name=current.login, full_name=current.requester.full_name,
                position=current.requester.position, approved_by=by, approved_on=today,
                expires=expires, hosts=list(current.hosts), request=current.id)))
            _review(app_ctx, change, yes)
        done = book.step(rid, "approve", by=by, detail=f"approved by {by} until {expires}",
                         columns={"decided_at": utc_now(), "decided_by": by, "expires": expires},
                         status=Status.APPROVED, then=change.write if change else None)
    _emit(app_ctx, done, change)


@app.command("reject")
def reject_cmd(ctx: typer.Context, rid: ById, by: By,
               reason: Annotated[str, typer.Option("--reason", help="Why not.")],
               _json: JsonOption = False) -> None:
    """Reject: record who and why; the register is not touched."""
    from dlict.access.requests import Status

    app_ctx = app_context(ctx)
    with app_ctx.open_store() as store:
        done = _book(store).step(
            rid, "reject", by=by, detail=f"rejected by {by}: {reason}",
            columns={"decided_at": utc_now(), "decided_by": by, "note": reason},
            status=Status.REJECTED)
    _emit(app_ctx, done)


@app.command("revoke")
def revoke_cmd(
    ctx: typer.Context, by: By,
    rid: Annotated[str | None, typer.Argument(help="The request to revoke.")] = None,
    expired: Annotated[bool, typer.Option("--expired", help="End every approval whose "
                                          "expiry has passed.")] = False,
    reason: Annotated[str, typer.Option("--reason")] = "",
    yes: Yes = False, _json: JsonOption = False,
) -> None:
    """Revoke an approval (or, with --expired, end the lapsed ones): the register entry goes
    (diff shown first); the next `dlict apply identity` locks the account."""
    from dlict.access.register import remove_request
    from dlict.access.requests import Status

    app_ctx = app_context(ctx)
    if (rid is None) == (not expired):
        raise InputError("revoke: give one request, or --expired (not both)")
    today = _today()
    with app_ctx.open_store() as store:
        book = _book(store)
        if rid is not None:
            targets = [book.require_step(rid, "revoke")]
        else:
            targets = [r for r in book.requests() if r.status == Status.APPROVED
                       and r.expires is not None and r.expires < today]
        done = []
        for target in targets:
            step, status = ("revoke", Status.REVOKED) if rid else ("expire", Status.EXPIRED)
            change = _plan(app_ctx, remove_request(target.id))
            _review(app_ctx, change, yes)
            done.append((book.step(
                target.id, step, by=by, detail=f"{step} by {by}" + (f": {reason}" if reason
                                                                    else ""),
                columns={"ended_at": utc_now(), "ended_by": by,
                         **({"note": reason} if reason else {})},
                status=status, then=change.write), change))
    if app_ctx.json_output and rid is None:
        app_ctx.print_json({"ended": [r.as_json() for r, _ in done]})
        return
    for request, change in done:
        _emit(app_ctx, request, change)


@app.command("renew")
def renew_cmd(
    ctx: typer.Context, rid: ById, by: By,
    until: Annotated[str, typer.Option("--until", help="New last day of access.")],
    yes: Yes = False, _json: JsonOption = False,
) -> None:
    """Move an approval's expiry on (the register's expires too, diff shown first)."""
    from dlict.access.register import set_expiry

    app_ctx = app_context(ctx)
    expires = _date("--until", until)
    if expires < _today():
        raise InputError(f"--until: {expires.isoformat()} is in the past")
    with app_ctx.open_store() as store:
        book = _book(store)
        current = book.require_step(rid, "renew")
        change = None
        if current.hosts:
            change = _plan(app_ctx, set_expiry(current.id, expires))
            _review(app_ctx, change, yes)
        done = book.step(rid, "renew", by=by, detail=f"renewed by {by} until {expires}",
                         columns={"expires": expires}, then=change.write if change else None)
    _emit(app_ctx, done, change)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    metrics: Annotated[Path | None, typer.Option(
        "--metrics", help="Write the reminder counts in Prometheus text format here "
        "(node_exporter textfile).")] = None,
    _json: JsonOption = False,
) -> None:
    """Every request with its SLA, and the reminders: past SLA, expiring within 14 days."""
    from dlict.access.reminders import exposition, reminders, sla_of

    app_ctx = app_context(ctx)
    inventory = app_ctx.inventory()
    calendar = _calendar(app_ctx, inventory)
    today = _today()
    with app_ctx.open_store() as store:
        requests = _book(store).requests()
    found = reminders(requests, calendar, inventory.access, today)
    days = [sla_of(r, calendar, inventory.access, today).due for r in requests]
    uncovered = calendar.uncovered_years([today, *days])
    notes = [f"holidays of {', '.join(map(str, uncovered))} are not in {calendar.source}: "
             "working days there count weekends only" for _ in uncovered[:1]]
    if metrics is not None:
        write_private(metrics, exposition(requests, found, utc_now()))
    if app_ctx.json_output:
        app_ctx.print_json({
            "requests": [{**r.as_json(), "sla_due": d.isoformat()}
                         for r, d in zip(requests, days, strict=True)],
            "reminders": [{"request": m.request, "kind": m.kind, "day": m.day.isoformat(),
                           "text": m.text} for m in found],
            "notes": notes})
        return
    table = Table("request", "status", "name", "login", "systems", "received", "SLA due",
                  "expires")
    for r, due in zip(requests, days, strict=True):
        table.add_row(shown(r.id), r.status.value, shown(r.requester.full_name), shown(r.login),
                      shown(", ".join(r.systems)),
                      r.received_at.astimezone(BANGKOK).date().isoformat(), due.isoformat(),
                      r.expires.isoformat() if r.expires else "")
    app_ctx.console.print(table)
    for m in found:
        app_ctx.console.print(f"[yellow]reminder[/]: {shown(m.text)}")
    for note in notes:
        app_ctx.console.print(f"note: {shown(note)}")


@app.command("show")
def show_cmd(
    ctx: typer.Context, rid: ById,
    html: Annotated[Path | None, typer.Option("--html", help="Write the printable form "
                                              "(Thai; --lang en).")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the form as an A4 PDF.")] = None,
    _json: JsonOption = False,
) -> None:
    """One request, its trail, and the printable form (--html/--pdf)."""
    from dlict.access.form import render_form

    app_ctx = app_context(ctx)
    with app_ctx.open_store() as store:
        book = _book(store)
        request = book.get(rid)
        trail = book.trail(rid)
    if html is not None or pdf is not None:
        inventory = app_ctx.inventory()
        page = render_form(request, lang=app_ctx.lang, office=inventory.office,
                           settings=inventory.access, calendar=_calendar(app_ctx, inventory),
                           today=_today())
        if pdf is not None:
            from dlict.reports.pdf import write_pdf

            write_pdf(page, pdf, app_ctx.lang)
        if html is not None:
            write_private(html, page)
    if app_ctx.json_output:
        app_ctx.print_json({"request": request.as_json(), "trail": [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in trail]})
        return
    data = request.as_json()
    for name in ("id", "status", "login", "systems", "hosts", "purpose", "received_at",
                 "checked_by", "decided_by", "expires"):
        app_ctx.console.print(f"{name}: {shown(data[name])}")
    app_ctx.console.print(f"requester: {shown(data['requester'])}")
    for e in trail:
        app_ctx.console.print(f"  {e.at.astimezone(BANGKOK):%Y-%m-%d %H:%M} {shown(e.actor)} "
                              f"{e.action}: {shown(e.detail)}")
