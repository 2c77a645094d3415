"""Copyable Thai in the PDFs: the text a reader (or pdftotext) gets back is the text printed.

WeasyPrint maps each glyph to the text of the first cluster it drew it in. The Thai shaper
draws SARA AM (ำ) as two glyphs, NIKHAHIT + SARA AA: the SARA AA glyph is then mapped to "ำ" or
"า", whichever came first on the page, and NIKHAHIT to nothing. So after "สำนักงาน" at the top
of a page, every "นารี" below reads back as "นำรี". The repair gives each such glyph its own
character from the font's character map: "า" reads back as "า", and "ำ" as its compatibility
decomposition "ํา" (equal under NFKC, and identical on screen and when pasted).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

_installed = False


def install() -> None:
    """Wrap WeasyPrint's font dictionary builder once, to repair the glyph map first."""
    global _installed
    if _installed:
        return
    import weasyprint.pdf as pdf_module

    original: Callable[..., Any] = pdf_module.build_fonts_dictionary

    def build_fonts_dictionary(pdf: Any, fonts: Mapping[str, Any], *args: Any) -> Any:
        for font in fonts.values():
            repair(font)
        return original(pdf, fonts, *args)

    pdf_module.build_fonts_dictionary = build_fonts_dictionary
    _installed = True


def repair(font: Any) -> None:
    """Give glyphs drawn as a part of a cluster (mapped to nothing, or to a character that
    decomposes, as ำ) their own character, where the font's character map names exactly one."""
    suspect = [g for g, text in font.to_unicode.items()
               if not text or unicodedata.normalize("NFKC", text) != text]
    if not suspect or getattr(font, "bitmap", False):
        return
    own = _characters(font.file_content, font.index)
    for glyph in suspect:
        character = own.get(glyph)
        if character is not None:
            font.to_unicode[glyph] = character


def _characters(content: bytes, index: int) -> dict[int, str]:
    """Glyph id → the one character the font maps to it (glyphs of several left out)."""
    from fontTools.ttLib import TTFont

    ttfont = TTFont(io.BytesIO(content), fontNumber=index, lazy=True)
    found: dict[int, list[int]] = {}
    for codepoint, name in ttfont.getBestCmap().items():
        found.setdefault(ttfont.getGlyphID(name), []).append(codepoint)
    return {glyph: chr(points[0]) for glyph, points in found.items() if len(points) == 1}
