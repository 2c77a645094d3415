"""Every PDF dlict writes: the report's own HTML, printed on A4 with a Thai font embedded.

One path for all documents (audit, logs, netdev, DLTV survey, compliance, monthly, incident
memos, access-request forms): a caller renders its HTML through ``dlict.reports.env`` and hands
it to :func:`write_pdf`. The print stylesheet here sets what an office document needs and the
screen page does not: A4 with the margins of Thai official letters (top 2.5 cm, left 3 cm,
right and bottom 2 cm), page numbers ("หน้า x/y" or "page x/y"), table headers repeated on
each page, no heading left alone at the foot of a page, and the font.

The font is TH Sarabun New when the machine has it (the font of Thai government documents),
else Laksaman from Debian's fonts-tlwg-laksaman, drawn to the same metrics. WeasyPrint embeds
the subset it uses, so the PDF reads the same on a machine without either. A machine without
any Thai font would print every Thai letter as an empty box: that is refused, not written.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from dlict.core.errors import OperationalError
from dlict.core.files import EVIDENCE_MODE, write_atomic
from dlict.reports import pdf_unicode

#: Families tried in order; the first one fontconfig knows is the document font.
THAI_FAMILIES = ("TH Sarabun New", "TH SarabunPSK", "Laksaman")
FONT_PACKAGE = "fonts-tlwg-laksaman"

_PAGE_WORD = {"th": "หน้า", "en": "page"}


def print_css(lang: str, family: str) -> str:
    """The stylesheet laid over a report's own CSS when it is printed."""
    word = _PAGE_WORD.get(lang, _PAGE_WORD["en"])
    return f"""
@page {{
  size: A4;
  margin: 2.5cm 2cm 2cm 3cm;
  @bottom-right {{
    content: "{word} " counter(page) "/" counter(pages);
    font-family: "{family}"; font-size: 12pt; color: #444;
  }}
}}
html, body {{ font-family: "{family}", sans-serif; font-size: 14pt; line-height: 1.25; }}
body {{ margin: 0; max-width: none; }}
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
    pdf_unicode.install()
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1, allow_redirects=False)
    document = HTML(string=html, base_url=base_url or "about:blank", url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=[CSS(string=print_css(lang, family))]))


def write_pdf(html: str, target: Path, lang: str, *, base_url: str | None = None) -> None:
    """Print ``html`` to ``target`` (mode 0640), whole or not at all.

    The PDF is made in memory first and written through a temporary file beside the target:
    a failure at any step leaves no file, or the previous one untouched.

    Raises:
        OperationalError: WeasyPrint or a Thai font is missing; the directory is not writable.
    """
    data = render_pdf(html, lang, base_url=base_url)
    write_atomic(target, data, EVIDENCE_MODE)
