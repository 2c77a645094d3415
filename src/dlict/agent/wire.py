"""How a batch of records travels from an agent to the office: the contract of both sides.

A batch is gzip-compressed JSON lines (``application/x-dlict-batch``). The first line is the
header — who sends, when by its own clock, how full its outbox is and what it has dropped —
each further line is one record. The intake decodes it with hard limits on every size, so a
hostile or broken body costs a bounded amount of memory and ends in one line naming the
record (line) that is wrong.

Endpoints (HTTPS; ``/v1/batch`` needs the agent's client certificate):
  ``GET  /v1/ca``      the office CA certificate (PEM), checked by the agent against its pin
  ``POST /v1/enroll``  JSON ``{"token", "csr"}`` → JSON ``{"certificate", "ca"}`` (PEM)
  ``POST /v1/batch``   a batch → JSON ``{"accepted": n, "duplicates": n}``
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dlict.agent.records import Kind, Record
from dlict.core.clock import to_utc
from dlict.core.errors import InputError

MEDIA_TYPE = "application/x-dlict-batch"
BATCH_PATH = "/v1/batch"
ENROLL_PATH = "/v1/enroll"
CA_PATH = "/v1/ca"
VERSION = 1

MAX_BATCH_BYTES = 8 * 1024 * 1024  # compressed, as received
MAX_DECODED_BYTES = 64 * 1024 * 1024
MAX_RECORDS = 20_000
MAX_LINE_BYTES = 64 * 1024
MAX_BODY_KEYS = 32

_KEY = re.compile(r"[0-9a-f]{32}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,252}")


class WireError(InputError):
    """A batch that cannot be taken as it is; nothing of it is stored."""


@dataclass(frozen=True, slots=True)
class BatchHeader:
    """Who sends a batch and the state of its outbox at the moment it was sent."""

    site: str
    host: str
    sent_at: datetime
    outbox_records: int = 0
    # Records dropped since the agent was installed, by kind (a counter, never reset).
    dropped: Mapping[str, int] = field(default_factory=dict)


def encode_batch(header: BatchHeader, records: Iterable[Record]) -> bytes:
    lines = [json.dumps({
        "v": VERSION, "site": header.site, "host": header.host,
        "sent_at": to_utc(header.sent_at).isoformat(), "outbox_records": header.outbox_records,
        "dropped": dict(header.dropped)}, ensure_ascii=False, separators=(",", ":"))]
    lines.extend(json.dumps({
        "key": r.key, "kind": str(r.kind), "site": r.site, "host": r.host,
        "at": r.created_at.isoformat(), "body": dict(r.body)},
        ensure_ascii=False, separators=(",", ":")) for r in records)
    return gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6, mtime=0)


def _inflate(data: bytes) -> bytes:
    if len(data) > MAX_BATCH_BYTES:
        raise WireError(f"batch: {len(data)} bytes; at most {MAX_BATCH_BYTES} are taken")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_DECODED_BYTES + 1)
    except zlib.error as exc:
        raise WireError(f"batch: not gzip data ({exc})") from exc
    if len(out) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
        raise WireError(f"batch: more than {MAX_DECODED_BYTES} bytes once decompressed")
    if not inflater.eof:
        raise WireError("batch: the gzip data is cut short")
    return out


def _name(value: Any, what: str, line: int) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise WireError(f"batch line {line}: {what} is not a valid name")
    return value


def _time(value: Any, what: str, line: int) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise WireError(f"batch line {line}: {what} is not an ISO time with a zone")
    return to_utc(moment)


def _count(value: Any, what: str, line: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise WireError(f"batch line {line}: {what} is not a count")
    return value


def _object(raw: bytes, line: int) -> dict[str, Any]:
    if len(raw) > MAX_LINE_BYTES:
        raise WireError(f"batch line {line}: longer than {MAX_LINE_BYTES} bytes")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"batch line {line}: not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise WireError(f"batch line {line}: not a JSON object")
    return value


def _header(raw: bytes) -> BatchHeader:
    value = _object(raw, 1)
    if value.get("v") != VERSION:
        raise WireError(f"batch line 1: version {value.get('v')!r}; this intake reads {VERSION}")
    dropped = value.get("dropped", {})
    if not isinstance(dropped, dict) or set(dropped) - {k.value for k in Kind}:
        raise WireError("batch line 1: dropped must map record kinds to counts")
    return BatchHeader(
        site=_name(value.get("site"), "site", 1), host=_name(value.get("host"), "host", 1),
        sent_at=_time(value.get("sent_at"), "sent_at", 1),
        outbox_records=_count(value.get("outbox_records", 0), "outbox_records", 1),
        dropped={k: _count(v, f"dropped.{k}", 1) for k, v in dropped.items()})


def _body(kind: Kind, body: Any, line: int) -> dict[str, Any]:
    if not isinstance(body, dict) or len(body) > MAX_BODY_KEYS:
        raise WireError(f"batch line {line}: body must be an object of at most "
                        f"{MAX_BODY_KEYS} keys")
    if kind is Kind.SAMPLE:
        value, labels = body.get("value"), body.get("labels")
        if (not isinstance(value, int | float) or isinstance(value, bool)
                or not isinstance(labels, dict) or len(labels) > MAX_BODY_KEYS
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())):
            raise WireError(f"batch line {line}: a sample needs a number value and string labels")
        _name(body.get("name"), "sample name", line)
    elif kind is Kind.RESULT:
        if body.get("status") not in {"pass", "fail", "error", "unreachable", "skipped"}:
            raise WireError(f"batch line {line}: a result needs a known status")
        if not (isinstance(body.get("control"), str) or isinstance(body.get("target"), str)):
            raise WireError(f"batch line {line}: a result names a control or a target")
    elif not isinstance(body.get("type"), str):
        raise WireError(f"batch line {line}: an event needs a type")
    return body


def _record(raw: bytes, line: int) -> Record:
    value = _object(raw, line)
    key = value.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise WireError(f"batch line {line}: key must be 32 lowercase hex digits")
    try:
        kind = Kind(str(value.get("kind")))
    except ValueError as exc:
        raise WireError(f"batch line {line}: unknown kind {value.get('kind')!r}") from exc
    return Record(kind=kind, site=_name(value.get("site"), "site", line),
                  host=_name(value.get("host"), "host", line),
                  body=_body(kind, value.get("body"), line),
                  created_at=_time(value.get("at"), "at", line), key=key)


def decode_batch(data: bytes) -> tuple[BatchHeader, list[Record]]:
    """The header and records of a batch as received.

    Raises:
        WireError: the first thing wrong with it, naming its line.
    """
    lines = _inflate(data).split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise WireError("batch: empty")
    if len(lines) - 1 > MAX_RECORDS:
        raise WireError(f"batch: {len(lines) - 1} records; at most {MAX_RECORDS} a batch")
    header = _header(lines[0])
    return header, [_record(raw, number) for number, raw in enumerate(lines[1:], start=2)]
