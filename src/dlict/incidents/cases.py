"""The case book: incident cases in the evidence store, every change with its trail entry.

Each write is one ``BEGIN IMMEDIATE`` transaction (``EvidenceStore.transaction``) that reads
the case as it is now, changes it and appends a :class:`~dlict.incidents.model.TrailEntry`
with what it was before and after. Two processes writing the same case queue on the lock,
and the second sees what the first wrote: nothing is lost and nothing changes unrecorded.

Who: the OS login running dlict (the login behind sudo if any). An ``actor`` (``--actor``,
``DLICT_ACTOR``) names the person or service acting through it; the trail then records
``actor (login NAME)`` so a claimed name never hides the account that made the change.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from dlict.core.clock import to_utc, utc_now
from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore, operator
from dlict.incidents.deadlines import case_deadlines
from dlict.incidents.model import (
    TRANSITIONS,
    Case,
    CaseSource,
    CaseStatus,
    Category,
    Deadline,
    DeadlineKind,
    Observable,
    ObservableKind,
    Task,
    TaskState,
    ThreatLevel,
    TimelineEntry,
    TrailEntry,
    case_id,
    may_move,
)
from dlict.incidents.observables import normalise
from dlict.inventory.models import IncidentSettings, Inventory

ACTOR_ENV = "DLICT_ACTOR"
MAX_TITLE = 200
MAX_TEXT = 20_000

#: The fields ``update`` may change; the status moves only through ``move``.
UPDATABLE = frozenset({"title", "description", "reporter", "owner", "category",
                       "threat_level", "personal_data", "group_key", "sites", "hosts",
                       "aware_at"})


class CaseNotFoundError(InputError):
    """The user named a case the store does not hold."""


class IllegalTransitionError(InputError):
    """A status change that TRANSITIONS does not allow."""


def who_is(actor: str | None) -> str:
    """What the trail records as "who": the login, or ``actor (login NAME)``."""
    login = operator()
    claimed = (actor if actor is not None else os.environ.get(ACTOR_ENV, "")).strip()
    if not claimed or claimed == login:
        return login
    _check_line(claimed, "actor", 100)
    return f"{claimed} (login {login})"


class CaseBook:
    """Incident cases kept in the evidence store.

    Arguments:
        store: an open evidence store (schema 6 or later).
        inventory: when given, sites and hosts are checked against it and its
            ``dlict_incidents`` sets the deadlines; without it, the defaults apply.
        actor: who acts (see the module's docstring); None reads ``DLICT_ACTOR``.
        now: the clock (UTC-aware), injected for tests.
    """

    def __init__(self, store: EvidenceStore, inventory: Inventory | None = None, *,
                 actor: str | None = None, now: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._inventory = inventory
        self._now = now
        self.who = who_is(actor)

    @property
    def settings(self) -> IncidentSettings:
        return self._inventory.incidents if self._inventory else IncidentSettings()

    # -- cases ------------------------------------------------------------------------------

    def open(self, *, title: str, description: str = "", reporter: str = "", owner: str = "",
             category: Category = Category.OTHER,
             threat_level: ThreatLevel = ThreatLevel.NON_SERIOUS, personal_data: bool = False,
             source: CaseSource = CaseSource.MANUAL, group_key: str = "",
             sites: Iterable[str] = (), hosts: Iterable[str] = (),
             aware_at: datetime | None = None) -> Case:
        """Open a new case, numbered next in the B.E. year of now (Bangkok time).

        Raises:
            InputError: an empty or multi-line title, an unknown site or host, a naive or
                future ``aware_at``.
        """
        now = self._now()
        fields = self._checked_fields({
            "title": title, "description": description, "reporter": reporter,
            "owner": owner, "category": category, "threat_level": threat_level,
            "personal_data": personal_data, "group_key": group_key, "sites": sites,
            "hosts": hosts, "aware_at": aware_at or now}, "new case", now)
        with self._store.transaction() as conn:
            number = _next_number(conn, case_id(now, 0))
            case = Case(id=case_id(now, number), status=CaseStatus.NEW,
                        source=CaseSource(source), opened_at=now, updated_at=now, **fields)
            _insert_case(conn, case)
            self._trail(conn, case.id, now, "open", {}, as_record(case))
            self._timeline(conn, case.id, now, "status", f"opened: {case.title}")
        return case

    def get(self, case_id: str) -> Case:
        """Raises: CaseNotFoundError."""
        with self._store.reading() as conn:
            return _load_case(conn, case_id)

    def cases(self, *, include_closed: bool = False) -> list[Case]:
        """Cases in order of opening (open ones only unless ``include_closed``)."""
        with self._store.reading() as conn:
            rows = conn.execute(_CASE_SELECT + " ORDER BY opened_at, id").fetchall()
        found = [_case_from_row(row) for row in rows]
        return found if include_closed else [c for c in found if c.status.is_open]

    def find_open(self, group_key: str) -> Case | None:
        """The open case of alert group ``group_key`` (the most recent if several)."""
        if not group_key:
            return None
        with self._store.reading() as conn:
            rows = conn.execute(_CASE_SELECT + " WHERE group_key = ? ORDER BY opened_at DESC",
                                (group_key,)).fetchall()
        return next((c for c in map(_case_from_row, rows) if c.status.is_open), None)

    def update(self, case_id: str, **fields: Any) -> Case:
        """Change some of the case's ``UPDATABLE`` fields; one trail entry with the fields'
        values before and after (none when nothing changes).

        Raises:
            CaseNotFoundError; InputError: an unknown field or a bad value.
        """
        unknown = sorted(set(fields) - UPDATABLE)
        if unknown:
            raise InputError(f"{case_id}: cannot update {', '.join(unknown)} (fields: "
                             f"{', '.join(sorted(UPDATABLE))}; the status moves with "
                             "close/reopen/update --status)")
        now = self._now()
        checked = self._checked_fields(fields, case_id, now)
        with self._store.transaction() as conn:
            case = _load_case(conn, case_id)
            before = as_record(case)
            changed = replace(case, **checked)
            after = as_record(changed)
            diff = [k for k in checked if before[k] != after[k]]
            if not diff:
                return case
            changed = replace(changed, updated_at=now)
            _write_case(conn, changed)
            self._trail(conn, case_id, now, "update", {k: before[k] for k in diff},
                        {k: after[k] for k in diff})
        return changed

    def move(self, case_id: str, status: CaseStatus, note: str = "") -> Case:
        """Move the case to ``status`` along TRANSITIONS, with a timeline entry.

        Raises:
            CaseNotFoundError; IllegalTransitionError.
        """
        status = CaseStatus(status)
        _check_text(note, f"{case_id}: note")
        now = self._now()
        with self._store.transaction() as conn:
            case = _load_case(conn, case_id)
            if not may_move(case.status, status):
                allowed = ", ".join(sorted(s.value for s in TRANSITIONS[case.status])) or "none"
                raise IllegalTransitionError(
                    f"{case_id}: cannot move from {case.status.value} to {status.value} "
                    f"(allowed: {allowed})")
            moved = replace(case, status=status, updated_at=now,
                            closed_at=None if status.is_open else now)
            _write_case(conn, moved)
            self._trail(conn, case_id, now, "status",
                        {"status": case.status.value, "closed_at": _iso(case.closed_at)},
                        {"status": status.value, "closed_at": _iso(moved.closed_at),
                         "note": note})
            text = f"{case.status.value} → {status.value}" + (f": {note}" if note else "")
            self._timeline(conn, case_id, now, "status", text)
        return moved

    # -- tasks ------------------------------------------------------------------------------

    def add_task(self, case_id: str, title: str, owner: str = "") -> Task:
        _check_line(title, f"{case_id}: task title", MAX_TITLE)
        _check_line(owner, f"{case_id}: task owner", MAX_TITLE, may_be_empty=True)
        now = self._now()
        with self._store.transaction() as conn:
            _load_case(conn, case_id)
            (last,) = conn.execute("SELECT coalesce(max(number), 0) FROM incident_tasks"
                                   " WHERE case_id = ?", (case_id,)).fetchone()
            task = Task(case_id=case_id, number=int(last) + 1, title=title.strip(),
                        state=TaskState.OPEN, owner=owner.strip(), created_at=now,
                        updated_at=now)
            conn.execute("INSERT INTO incident_tasks (case_id, number, title, state, owner,"
                         " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (case_id, task.number, task.title, task.state.value, task.owner,
                          _iso(now), _iso(now)))
            self._trail(conn, case_id, now, "task-add", {}, as_record(task))
            self._timeline(conn, case_id, now, "task", f"task {task.number}: {task.title}")
            self._touch(conn, case_id, now)
        return task

    def set_task(self, case_id: str, number: int, state: TaskState) -> Task:
        """Raises: CaseNotFoundError; InputError: no such task."""
        state = TaskState(state)
        now = self._now()
        with self._store.transaction() as conn:
            _load_case(conn, case_id)
            task = _load_task(conn, case_id, number)
            if task.state is state:
                return task
            moved = replace(task, state=state, updated_at=now)
            conn.execute("UPDATE incident_tasks SET state = ?, updated_at = ?"
                         " WHERE case_id = ? AND number = ?",
                         (state.value, _iso(now), case_id, number))
            self._trail(conn, case_id, now, "task-state",
                        {"number": number, "state": task.state.value},
                        {"number": number, "state": state.value})
            self._timeline(conn, case_id, now, "task",
                           f"task {number}: {task.state.value} → {state.value}")
            self._touch(conn, case_id, now)
        return moved

    def tasks(self, case_id: str) -> list[Task]:
        with self._store.reading() as conn:
            _load_case(conn, case_id)
            rows = conn.execute(_TASK_SELECT + " WHERE case_id = ? ORDER BY number",
                                (case_id,)).fetchall()
        return [_task_from_row(row) for row in rows]

    # -- timeline, observables --------------------------------------------------------------

    def note(self, case_id: str, text: str, *, kind: str = "note",
             at: datetime | None = None) -> TimelineEntry:
        """Add a timeline entry; ``at``: when it happened (default now).

        Raises:
            CaseNotFoundError; InputError: empty text, a naive or future ``at``.
        """
        _check_text(text, f"{case_id}: note", may_be_empty=False)
        _check_line(kind, f"{case_id}: timeline kind", 40)
        now = self._now()
        when = _checked_time(at, f"{case_id}: note time", now) if at else now
        with self._store.transaction() as conn:
            _load_case(conn, case_id)
            entry = self._timeline(conn, case_id, when, kind, text.strip())
            self._trail(conn, case_id, now, "note", {}, as_record(entry))
            self._touch(conn, case_id, now)
        return entry

    def timeline(self, case_id: str) -> list[TimelineEntry]:
        """Entries in the order they happened."""
        with self._store.reading() as conn:
            _load_case(conn, case_id)
            rows = conn.execute("SELECT case_id, at, who, kind, text FROM incident_timeline"
                                " WHERE case_id = ? ORDER BY at, id", (case_id,)).fetchall()
        return [TimelineEntry(case_id=c, at=datetime.fromisoformat(a), who=w, kind=k, text=t)
                for c, a, w, k, t in rows]

    def observe(self, case_id: str, kind: ObservableKind, value: str,
                note: str = "") -> tuple[Observable, bool]:
        """Record an observable in its normalised spelling; (it, True if newly added).

        Raises:
            CaseNotFoundError; InputError: the value is not a ``kind``.
        """
        kind = ObservableKind(kind)
        try:
            spelled = normalise(kind, value)
        except ValueError as exc:
            raise InputError(f"{case_id}: observable {kind.value}: {exc}") from None
        _check_text(note, f"{case_id}: observable note")
        now = self._now()
        with self._store.transaction() as conn:
            _load_case(conn, case_id)
            row = conn.execute(_OBSERVABLE_SELECT + " WHERE case_id = ? AND kind = ?"
                               " AND value = ?", (case_id, kind.value, spelled)).fetchone()
            if row is not None:
                return _observable_from_row(row), False
            seen = Observable(case_id=case_id, kind=kind, value=spelled, note=note.strip(),
                              added_by=self.who, added_at=now)
            conn.execute("INSERT INTO incident_observables (case_id, kind, value, note,"
                         " added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (case_id, kind.value, spelled, seen.note, self.who, _iso(now)))
            self._trail(conn, case_id, now, "observable", {}, as_record(seen))
            self._touch(conn, case_id, now)
        return seen, True

    def observables(self, case_id: str) -> list[Observable]:
        with self._store.reading() as conn:
            _load_case(conn, case_id)
            rows = conn.execute(_OBSERVABLE_SELECT + " WHERE case_id = ?"
                                " ORDER BY added_at, kind, value", (case_id,)).fetchall()
        return [_observable_from_row(row) for row in rows]

    # -- trail, deadlines -------------------------------------------------------------------

    def trail(self, case_id: str) -> list[TrailEntry]:
        with self._store.reading() as conn:
            _load_case(conn, case_id)
            rows = conn.execute("SELECT seq, case_id, at, who, action, before, after"
                                " FROM incident_trail WHERE case_id = ? ORDER BY seq",
                                (case_id,)).fetchall()
        return [TrailEntry(seq=s, case_id=c, at=datetime.fromisoformat(a), who=w, action=ac,
                           before=json.loads(b), after=json.loads(af))
                for s, c, a, w, ac, b, af in rows]

    def deadlines(self, case_id: str) -> list[Deadline]:
        """The case's reporting deadlines, soonest first (see ``dlict.incidents.deadlines``)."""
        with self._store.reading() as conn:
            case = _load_case(conn, case_id)
            met = _met_reports(conn, case_id)
        return case_deadlines(case, self.settings, met)

    def all_deadlines(self) -> dict[str, list[Deadline]]:
        """Every open case's deadlines, by case id (for ``list`` and the metrics)."""
        with self._store.reading() as conn:
            rows = conn.execute(_CASE_SELECT + " ORDER BY opened_at, id").fetchall()
            open_cases = [c for c in map(_case_from_row, rows) if c.status.is_open]
            return {c.id: case_deadlines(c, self.settings, _met_reports(conn, c.id))
                    for c in open_cases}

    def mark_reported(self, case_id: str, kind: DeadlineKind,
                      at: datetime | None = None) -> Deadline:
        """Record that the ``kind`` report was sent (at ``at``, default now).

        Raises:
            CaseNotFoundError; InputError: the case has no such deadline, or ``at`` is naive
                or in the future.
        """
        kind = DeadlineKind(kind)
        now = self._now()
        when = _checked_time(at, f"{case_id}: report time", now) if at else now
        with self._store.transaction() as conn:
            case = _load_case(conn, case_id)
            met = _met_reports(conn, case_id)
            due = {d.kind: d for d in case_deadlines(case, self.settings, met)}
            if kind not in due:
                why = ("the case involves no personal data" if kind is DeadlineKind.PDPC
                       else "the policy sets no window for this threat level")
                raise InputError(f"{case_id}: no {kind.value} report is due: {why}")
            conn.execute("INSERT OR REPLACE INTO incident_reports (case_id, kind, met_at, who)"
                         " VALUES (?, ?, ?, ?)", (case_id, kind.value, _iso(when), self.who))
            self._trail(conn, case_id, now, "reported", {"kind": kind.value,
                        "met_at": _iso(met.get(kind))},
                        {"kind": kind.value, "met_at": _iso(when)})
            self._timeline(conn, case_id, when, "report", f"{kind.value} report sent")
            self._touch(conn, case_id, now)
        return replace(due[kind], met_at=when)

    # -- inside a transaction ---------------------------------------------------------------

    def _trail(self, conn: sqlite3.Connection, case_id: str, at: datetime, action: str,
               before: dict[str, Any], after: dict[str, Any]) -> None:
        conn.execute("INSERT INTO incident_trail (case_id, at, who, action, before, after)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     (case_id, _iso(at), self.who, action,
                      json.dumps(before, ensure_ascii=False, sort_keys=True),
                      json.dumps(after, ensure_ascii=False, sort_keys=True)))

    def _timeline(self, conn: sqlite3.Connection, case_id: str, at: datetime, kind: str,
                  text: str) -> TimelineEntry:
        conn.execute("INSERT INTO incident_timeline (case_id, at, who, kind, text)"
                     " VALUES (?, ?, ?, ?, ?)", (case_id, _iso(at), self.who, kind, text))
        return TimelineEntry(case_id=case_id, at=to_utc(at), who=self.who, kind=kind,
                             text=text)

    @staticmethod
    def _touch(conn: sqlite3.Connection, case_id: str, now: datetime) -> None:
        conn.execute("UPDATE incident_cases SET updated_at = ? WHERE id = ?",
                     (_iso(now), case_id))

    def _checked_fields(self, fields: dict[str, Any], where: str, now: datetime
                        ) -> dict[str, Any]:
        """The fields as the Case holds them, or InputError naming the first bad one."""
        checked: dict[str, Any] = {}
        for name, value in fields.items():
            checked[name] = self._checked(name, value, where, now)
        return checked

    def _checked(self, name: str, value: Any, where: str, now: datetime) -> Any:
        if name == "title":
            return _check_line(str(value), f"{where}: title", MAX_TITLE)
        if name in ("reporter", "owner"):
            return _check_line(str(value), f"{where}: {name}", MAX_TITLE, may_be_empty=True)
        if name == "group_key":
            return _check_line(str(value), f"{where}: group key", 1000, may_be_empty=True)
        if name == "description":
            return _check_text(str(value), f"{where}: description")
        if name == "category":
            return _enum(Category, value, f"{where}: category")
        if name == "threat_level":
            return _enum(ThreatLevel, value, f"{where}: threat level")
        if name == "personal_data":
            if not isinstance(value, bool):
                raise InputError(f"{where}: personal data must be yes or no")
            return value
        if name == "aware_at":
            return _checked_time(value, f"{where}: time of awareness", now)
        if name == "sites":
            return self._known(value, "site", where)
        return self._known(value, "host", where)

    def _known(self, names: Iterable[str], what: str, where: str) -> tuple[str, ...]:
        if isinstance(names, str):
            names = [names]
        found: list[str] = []
        for name in names:
            name = _check_line(str(name), f"{where}: {what}", 200)
            if not self._in_inventory(what, name):
                source = self._inventory.source if self._inventory else ""
                raise InputError(f"{where}: unknown {what} {name!r} (not in the inventory "
                                 f"{source})")
            if name not in found:
                found.append(name)
        return tuple(found)

    def _in_inventory(self, what: str, name: str) -> bool:
        inventory = self._inventory
        if inventory is None:
            return True
        if what == "host":
            return name in inventory.hosts
        return any(site.id == name for site in inventory.sites)


# -- rows ---------------------------------------------------------------------------------

_CASE_SELECT = ("SELECT id, title, description, reporter, owner, status, category,"
                " threat_level, personal_data, source, group_key, sites, hosts, aware_at,"
                " opened_at, updated_at, closed_at FROM incident_cases")
_TASK_SELECT = ("SELECT case_id, number, title, state, owner, created_at, updated_at"
                " FROM incident_tasks")
_OBSERVABLE_SELECT = ("SELECT case_id, kind, value, note, added_by, added_at"
                      " FROM incident_observables")


def _next_number(conn: sqlite3.Connection, zero_id: str) -> int:
    year_be = int(zero_id.split("-")[1])
    (number,) = conn.execute(
        "INSERT INTO incident_counters (year_be, last) VALUES (?, 1) ON CONFLICT (year_be)"
        " DO UPDATE SET last = last + 1 RETURNING last", (year_be,)).fetchone()
    return int(number)


def _case_values(case: Case) -> tuple[Any, ...]:
    return (case.id, case.title, case.description, case.reporter, case.owner,
            case.status.value, case.category.value, case.threat_level.value,
            int(case.personal_data), case.source.value, case.group_key,
            json.dumps(list(case.sites), ensure_ascii=False),
            json.dumps(list(case.hosts), ensure_ascii=False), _iso(case.aware_at),
            _iso(case.opened_at), _iso(case.updated_at), _iso(case.closed_at))


def _insert_case(conn: sqlite3.Connection, case: Case) -> None:
    conn.execute("INSERT INTO incident_cases (id, title, description, reporter, owner, status,"
                 " category, threat_level, personal_data, source, group_key, sites, hosts,"
                 " aware_at, opened_at, updated_at, closed_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 _case_values(case))


def _write_case(conn: sqlite3.Connection, case: Case) -> None:
    values = _case_values(case)
    conn.execute("UPDATE incident_cases SET title = ?, description = ?, reporter = ?,"
                 " owner = ?, status = ?, category = ?, threat_level = ?, personal_data = ?,"
                 " source = ?, group_key = ?, sites = ?, hosts = ?, aware_at = ?,"
                 " opened_at = ?, updated_at = ?, closed_at = ? WHERE id = ?",
                 (*values[1:], values[0]))


def _load_case(conn: sqlite3.Connection, case_id: str) -> Case:
    row = conn.execute(_CASE_SELECT + " WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise CaseNotFoundError(f"{case_id}: no such case (dlict incident list shows the "
                                "open ones)")
    return _case_from_row(row)


def _case_from_row(row: tuple[Any, ...]) -> Case:
    (cid, title, description, reporter, owner, status, category, level, personal, source,
     group_key, sites, hosts, aware, opened, updated, closed) = row
    return Case(id=cid, title=title, description=description, reporter=reporter, owner=owner,
                status=CaseStatus(status), category=Category(category),
                threat_level=ThreatLevel(level), personal_data=bool(personal),
                source=CaseSource(source), group_key=group_key,
                sites=tuple(json.loads(sites)), hosts=tuple(json.loads(hosts)),
                aware_at=datetime.fromisoformat(aware), opened_at=datetime.fromisoformat(opened),
                updated_at=datetime.fromisoformat(updated),
                closed_at=datetime.fromisoformat(closed) if closed else None)


def _load_task(conn: sqlite3.Connection, case_id: str, number: int) -> Task:
    row = conn.execute(_TASK_SELECT + " WHERE case_id = ? AND number = ?",
                       (case_id, number)).fetchone()
    if row is None:
        raise InputError(f"{case_id}: no task {number}")
    return _task_from_row(row)


def _task_from_row(row: tuple[Any, ...]) -> Task:
    cid, number, title, state, owner, created, updated = row
    return Task(case_id=cid, number=number, title=title, state=TaskState(state), owner=owner,
                created_at=datetime.fromisoformat(created),
                updated_at=datetime.fromisoformat(updated))


def _observable_from_row(row: tuple[Any, ...]) -> Observable:
    cid, kind, value, note, added_by, added_at = row
    return Observable(case_id=cid, kind=ObservableKind(kind), value=value, note=note,
                      added_by=added_by, added_at=datetime.fromisoformat(added_at))


def _met_reports(conn: sqlite3.Connection, case_id: str) -> dict[DeadlineKind, datetime]:
    rows = conn.execute("SELECT kind, met_at FROM incident_reports WHERE case_id = ?",
                        (case_id,)).fetchall()
    return {DeadlineKind(kind): datetime.fromisoformat(met) for kind, met in rows}


# -- values -------------------------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    # One fixed width, so that SQLite orders the texts as it would the times.
    return None if moment is None else to_utc(moment).isoformat(timespec="microseconds")


def as_record(item: Any) -> dict[str, Any]:
    """A dataclass as JSON-ready values (times in ISO UTC, enums as their values)."""
    return {k: _plain(v) for k, v in asdict(item).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.value if hasattr(value, "value") and not isinstance(value, bool) else value


def _enum(kind: type[Any], value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InputError(f"{where}: {value!r} is not one of {choices}") from None


def _check_line(text: str, where: str, limit: int, *, may_be_empty: bool = False) -> str:
    line = text.strip()
    if not line and not may_be_empty:
        raise InputError(f"{where}: must not be empty")
    if len(line) > limit:
        raise InputError(f"{where}: longer than {limit} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in line):
        raise InputError(f"{where}: must be one line without control characters")
    return line


def _check_text(text: str, where: str, *, may_be_empty: bool = True) -> str:
    body = text.strip()
    if not body and not may_be_empty:
        raise InputError(f"{where}: must not be empty")
    if len(body) > MAX_TEXT:
        raise InputError(f"{where}: longer than {MAX_TEXT} characters")
    if any((ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 127 for ch in body):
        raise InputError(f"{where}: contains control characters")
    return body


def _checked_time(value: Any, where: str, now: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InputError(f"{where}: needs a date and time with a time zone")
    moment = to_utc(value)
    if moment > now:
        raise InputError(f"{where}: {moment.isoformat()} is in the future")
    return moment


__all__ = [
    "ACTOR_ENV",
    "CaseBook",
    "CaseNotFoundError",
    "IllegalTransitionError",
    "as_record",
    "who_is",
]
