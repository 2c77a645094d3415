"""The CLI's words (from :mod:`dlict.i18n`), and how a value that is not ours (a school's
name, a host, a log line) is made safe to print."""

from __future__ import annotations

import json
import re

from rich.markup import escape as markup_escape

from dlict.core.printable import printable
from dlict.i18n import lookup

__all__ = ["json_text", "printable", "shown", "word"]

def word(key: str, lang: str) -> str:
    """The CLI word for ``key`` (``cli.<key>`` in :mod:`dlict.i18n`) in ``lang``; the key
    itself when there is none (a status or kind the catalogue does not name)."""
    return lookup(f"cli.{key}", lang) or key


# What JSON (ensure_ascii off, for Thai) would still write raw: JSON escapes C0 itself.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` ready for Rich (console, table cell or title, progress text): printable, and
    its ``[...]`` shown as written, never read as markup."""
    return markup_escape(printable(value, keep_newlines=keep_newlines))


def json_text(data: object) -> str:
    """``data`` as indented JSON that keeps Thai readable but writes every control character
    as a ``\\u`` escape: the same values, nothing a terminal would act on."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
