"""Access requests in the evidence store: the form's fields, each step's who and when, a trail.

A request moves ``received → checked → approved``, or to ``rejected`` from either of the first
two; an approval ends as ``revoked`` or ``expired``. ``renew`` moves an approval's expiry on.
Every write is one ``BEGIN IMMEDIATE`` transaction that also appends to ``access_trail``; the
register edit that goes with an approval runs inside that transaction (``then``), so the
request and the inventory change together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from dlict.core.clock import BANGKOK, BE_OFFSET, utc_now
from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore


class Status(StrEnum):
    RECEIVED = "received"
    CHECKED = "checked"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


OPEN = frozenset({Status.RECEIVED, Status.CHECKED})
ALLOWED: dict[str, frozenset[Status]] = {
    "check": frozenset({Status.RECEIVED}),
    "approve": frozenset({Status.RECEIVED, Status.CHECKED}),
    "reject": frozenset({Status.RECEIVED, Status.CHECKED}),
    "revoke": frozenset({Status.APPROVED}),
    "expire": frozenset({Status.APPROVED}),
    "renew": frozenset({Status.APPROVED}),
}


class RequestNotFoundError(InputError):
    """No access request of that id."""


class IllegalStepError(InputError):
    """The step does not follow from the request's status (approving a rejected request)."""


@dataclass(frozen=True)
class Requester:
    """The person on the form; ``id_masked``/``id_hmac`` stand for the national ID."""

    full_name: str
    id_masked: str
    id_hmac: str
    id_key: str
    position: str = ""
    unit: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class AccessRequest:
    id: str
    status: Status
    requester: Requester
    login: str
    systems: tuple[str, ...]
    hosts: tuple[str, ...]
    purpose: str
    duration_days: int
    received_at: datetime
    received_by: str
    checked_at: datetime | None = None
    checked_by: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    note: str = ""
    expires: date | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None

    def as_json(self) -> dict[str, object]:
        """The request as JSON data: the national ID only masked (never its hash)."""
        r = self.requester
        return {
            "id": self.id, "status": self.status.value,
            "requester": {"full_name": r.full_name, "national_id": r.id_masked,
                          "position": r.position, "unit": r.unit, "phone": r.phone,
                          "email": r.email},
            "login": self.login, "systems": list(self.systems), "hosts": list(self.hosts),
            "purpose": self.purpose, "duration_days": self.duration_days,
            "received_at": self.received_at.isoformat(), "received_by": self.received_by,
            "checked_at": _iso(self.checked_at), "checked_by": self.checked_by,
            "decided_at": _iso(self.decided_at), "decided_by": self.decided_by,
            "note": self.note, "expires": self.expires.isoformat() if self.expires else None,
            "ended_at": _iso(self.ended_at), "ended_by": self.ended_by,
        }


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    actor: str
    action: str
    detail: str = ""


@dataclass
class NewRequest:
    requester: Requester
    login: str
    systems: Sequence[str]
    hosts: Sequence[str]
    purpose: str
    duration_days: int
    received_by: str = ""
    received_at: datetime | None = None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def request_id(be_year: int, number: int) -> str:
    return f"ACC-{be_year}-{number:04d}"


_SELECT = ("SELECT id, status, full_name, id_masked, id_hmac, id_key, position, unit, phone,"
           " email, login, systems, hosts, purpose, duration_days, received_at, received_by,"
           " checked_at, checked_by, decided_at, decided_by, note, expires, ended_at, ended_by"
           " FROM access_requests")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _from_row(row: sqlite3.Row | tuple[object, ...]) -> AccessRequest:
    (rid, status, full_name, masked, hmac_, key, position, unit, phone, email, login, systems,
     hosts, purpose, duration, received_at, received_by, checked_at, checked_by, decided_at,
     decided_by, note, expires, ended_at, ended_by) = tuple(row)
    requester = Requester(str(full_name), str(masked), str(hmac_), str(key), str(position),
                          str(unit), str(phone), str(email))
    return AccessRequest(
        id=str(rid), status=Status(str(status)), requester=requester, login=str(login),
        systems=tuple(json.loads(str(systems))), hosts=tuple(json.loads(str(hosts))),
        purpose=str(purpose), duration_days=int(str(duration)),
        received_at=datetime.fromisoformat(str(received_at)), received_by=str(received_by),
        checked_at=_time(checked_at and str(checked_at)), checked_by=_opt(checked_by),
        decided_at=_time(decided_at and str(decided_at)), decided_by=_opt(decided_by),
        note=str(note), expires=date.fromisoformat(str(expires)) if expires else None,
        ended_at=_time(ended_at and str(ended_at)), ended_by=_opt(ended_by))


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class RequestBook:
    """The office's access requests, kept in the evidence store."""

    def __init__(self, store: EvidenceStore, *, actor: str,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.actor = actor
        self.now = now

    def open(self, new: NewRequest) -> AccessRequest:
        """Record a request received now (or at ``new.received_at``); returns it."""
        at = new.received_at or self.now()
        be_year = at.astimezone(BANGKOK).year + BE_OFFSET
        r = new.requester
        with self.store.transaction() as conn:
            (last,) = conn.execute("SELECT coalesce(max(number), 0) FROM access_requests "
                                   "WHERE be_year = ?", (be_year,)).fetchone()
            rid = request_id(be_year, int(last) + 1)
            conn.execute(
                "INSERT INTO access_requests (id, be_year, number, status, full_name, id_masked,"
                " id_hmac, id_key, position, unit, phone, email, login, systems, hosts, purpose,"
                " duration_days, received_at, received_by) VALUES"
                " (?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, be_year, int(last) + 1, r.full_name, r.id_masked, r.id_hmac, r.id_key,
                 r.position, r.unit, r.phone, r.email, new.login, json.dumps(list(new.systems)),
                 json.dumps(list(new.hosts)), new.purpose, new.duration_days, at.isoformat(),
                 new.received_by or self.actor))
            self._trail(conn, rid, at, "request", f"received by {new.received_by or self.actor}")
        return self.get(rid)

    def get(self, rid: str) -> AccessRequest:
        """Raises: RequestNotFoundError."""
        with self.store.reading() as conn:
            row = conn.execute(_SELECT + " WHERE id = ?",
                               (rid,)).fetchone()
        if row is None:
            raise RequestNotFoundError(f"no access request {rid} in {self.store.path}")
        return _from_row(row)

    def requests(self) -> list[AccessRequest]:
        with self.store.reading() as conn:
            rows = conn.execute(_SELECT + " ORDER BY be_year, number").fetchall()
        return [_from_row(row) for row in rows]

    def by_person(self, id_hmac: str) -> list[AccessRequest]:
        return [r for r in self.requests() if r.requester.id_hmac == id_hmac]

    def trail(self, rid: str) -> list[TrailEntry]:
        with self.store.reading() as conn:
            rows = conn.execute("SELECT at, actor, action, detail FROM access_trail "
                                "WHERE request_id = ? ORDER BY id", (rid,)).fetchall()
        return [TrailEntry(datetime.fromisoformat(a), b, c, d) for a, b, c, d in rows]

    def require_step(self, rid: str, step: str) -> AccessRequest:
        """The request, if ``step`` may follow its status.

        Raises:
            RequestNotFoundError, IllegalStepError.
        """
        current = self.get(rid)
        if current.status not in ALLOWED[step]:
            raise IllegalStepError(f"{rid}: cannot {step} a request that is {current.status}")
        return current

    def step(self, rid: str, step: str, *, by: str, detail: str = "",
             columns: dict[str, object] | None = None, status: Status | None = None,
             then: Callable[[], None] | None = None) -> AccessRequest:
        """Move ``rid`` by ``step``: set ``columns`` and ``status`` in one transaction with a
        trail entry; ``then`` runs inside it (the register edit) before the commit.

        Raises:
            RequestNotFoundError, IllegalStepError.
        """
        at = self.now()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT status FROM access_requests WHERE id = ?",
                               (rid,)).fetchone()
            if row is None:
                raise RequestNotFoundError(f"no access request {rid} in {self.store.path}")
            if Status(row[0]) not in ALLOWED[step]:
                raise IllegalStepError(f"{rid}: cannot {step} a request that is {row[0]}")
            values = dict(columns or {})
            if status is not None:
                values["status"] = status.value
            for name, value in values.items():
                stored = value.isoformat() if isinstance(value, date | datetime) else value
                conn.execute(f"UPDATE access_requests SET {name} = ? WHERE id = ?",  # noqa: S608
                             (stored, rid))
            self._trail(conn, rid, at, step, detail or f"by {by}")
            if then is not None:
                then()
        return self.get(rid)

    def _trail(self, conn: sqlite3.Connection, rid: str, at: datetime, action: str,
               detail: str) -> None:
        conn.execute("INSERT INTO access_trail (request_id, at, actor, action, detail)"
                     " VALUES (?, ?, ?, ?, ?)", (rid, at.isoformat(), self.actor, action, detail))
