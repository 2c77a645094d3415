"""A RouterOS export as the backup history keeps it."""

from __future__ import annotations

import re

from dlict.netdev.platforms.routeros.lexer import HEADER, logical_lines, token_spans

_SECRET_KEY = re.compile(r"password|secret|passphrase|pre-?shared-key|private-key|auth-key|"
                         r"authentication-key|md5-key|static-key")
_REDACTED = '"<secret removed by dlict>"'


def _redact(line: str) -> str:
    if line.lstrip().startswith("#"):
        return line
    pieces: list[str] = []
    last = 0
    for start, end in token_spans(line):
        key, eq, value = line[start:end].partition("=")
        if eq and not key.startswith(("[", '"')) and _SECRET_KEY.search(key) \
                and value not in ("", '""', _REDACTED):
            pieces.append(f"{line[last:start]}{key}={_REDACTED}")
            last = end
    return "".join(pieces) + line[last:]


def normalize_config(text: str) -> str:
    """An export as the backup history keeps it: the header's date dropped (its version kept as
    ``# RouterOS 7.14.3``), wrapped lines joined, line ends and trailing spaces made uniform,
    and every secret value (password=, secret=, wpa2-pre-shared-key=, private-key=...) replaced
    by _REDACTED. normalize_config(normalize_config(t)) == normalize_config(t)."""
    lines: list[str] = []
    for line in logical_lines(text):
        header = HEADER.match(line)
        lines.append(f"# RouterOS {header.group('version')}" if header else _redact(line))
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""
