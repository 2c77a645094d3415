"""Every PDF dlict writes: the report's own HTML, printed on A4 with a Thai font embedded.

One path for all documents (audit, logs, netdev, DLTV survey, compliance, monthly, incident
memos, access-request forms): a caller renders its HTML through ``dlict.reports.env`` and hands
it to :func:`write_pdf`. The print stylesheet here sets what an office document needs and the
screen page does not: A4 with the margins of Thai official letters (top 2.5 cm, left 3 cm,
right and bottom 2 cm), page numbers ("หน้า x/y" or "page x/y"), table headers repeated on
each page, no heading left alone at the foot of a page, and the font.

Copied or extracted text must read back as printed. A PDF maps each glyph to one text, and
WeasyPrint takes it from the first place the glyph is drawn — for a cluster of several glyphs,
the whole cluster on its last glyph. Thai breaks that: the shaper draws ำ with the glyph of า,
and a tone mark over a low vowel (ผู้) with a shifted variant, so "สำนักงาน" read back as
"สานักงาน" and "เข้า" as "เขูา". So before the PDF is written every glyph the font names
after a character (``uni0E49.low`` is ้, ``uni0E33.alt1`` ำ) or maps in its cmap is given that
one character. Extracted ำ then reads as ํ + า, equal to ำ under NFKC.

The font is TH Sarabun New when the machine has it (the font of Thai government documents),
else Laksaman from Debian's fonts-tlwg-laksaman, drawn to the same metrics. WeasyPrint embeds
the subset it uses, so the PDF reads the same on a machine without either. A machine without
any Thai font would print every Thai letter as an empty box: that is refused, not written.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from dlict.core.errors import OperationalError
from dlict.core.files import EVIDENCE_MODE, write_atomic

#: Families tried in order; the first one fontconfig knows is the document font.
THAI_FAMILIES = ("TH Sarabun New", "TH SarabunPSK", "Laksaman")
FONT_PACKAGE = "fonts-tlwg-laksaman"
_GLYPH_NAME = re.compile(r"^uni([0-9A-F]{4})(?:\.|$)")
_PRIVATE_USE = range(0xE000, 0xF900)

_PAGE_WORD = {"th": "หน้า", "en": "page"}
#: fonts-tlwg-laksaman's fontconfig rule draws Laksaman at 0.66 of the size asked for "TH Sarabun"
LAKSAMAN_FOR_SARABUN = 0.66


def print_css(lang: str, family: str, scale: float = 1.0) -> str:
    """The stylesheet laid over a report's own CSS when it is printed.

    Every element but a ``.mono`` one (hashes) is set in ``family``, whatever family the
    report names: a "TH Sarabun" in a family list would reach fontconfig, whose
    fonts-tlwg-laksaman rule then hands Pango a Laksaman shrunk by a matrix that the embedded
    font does not carry, and the letters of the PDF overlap.
    """
    word = _PAGE_WORD.get(lang, _PAGE_WORD["en"])
    return f"""
@page {{
  size: A4;
  margin: 2.5cm 2cm 2cm 3cm;
  @bottom-right {{
    content: "{word} " counter(page) "/" counter(pages);
    font-family: "{family}"; font-size: {12 * scale:.1f}pt; color: #444;
  }}
}}
html, body, body *:not(.mono) {{ font-family: "{family}", sans-serif !important; }}
body {{ margin: 0; max-width: none; line-height: 1.3; }}
h1, h2, h3, h4 {{ break-after: avoid; page-break-after: avoid; }}
table {{ width: 100%; border-collapse: collapse; }}
thead {{ display: table-header-group; }}
tr, img, svg, figure, .keep {{ break-inside: avoid; page-break-inside: avoid; }}
.no-print, details > summary::marker {{ display: none; }}
details {{ display: block; }}
details > * {{ display: block; }}
.page-break {{ break-before: page; }}
a {{ color: inherit; text-decoration: none; }}
"""


def size_scale(family: str) -> float:
    """How much smaller ``family`` is set than the sizes the reports give, which are TH Sarabun
    New's (16 pt for body text, as Thai official letters use): 1 for TH Sarabun itself;
    Laksaman is drawn larger at the same size, so it is scaled as fonts-tlwg-laksaman's own
    fontconfig rule for "TH Sarabun" scales it."""
    return 1.0 if family.startswith("TH Sarabun") else LAKSAMAN_FOR_SARABUN


_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S | re.I)
_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_PT = re.compile(r"(font-size\s*:\s*)([\d.]+)pt")


def scale_font_sizes(html: str, scale: float) -> str:
    """``html`` with every ``font-size: Npt`` of its style sheets times ``scale`` (``.mono``
    rules kept: their font is not the Thai one)."""
    if scale == 1.0:
        return html

    def rule(match: re.Match[str]) -> str:
        selectors, declarations = match.group(1), match.group(2)
        if "mono" in selectors:
            return match.group(0)
        scaled = _PT.sub(lambda m: f"{m.group(1)}{float(m.group(2)) * scale:.1f}pt",
                         declarations)
        return f"{selectors}{{{scaled}}}"

    return _STYLE.sub(lambda m: m.group(1) + _RULE.sub(rule, m.group(2)) + m.group(3), html)


@lru_cache(maxsize=1)
def thai_font_family() -> str:
    """The first of :data:`THAI_FAMILIES` the machine has.

    Raises:
        OperationalError: no Thai font (or no fontconfig) is installed.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise OperationalError(
            f"fc-list: not found; a PDF needs fontconfig and a Thai font "
            f"(apt-get install fontconfig {FONT_PACKAGE}, or run bootstrap.sh)")
    listed = subprocess.run([fc_list, ":lang=th", "family"], capture_output=True, text=True,
                            timeout=30, check=False).stdout
    known = {name.strip() for line in listed.splitlines() for name in line.split(",")}
    for family in THAI_FAMILIES:
        if family in known:
            return family
    raise OperationalError(
        f"no Thai font is installed: every Thai letter would print as an empty box "
        f"(apt-get install {FONT_PACKAGE}, or run bootstrap.sh)")


def render_pdf(html: str, lang: str, *, base_url: str | None = None) -> bytes:
    """The PDF of ``html`` (a whole page from ``dlict.reports.env``) as bytes.

    Raises:
        OperationalError: WeasyPrint or a Thai font is missing.
    """
    family = thai_font_family()
    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango's libraries are missing
        raise OperationalError(
            f"cannot write PDF: WeasyPrint is not usable ({exc}); run bootstrap.sh, or "
            f"pip install 'dlict[reports]' and apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0") from exc
    # Reports are self-contained (inline CSS and SVG, data: images): a value in a report can
    # never make WeasyPrint read a local file or reach the network.
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1, allow_redirects=False)
    _map_glyphs_to_their_characters()
    scale = size_scale(family)
    document = HTML(string=scale_font_sizes(html, scale), base_url=base_url or "about:blank",
                    url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=[CSS(string=print_css(lang, family, scale))]))


def write_pdf(html: str, target: Path, lang: str, *, base_url: str | None = None) -> None:
    """Print ``html`` to ``target`` (mode 0640), whole or not at all.

    The PDF is made in memory first and written through a temporary file beside the target:
    a failure at any step leaves no file, or the previous one untouched.

    Raises:
        OperationalError: WeasyPrint or a Thai font is missing; the directory is not writable.
    """
    data = render_pdf(html, lang, base_url=base_url)
    write_atomic(target, data, EVIDENCE_MODE)


@lru_cache(maxsize=16)
def glyph_characters(file_content: bytes, index: int) -> dict[int, str]:
    """Glyph id → the one character it draws: from the glyph's name (``uniXXXX`` with any
    suffix), else from the font's cmap (private-use code points left out: TLWG fonts reach
    their positioned variants through them)."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(file_content), fontNumber=index, lazy=True)
    by_name: dict[str, str] = {}
    for code, name in sorted(font.getBestCmap().items()):
        if code not in _PRIVATE_USE:
            by_name.setdefault(name, chr(code))
    characters = {}
    for glyph_id, name in enumerate(font.getGlyphOrder()):
        named = _GLYPH_NAME.match(name)
        if named and int(named.group(1), 16) not in _PRIVATE_USE:
            characters[glyph_id] = chr(int(named.group(1), 16))
        elif name in by_name:
            characters[glyph_id] = by_name[name]
    return characters


def _map_glyphs_to_their_characters() -> None:
    """Wrap WeasyPrint's font dictionary builder (once) so each used glyph's text is its own
    character (see the module's docstring). WeasyPrint 70's internals: pinned in pyproject,
    and tests/unit/test_pdf_writer.py fails if this stops working."""
    import weasyprint.pdf as weasy_pdf

    original: Callable[..., Any] = weasy_pdf.build_fonts_dictionary
    if getattr(original, "dlict_maps_glyphs", False):
        return

    def build_fonts_dictionary(pdf: Any, fonts: Any, *args: Any, **kwargs: Any) -> Any:
        for font in fonts.values():
            if font.to_unicode and not font.bitmap:
                own = glyph_characters(bytes(font.file_content), font.index)
                for glyph_id in font.to_unicode:
                    if glyph_id in own:
                        font.to_unicode[glyph_id] = own[glyph_id]
        return original(pdf, fonts, *args, **kwargs)

    build_fonts_dictionary.dlict_maps_glyphs = True  # type: ignore[attr-defined]
    weasy_pdf.build_fonts_dictionary = build_fonts_dictionary
