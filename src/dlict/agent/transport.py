"""One HTTPS POST of a batch to the office, and what its answer means for the records.

The caller gives the TLS context (``dlict.agent.enroll.client_context``: the office CA pinned,
the agent's certificate presented), so this module never reads a key. Every step is bounded:
connect, each read and the whole answer have a time limit, and no more than
``MAX_ANSWER_BYTES`` of an answer is read, so a broken or hostile office cannot hold the agent.

What an answer means:
  - 2xx: delivered; the records may leave the outbox.
  - 400, 403 and other 4xx (but 408 and 429): refused; sending again will not help until
    someone acts (a revoked certificate, a batch the office cannot read). The records stay.
  - 408, 429, 5xx, a connection that fails or times out: try again later. The records stay.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import socket
import ssl
import threading
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from dlict.agent.wire import BATCH_PATH, MEDIA_TYPE
from dlict.core.clock import utc_now
from dlict.core.errors import InputError
from dlict.core.printable import printable

MAX_ANSWER_BYTES = 64 * 1024
_READ_CHUNK = 8 * 1024
_DETAIL_CHARS = 200


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one send: the outcome, the HTTP status if one came, one line why."""

    outcome: Outcome
    status: int | None = None
    detail: str = ""
    # The office's clock minus this machine's when the answer came (its Date header; 1 s).
    clock_offset_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def outcome_of(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in (408, 429) or status >= 500:
        return Outcome.RETRY
    return Outcome.REFUSED


@dataclass(frozen=True, slots=True)
class Office:
    """Where the office's intake listens, from the ``office`` URL of the configuration."""

    host: str
    port: int
    base_path: str

    @classmethod
    def from_url(cls, url: str) -> Office:
        """Raises: InputError: not an ``https://`` URL with a host."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise InputError(f"office {url}: the office is reached over https:// only")
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise InputError(f"office {url}: {exc}") from exc
        return cls(parts.hostname, port, parts.path.rstrip("/"))

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}{self.base_path}{path}"


class HttpsSender:
    """Posts bodies to one office over one TLS context, a new connection each time (a school's
    link drops between pushes; a kept connection would only fail later)."""

    def __init__(self, office: Office, context: ssl.SSLContext, timeout_s: float) -> None:
        self.office = office
        self._context = context
        self._timeout_s = timeout_s

    def send_batch(self, body: bytes) -> Delivery:
        """POST a batch (``wire.encode_batch``) to ``/v1/batch``."""
        return self.post(BATCH_PATH, body, MEDIA_TYPE)

    def post(self, path: str, body: bytes, content_type: str) -> Delivery:
        where = f"office {self.office.url(path)}"
        conn = http.client.HTTPSConnection(self.office.host, self.office.port,
                                           timeout=self._timeout_s, context=self._context)
        watchdog = _Watchdog(conn, self._timeout_s)
        try:
            conn.request("POST", self.office.base_path + path, body=body, headers={
                "Content-Type": content_type, "Content-Length": str(len(body))})
            answer = conn.getresponse()
            text = _read_bounded(answer)
        except ssl.SSLCertVerificationError as exc:
            if exc.verify_code in _CLOCK_VERIFY_CODES:
                # Not a forgery: this machine's clock is wrong. Retry: the clock gets fixed.
                return Delivery(Outcome.RETRY, None,
                                f"{where}: the office's certificate {exc.verify_message} by "
                                f"this machine's clock ({utc_now():%Y-%m-%d %H:%M} UTC): "
                                "set its time (NTP/chrony)")
            return Delivery(Outcome.REFUSED, None,
                            f"{where}: the office's certificate is not the pinned CA's "
                            f"({exc.verify_message})")
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.fired.is_set() or isinstance(exc, TimeoutError):
                return Delivery(Outcome.RETRY, None,
                                f"{where}: no answer within {self._timeout_s:g} s")
            return Delivery(Outcome.RETRY, None, f"{where}: unreachable ({_cause(exc)})")
        finally:
            watchdog.cancel()
            conn.close()
        outcome = outcome_of(answer.status)
        offset = _clock_offset(answer.getheader("Date"))
        if outcome is Outcome.DELIVERED:
            return Delivery(outcome, answer.status, "", offset)
        return Delivery(outcome, answer.status,
                        f"{where}: HTTP {answer.status} {_reason(text, answer.reason)}", offset)


# OpenSSL's X509_V_ERR_CERT_NOT_YET_VALID and X509_V_ERR_CERT_HAS_EXPIRED.
_CLOCK_VERIFY_CODES = frozenset({9, 10})


def _clock_offset(date_header: str | None) -> float | None:
    """The office's clock (its Date header) minus this machine's, in seconds."""
    if not date_header:
        return None
    try:
        office = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if office.tzinfo is None:
        return None
    return (office - utc_now()).total_seconds()


class _Watchdog:
    """Cuts the connection when the whole exchange has taken ``seconds``: the socket's own
    timeout bounds each read, not an office that drips one byte a second for ever."""

    def __init__(self, conn: http.client.HTTPSConnection, seconds: float) -> None:
        self._conn = conn
        self.fired = threading.Event()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        self.fired.set()
        sock = self._conn.sock
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the read blocked on it

    def cancel(self) -> None:
        self._timer.cancel()


def _read_bounded(answer: http.client.HTTPResponse) -> bytes:
    """At most ``MAX_ANSWER_BYTES`` of the answer (the rest is never read)."""
    chunks: list[bytes] = []
    kept = 0
    while kept < MAX_ANSWER_BYTES:
        chunk = answer.read(min(_READ_CHUNK, MAX_ANSWER_BYTES - kept))
        if not chunk:
            break
        chunks.append(chunk)
        kept += len(chunk)
    return b"".join(chunks)


def _reason(text: bytes, fallback: str) -> str:
    """The office's own one-line reason: the ``error`` of a JSON answer, else the text."""
    try:
        value = json.loads(text)
        said = value.get("error") if isinstance(value, dict) else None
    except ValueError:
        said = None
    if not isinstance(said, str):
        said = text.decode("utf-8", "replace").strip() or fallback
    return printable(" ".join(said.split())[:_DETAIL_CHARS])


def _cause(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"name not resolved: {exc.strerror}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return printable(str(exc) or type(exc).__name__)
