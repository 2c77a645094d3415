"""Read a PDF dlict wrote the way a person checking it would: poppler's pdfinfo, pdffonts and
pdftotext (Debian's poppler-utils, installed by bootstrap.sh). A missing tool fails loudly."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

A4_POINTS = (595.276, 841.89)


def _poppler(tool: str, *args: str) -> str:
    program = shutil.which(tool)
    assert program, f"{tool} not found: bootstrap.sh installs poppler-utils"
    run = subprocess.run([program, *args], capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, f"{tool} {' '.join(args)}: {run.stderr.strip()}"
    return run.stdout


@dataclass(frozen=True)
class Font:
    name: str
    embedded: bool


def pdf_fonts(path: Path) -> list[Font]:
    lines = _poppler("pdffonts", str(path)).splitlines()[2:]
    fonts = []
    for line in lines:
        # name type... encoding emb sub uni object-id generation: the flags are columns 4-6
        # from the right.
        fields = line.split()
        fonts.append(Font(fields[0], fields[-5] == "yes"))
    return fonts


def pdf_text(path: Path) -> str:
    """The text as pdftotext gives it back in the order it was drawn (``-raw``: its layout
    guesses move Thai tone marks past the next letter), lines joined by single spaces,
    NFKC-normalised (dlict prints ำ as ํ + า, see dlict.reports.pdf)."""
    return as_printed(_poppler("pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"))


# Thai marks drawn over or under a consonant: a PDF keeps the order they were drawn in (the
# shaper puts NIKHAHIT of ำ before a tone mark, a tone mark beside a tall consonant before a
# low vowel), and pdftotext may see a gap before a shifted one.
_THAI_MARKS = ("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a"
               "\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e")
# A gap after a mark is closed only before a vowel no word starts with (า, ำ, ๅ).
_FOLLOWING_VOWELS = "\u0e32\u0e33\u0e45"
_MARK_RUN = re.compile(
    f"\\s*([{_THAI_MARKS}](?:\\s*[{_THAI_MARKS}])*)(?:\\s+(?=[{_FOLLOWING_VOWELS}]))?")


def as_printed(text: str) -> str:
    """``text`` as it looks on the page, in a form two equal-looking texts share: NFKC (ำ is
    ํ + า), whitespace squeezed, no gap around a Thai mark, the marks over one letter in
    code-point order."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARK_RUN.sub(lambda m: "".join(sorted(re.sub(r"\s", "", m.group(1)))), text)
    return re.sub(r"\s+", " ", text)


def pdf_pages(path: Path) -> tuple[int, tuple[float, float]]:
    """The number of pages and the first page's size in points."""
    info = _poppler("pdfinfo", str(path))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert size, info
    return pages, (float(size.group(1)), float(size.group(2)))


def assert_printed(path: Path, *expected: str) -> str:
    """A4, every font embedded and a Thai one among them, each of ``expected`` in the text
    (compared as printed, whitespace aside). Returns the text (:func:`pdf_text`)."""
    pages, size = pdf_pages(path)
    assert pages >= 1
    assert abs(size[0] - A4_POINTS[0]) < 1 and abs(size[1] - A4_POINTS[1]) < 1, size
    fonts = pdf_fonts(path)
    assert fonts and all(f.embedded for f in fonts), fonts
    assert any(re.search(r"Laksaman|Sarabun", f.name) for f in fonts), fonts
    text = pdf_text(path)
    # A narrow table cell breaks a Thai name anywhere onto lines of its own: whitespace aside.
    flat = re.sub(r"\s", "", text)
    for wanted in expected:
        assert re.sub(r"\s", "", as_printed(wanted)) in flat, f"{wanted!r} not in the PDF's text"
    return text
