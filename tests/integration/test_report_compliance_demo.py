"""The README's demo ends with the compliance PDF of the simulated district, and the guides
show its first page. The fleet is not started here: the district's history is recorded with
lab.compliance_history (the project's own run recording), the report is printed from it and
its first page converted as docs/img/compliance-page1.png was."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from lab.compliance_history import main as record_history
from tests.conftest import EXAMPLE_INVENTORY, REPO, CliRunner
from tests.pdf_support import assert_printed

pytestmark = pytest.mark.integration

PICTURE = REPO / "docs" / "img" / "compliance-page1.png"


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is no PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_demo_writes_the_compliance_pdf() -> None:
    script = (REPO / "bootstrap.sh").read_text(encoding="utf-8")
    demo = script[script.index("run_demo() {"):script.index("\n}\n", script.index("run_demo() {"))]
    assert re.search(r'report compliance \\\n\s+--pdf "\$state/compliance.pdf"', demo), demo


def test_the_guides_show_the_first_page_as_printed(cli: CliRunner, tmp_path: Path) -> None:
    for guide in ("guide.en.md", "guide.th.md"):
        assert "](img/compliance-page1.png)" in (REPO / "docs" / guide).read_text(encoding="utf-8")
    assert PICTURE.stat().st_size < 300_000
    data = tmp_path / "data"
    assert record_history(["-i", str(EXAMPLE_INVENTORY), "--data-dir", str(data),
                           "--end", "2026-11-30", "--days", "60"]) == 0
    pdf = tmp_path / "compliance.pdf"
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "compliance", "--from", "2569-11-01",
                 "--to", "2569-11-30", "--pdf", str(pdf), data_dir=data)
    assert result.code == 1, result.stderr  # the history has failing controls on purpose
    assert_printed(pdf, "1 พฤศจิกายน พ.ศ. 2569", "สรุปผลรายข้อของ SOP")
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm not found: bootstrap.sh installs poppler-utils"
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=120)
    (page,) = tmp_path.glob("page-*.png")  # pdftoppm pads the number to the page count
    assert _png_size(page) == _png_size(PICTURE)  # A4 at 80 dpi
