"""Append-only, hash-chained, Ed25519-signed records: the one chain that the log sealer's
manifests and the case evidence manifests are both made of.

A chain is a file of JSON lines. Each record carries, besides its own fields, ``seq`` (its line
number, from 1), ``prev`` (the hash of the record before it; :data:`GENESIS` for the first),
``key`` (the id of the key that signed it) and ``sig`` (Ed25519 over the canonical form of
every other field). A record's hash is the SHA-256 of its canonical form with the signature,
so changing, removing, adding or reordering a record breaks the link of the one after it.

This module knows nothing of what a record means: the caller parses a line into its own record
type and says what each :class:`Link` fault means for it. It uses only the standard library
and ``cryptography`` (the log server's zipapp ships it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dlict.core.errors import OperationalError

GENESIS = "0" * 64


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint that names the key in every record it signs."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def sign(private: Ed25519PrivateKey, body: dict[str, Any]) -> str:
    """The base64 signature of a record's body (every field but ``sig``)."""
    return base64.b64encode(private.sign(canonical(body))).decode()


def record_hash(body: dict[str, Any], sig: str) -> str:
    """What the next record's ``prev`` must be."""
    return hashlib.sha256(canonical({**body, "sig": sig})).hexdigest()


def record_line(body: dict[str, Any], sig: str) -> bytes:
    return canonical({**body, "sig": sig}) + b"\n"


class Signed(Protocol):
    """What a chained record offers; its other fields are the caller's."""

    @property
    def seq(self) -> int: ...

    @property
    def prev(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def sig(self) -> str: ...

    def body(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Signed)

#: Why a line of a chain cannot be trusted as it stands, or None when it can.
#: ``cut``: the last line ends without its newline (an append torn by a crash, or a cut file);
#: ``unparsed``: not a whole record; ``foreign-key``: signed with another key;
#: ``bad-signature``: does not match its signature; ``refused``: signed but the caller's
#: ``vet`` refuses it (``detail`` says why); ``chain-broken``: signed and well formed but not
#: the record that follows the one before it (records removed, added or reordered) — such a
#: record is still the signer's own, and the chain goes on from it.
FAULTS = ("cut", "unparsed", "foreign-key", "bad-signature", "refused", "chain-broken")


@dataclass(frozen=True)
class Link(Generic[R]):
    number: int  # the line number, from 1
    record: R | None  # None when the line is not a whole record
    fault: str | None
    detail: str = ""

    @property
    def trusted(self) -> bool:
        """Signed by the trusted key and accepted (even if its link is broken)."""
        return self.record is not None and self.fault in (None, "chain-broken")


def read_chain(raw: bytes, public: Ed25519PublicKey, parse: Callable[[bytes], R | None],
               vet: Callable[[R], str | None] | None = None) -> list[Link[R]]:
    """Every line of a chain with its verdict, in order.

    Arguments:
        raw: the chain file's bytes (the caller reads them, bounded).
        public: the trusted key.
        parse: a line → a record with every field of the right type and form, else None.
        vet: a further reason to distrust a validly signed record, or None.
    """
    lines = raw.split(b"\n")
    cut = lines[-1] != b""  # a chain always ends with a newline
    if not cut:
        lines = lines[:-1]
    trusted = key_id(public)
    # After a record that cannot be trusted, the next one's link cannot be judged.
    prev: str | None = GENESIS
    links: list[Link[R]] = []
    for number, line in enumerate(lines, start=1):
        record = parse(line)
        fault, detail = _fault(record, number, prev, public, trusted, vet)
        if record is None:
            fault = "cut" if number == len(lines) and cut else "unparsed"
        links.append(Link(number, record, fault, detail))
        trusted_record = record is not None and fault in (None, "chain-broken")
        prev = record_hash(record.body(), record.sig) if record is not None and trusted_record \
            else None
    return links


def _fault(record: R | None, number: int, prev: str | None, public: Ed25519PublicKey,
           trusted: str, vet: Callable[[R], str | None] | None) -> tuple[str | None, str]:
    if record is None:
        return "unparsed", ""
    if record.key != trusted:
        return "foreign-key", record.key
    try:
        signature = base64.b64decode(record.sig, validate=True)
    except (binascii.Error, ValueError):
        return "bad-signature", ""
    if not verify(public, signature, canonical(record.body())):
        return "bad-signature", ""
    reason = vet(record) if vet is not None else None
    if reason is not None:
        return "refused", reason
    if (prev is not None and record.prev != prev) or record.seq != number:
        return "chain-broken", ""
    return None, ""


def append_lines(path: Path, lines: Iterable[bytes]) -> None:
    """Append whole lines and flush them to disk before returning (0640 when new).

    Raises:
        OperationalError: a non-regular file is in the chain's place.
        OSError: the write fails (the caller names the cause).
    """
    # Never through a symlink, never into a FIFO (ENXIO at once instead of a hang).
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
                 | os.O_CLOEXEC, 0o640)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OperationalError(f"{path}: not a regular file; refusing to append to it")
        os.write(fd, b"".join(lines))
        os.fsync(fd)
    finally:
        os.close(fd)
