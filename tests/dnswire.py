"""The tests' own DNS encoder, independent of the probe's: the query's question echoed, then
answer records written by hand (0xC00C points at the question's name)."""

from __future__ import annotations

import ipaddress
import struct

POINTER_TO_QUESTION = b"\xc0\x0c"
DOCUMENTATION_ADDRESS = "192.0.2.1"  # TEST-NET-1: an answer's data, never a destination


def wire_name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def record(owner: bytes, kind: int, data: bytes) -> bytes:
    return owner + struct.pack("!HHIH", kind, 1, 300, len(data)) + data


def a_record(address: str = DOCUMENTATION_ADDRESS, owner: bytes = POINTER_TO_QUESTION) -> bytes:
    return record(owner, 1, ipaddress.ip_address(address).packed)


def question_of(query: bytes) -> bytes:
    """The question section of a one-question query (its name, type and class), without the
    EDNS0 record that follows it."""
    offset = 12
    while query[offset]:
        offset += 1 + query[offset]
    return query[12:offset + 5]


def header(query: bytes, ancount: int, flags: int = 0x8180) -> bytes:
    """An answer's header for ``query``: its id, ``flags``, one question, ``ancount`` answers
    (which may be a lie: the hostile tests claim more than they send)."""
    return query[:2] + struct.pack("!HHHHH", flags, 1, ancount, 0, 0)
