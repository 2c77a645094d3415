"""Text that is safe to send to a terminal, whatever value it was made from.

A school's name, a host name, a device's answer or a log line is not ours: it may hold an
escape sequence that rewrites the screen, or a newline that fakes a line of dlict's output.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode bidirectional overrides and isolates that
# reorder what a terminal shows.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_unprintable(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text that sends the terminal nothing but text.

    Every control character is shown as its escape (``\\n``, ``\\x1b``, ``\\u202e``), so
    a value from an inventory, a device or a log line can neither start a terminal escape
    sequence nor fake a line of dlict's output. ``keep_newlines`` keeps the line breaks of a
    value that is a block of lines by nature (evidence, a configuration diff).
    """
    text = str(value)
    if keep_newlines:
        return "\n".join(_UNPRINTABLE.sub(_escape_unprintable, line)
                         for line in text.split("\n"))
    return _UNPRINTABLE.sub(_escape_unprintable, text)
