"""RouterOS lexing, shared by the export parser, the print parser and the normaliser: words
split on whitespace except inside double quotes and ``[ ... ]``, escapes undone, wrapped lines
joined."""

from __future__ import annotations

import re

VERBS = frozenset({"add", "set", "remove", "unset", "enable", "disable", "move"})
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "_": " "}
_HEX_PAIR = re.compile(r"[0-9A-F]{2}")
HEADER = re.compile(r"^#.*\bby RouterOS\s+(?P<version>\S+)")
NORMALIZED_HEADER = re.compile(r"^# RouterOS\s+(?P<version>\S+)")


def token_spans(line: str) -> list[tuple[int, int]]:
    """Where the words of one line start and end: whitespace separates them except inside
    double quotes (with backslash escapes) and inside ``[ ... ]``."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    depth = 0
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if start is None:
            if ch.isspace():
                i += 1
                continue
            start = i
        if ch == "\\":
            i += 2
            continue
        if quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif ch.isspace() and depth == 0:
            spans.append((start, i))
            start = None
        i += 1
    if start is not None:
        spans.append((start, len(line)))
    return spans


def split_words(line: str) -> list[str]:
    return [line[a:b] for a, b in token_spans(line)]


def unescape(raw: str) -> str:
    """A RouterOS value as text: quotes removed, ``\\"``, ``\\n``, ``\\_`` and the ``\\E0``
    hex bytes (how an export writes UTF-8, e.g. Thai comments) decoded."""
    value = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if "\\" not in value:
        return value
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1:i + 3]
            if _HEX_PAIR.fullmatch(pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out += _ESCAPES.get(value[i + 1], value[i + 1]).encode()
            i += 2
            continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", errors="replace")


def logical_lines(text: str) -> list[str]:
    """Lines with a trailing-backslash continuation (a wrapped, non-terse export) joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if pending:
            line = pending + line.lstrip()
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            pending = line[:-1]
            continue
        pending = ""
        lines.append(line)
    if pending:
        lines.append(pending)
    return lines


