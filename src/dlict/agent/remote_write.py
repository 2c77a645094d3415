"""The agent's samples sent with Prometheus remote_write 1.0, so a province or the country can
point agents at Prometheus, Mimir or Thanos Receive instead of (or as well as) the intake.

One request is a protobuf ``prometheus.WriteRequest`` compressed with snappy's block format
and POSTed with the headers the specification requires. The protobuf is written here by hand:
four messages of two fields each do not justify a code generator. What the specification asks
of a sender and this module does: labels sorted by name with ``__name__`` among them, no empty
label, valid names; the samples of a series in time order; retry on 5xx (and 429), never on
another 4xx. What a receiver refuses with 400 (a sample older than it takes, for one) is
permanent: :class:`RemoteWriteRejectedError` says how many samples it cost, and the caller drops
them and reports the drop instead of retrying for ever.

A send may be cut into several requests (at most ``MAX_SAMPLES_PER_REQUEST`` samples each).
The samples of requests already delivered when a later one fails are remembered by their
records' keys, and the caller's retry of the same records skips them: Prometheus would refuse
their second copy as out of order, and with it the part that never arrived.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import math
import re
import socket
import ssl
import struct
import threading
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

from loguru import logger

from dlict import __version__
from dlict.agent.config import RemoteWriteSettings
from dlict.agent.records import Kind, Record
from dlict.core.errors import ConfigError, OperationalError, RetryableSendError
from dlict.core.extras import require_extra
from dlict.core.printable import printable

__all__ = [
    "MAX_SAMPLES_PER_REQUEST",
    "RemoteWriteClient",
    "RemoteWriteRejectedError",
    "RetryableSendError",
    "Series",
    "encode_write_request",
]

MAX_SAMPLES_PER_REQUEST = 2_000
# What the client reads of an answer: the specification reserves the body, and a 400 carries
# one line of reason; more than this is cut, never buffered whole.
MAX_ANSWER_BYTES = 4_096
REASON_CHARS = 300
USER_AGENT = f"dlict-agent/{__version__}"
HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "User-Agent": USER_AGENT,
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Prometheus' staleness marker: a sender must not send it as a value of its own.
_STALE_NAN_BITS = 0x7FF0000000000002
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a WriteRequest: its labels (sorted, ``__name__`` included) and its
    samples as ``(timestamp in ms since the epoch, value)``, oldest first."""

    labels: Labels
    samples: tuple[tuple[int, float], ...]


class RemoteWriteRejectedError(OperationalError):
    """The receiver refused samples for good (HTTP 4xx other than 429), or records could not
    be made into valid samples; sending them again cannot help. The rest was delivered."""

    def __init__(self, message: str, rejected: int) -> None:
        self.rejected = rejected
        super().__init__(message)


# -- protobuf, proto3 wire format -----------------------------------------------------------

_VARINT, _FIXED64, _LEN = 0, 1, 2


def _varint(value: int) -> bytes:
    value &= 0xFFFF_FFFF_FFFF_FFFF  # an int64 below zero is its two's complement, 10 bytes
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _length_delimited(1, name.encode()) + _length_delimited(2, value.encode())


def _sample(timestamp_ms: int, value: float) -> bytes:
    # proto3 leaves a field at its default out: +0.0 (not -0.0) and timestamp 0.
    out = b""
    bits = struct.pack("<d", value)
    if bits != bytes(8):
        out += _key(1, _FIXED64) + bits
    if timestamp_ms:
        out += _key(2, _VARINT) + _varint(timestamp_ms)
    return out


def _timeseries(series: Series) -> bytes:
    return (b"".join(_length_delimited(1, _label(n, v)) for n, v in series.labels)
            + b"".join(_length_delimited(2, _sample(t, v)) for t, v in series.samples))


def encode_write_request(series: Sequence[Series]) -> bytes:
    """The protobuf bytes of ``prometheus.WriteRequest{timeseries}`` (uncompressed)."""
    return b"".join(_length_delimited(1, _timeseries(s)) for s in series)


# -- records to series ----------------------------------------------------------------------

class _UnsendableError(ValueError):
    """A sample record that cannot become a valid remote_write sample."""


@dataclass(frozen=True, slots=True)
class _Point:
    labels: Labels
    timestamp_ms: int
    value: float
    key: str


def _labels_of(record: Record) -> Labels:
    body = record.body
    name = body.get("name")
    if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
        raise _UnsendableError(f"metric name {printable(name)!r} is not a valid Prometheus name")
    given = body.get("labels") or {}
    if not isinstance(given, Mapping):
        raise _UnsendableError(f"{name}: labels are not a mapping")
    labels: dict[str, str] = {}
    for label, value in given.items():
        if not isinstance(label, str) or not _LABEL_NAME.fullmatch(label) \
                or label.startswith("__"):
            raise _UnsendableError(f"{name}: label name {printable(label)!r} is not valid")
        if not isinstance(value, str) or not _is_utf8(value):
            raise _UnsendableError(f"{name}: label {label} is not UTF-8 text")
        if value:  # Prometheus takes an empty label for an absent one; the spec forbids it
            labels[label] = value
    for label, value in (("site", record.site), ("host", record.host)):
        if value:
            labels.setdefault(label, value)
    labels["__name__"] = name
    return tuple(sorted(labels.items()))


def _is_utf8(text: str) -> bool:
    """False for a string holding a lone surrogate (JSON can carry one), which has no UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _value_of(record: Record) -> float:
    name, value = printable(record.body.get("name")), record.body.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _UnsendableError(f"{name}: value {printable(value)!r} is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise _UnsendableError(f"{name}: value is out of a double's range") from None
    if math.isnan(number) and struct.unpack("<Q", struct.pack("<d", number))[0] \
            == _STALE_NAN_BITS:
        raise _UnsendableError(f"{name}: value is Prometheus' staleness marker")
    return number


def _point(record: Record) -> _Point:
    milliseconds = (record.created_at - _EPOCH) // _MILLISECOND
    return _Point(_labels_of(record), milliseconds, _value_of(record), record.key)


def _in_series_order(points: list[_Point]) -> tuple[list[_Point], list[_Point]]:
    """The points grouped by series (first seen first), each series oldest first, and the
    points superseded by a later one of the same series and millisecond (Prometheus refuses
    two values at one timestamp, and the request with them)."""
    by_series: dict[Labels, dict[int, _Point]] = {}
    superseded: list[_Point] = []
    for point in points:
        moments = by_series.setdefault(point.labels, {})
        if point.timestamp_ms in moments:
            superseded.append(moments[point.timestamp_ms])
        moments[point.timestamp_ms] = point
    ordered = [moments[t] for moments in by_series.values() for t in sorted(moments)]
    return ordered, superseded


def _as_series(points: Sequence[_Point]) -> list[Series]:
    grouped: dict[Labels, list[tuple[int, float]]] = {}
    for point in points:
        grouped.setdefault(point.labels, []).append((point.timestamp_ms, point.value))
    return [Series(labels, tuple(samples)) for labels, samples in grouped.items()]


def _chunks(points: list[_Point], size: int) -> Iterator[list[_Point]]:
    for start in range(0, len(points), size):
        yield points[start:start + size]


# -- the client -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    path: str
    query: str

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def shown(self) -> str:
        """The URL for messages and the log: without its query, where some receivers take a
        tenant's key."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return printable(f"{self.scheme}://{host}:{self.port}{self.path}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint(settings: RemoteWriteSettings) -> _Endpoint:
    parts = urllib.parse.urlsplit(str(settings.url))
    where = f"remote_write.url {printable(parts.scheme)}://{printable(parts.hostname)}"
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}: do not put credentials in the URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: expected https://HOST[:PORT]/PATH")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(f"{where}: plain http only to a loopback address; use https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return _Endpoint(parts.scheme, parts.hostname, port, parts.path or "/", parts.query)


def _tls_context(settings: RemoteWriteSettings) -> ssl.SSLContext:
    if settings.ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(settings.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"remote_write.ca_file {printable(settings.ca_file)}: cannot be "
                          f"read as CA certificates ({_reason(exc)})") from exc


class _Watchdog:
    """Closes a connection's socket when a request runs past its deadline, so a receiver that
    answers one byte at a time cannot hold the agent longer than the timeout."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self._connection = connection
        self.fired = False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def _cut(self) -> None:
        self.fired = True
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._timer.cancel()


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str


class RemoteWriteClient:
    """Sends sample records to one remote_write receiver.

    Arguments:
        settings: the agent configuration's ``remote_write`` section.

    Raises:
        ConfigError: the URL is not one to send to (credentials in it, plain http off
            loopback), or the CA file cannot be read.
        OperationalError: the ``agent`` extra (cramjam, for snappy) is not installed.
    """

    def __init__(self, settings: RemoteWriteSettings) -> None:
        require_extra("agent", "cramjam")
        self.settings = settings
        self._endpoint = _endpoint(settings)
        self._context = _tls_context(settings) if self._endpoint.scheme == "https" else None
        # key -> None when delivered, or why the receiver refused it: for the caller's retry
        # of a send that failed after some of its requests got through.
        self._settled: dict[str, str | None] = {}

    def send(self, records: Sequence[Record]) -> None:
        """Deliver the sample records, in requests of at most ``MAX_SAMPLES_PER_REQUEST``.

        Returns when every sample was delivered.

        Raises:
            ValueError: a record is not a sample (a result or an event must never be sent,
                nor dropped, here).
            RetryableSendError: the receiver could not be reached, timed out, or answered
                5xx or 429; send the same records again later.
            RemoteWriteRejectedError: some samples were refused for good (4xx) or are not valid
                samples; the others were delivered. Do not send these records again.
        """
        not_samples = [r for r in records if r.kind is not Kind.SAMPLE]
        if not_samples:
            raise ValueError(f"remote_write sends samples only; got a {not_samples[0].kind} "
                             "record")
        keys = {r.key for r in records}
        self._settled = {k: v for k, v in self._settled.items() if k in keys}
        points, unsendable = self._points(records)
        ordered, superseded = _in_series_order(points)
        for point in superseded:
            self._settled[point.key] = None
        if ordered:
            self._deliver(ordered)
        refused = [why for r in records if (why := self._settled.get(r.key))]
        self._settled = {}
        problems = unsendable + refused
        if problems:
            raise RemoteWriteRejectedError(
                f"remote_write to {self._endpoint.shown}: {len(problems)} of {len(records)} "
                f"samples refused for good, first: {problems[0]}", len(problems))

    def _points(self, records: Sequence[Record]) -> tuple[list[_Point], list[str]]:
        points: list[_Point] = []
        unsendable: list[str] = []
        for record in records:
            if record.key in self._settled:
                continue
            try:
                points.append(_point(record))
            except _UnsendableError as exc:
                unsendable.append(str(exc))
        return points, unsendable

    def _deliver(self, points: list[_Point]) -> None:
        import cramjam  # the agent extra; checked in __init__

        connection = self._connect()
        try:
            for chunk in _chunks(points, MAX_SAMPLES_PER_REQUEST):
                body = bytes(cramjam.snappy.compress_raw(
                    encode_write_request(_as_series(chunk))))
                answer = self._post(connection, body)
                if 200 <= answer.status < 300:
                    outcome: str | None = None
                elif answer.status == 429 or answer.status >= 500:
                    raise RetryableSendError(
                        f"remote_write to {self._endpoint.shown} answered HTTP {answer.status}"
                        f"{_detail(answer.reason)}")
                else:
                    outcome = f"HTTP {answer.status}{_detail(answer.reason)}"
                    logger.warning("remote_write to {} refused {} samples: {}",
                                   self._endpoint.shown, len(chunk), outcome)
                for point in chunk:
                    self._settled[point.key] = outcome
        finally:
            connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        endpoint, timeout = self._endpoint, self.settings.timeout_s
        if self._context is not None:
            return http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout,
                                               context=self._context)
        return http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)

    def _post(self, connection: http.client.HTTPConnection, body: bytes) -> _Answer:
        shown, timeout = self._endpoint.shown, self.settings.timeout_s
        with _Watchdog(connection, timeout) as watchdog:
            try:
                connection.request("POST", self._endpoint.target, body=body, headers=HEADERS)
                response = connection.getresponse()
                text = response.read(MAX_ANSWER_BYTES)
                if not response.isclosed():
                    connection.close()  # what is left unread must not be the next answer
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if watchdog.fired or isinstance(exc, TimeoutError):
                    raise RetryableSendError(
                        f"remote_write to {shown} did not answer within {timeout:g} s") from exc
                raise RetryableSendError(
                    f"remote_write to {shown} cannot be reached: {_reason(exc)}") from exc
        if watchdog.fired:  # cut just after the answer came: the connection is not reusable
            connection.close()
        return _Answer(response.status, text.decode("utf-8", "replace"))


def _detail(reason: str) -> str:
    line = " ".join(reason.split())
    if not line:
        return ""
    cut = line[:REASON_CHARS] + ("…" if len(line) > REASON_CHARS else "")
    return f": {printable(cut)}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return printable(str(exc) or type(exc).__name__)
