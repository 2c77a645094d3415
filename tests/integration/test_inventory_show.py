"""`dlict inventory show`: sites with hosts and roles; Thai text lines up in the terminal."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.conftest import EXAMPLE_INVENTORY, CliRunner

pytestmark = pytest.mark.integration


def _display_width(line: str) -> int:
    """Columns a terminal gives a line: Thai vowel and tone marks (combining) take none."""
    return sum(0 if unicodedata.combining(ch) or unicodedata.category(ch) == "Mn" else 1
               for ch in line)


def test_show_in_thai_lines_up(cli: CliRunner) -> None:
    result = cli("-i", str(EXAMPLE_INVENTORY), "inventory", "show")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "8 หน่วยงาน (7 โรงเรียน), 20 เครื่อง" in out
    assert "โรงเรียนสารคามพิทยาคม" in out
    assert "โกสุมพิสัย" in out
    # every row of a table is as wide as its border: Thai marks did not shift the columns
    for block in out.split("\n┏"):
        rows = [line for line in block.splitlines() if line[:1] in "┃│┡└├┏━"]
        widths = {_display_width(line) for line in rows if line.startswith(("┃", "│"))}
        assert len(widths) <= 1, (widths, block)


def test_show_in_english(cli: CliRunner) -> None:
    result = cli("--lang", "en", "-i", str(EXAMPLE_INVENTORY), "inventory", "show")
    assert result.code == 0
    assert "Sarakham Phitthayakhom School" in result.stdout
    assert "network_devices (mikrotik_routeros)" in result.stdout


def test_show_json(cli: CliRunner) -> None:
    result = cli("--json", "-i", str(EXAMPLE_INVENTORY), "inventory", "show")
    data = json.loads(result.stdout)
    sites = {s["id"]: s for s in data["sites"]}
    assert len(sites) == 8
    office = sites["office"]
    assert office["kind"] == "office" and office["name_th"].startswith("สำนักงานเขตพื้นที่")
    hosts = {h["name"]: h for h in office["hosts"]}
    assert hosts["office-log"]["roles"] == ["linux_servers", "log_servers"]
    assert hosts["office-fw"]["device_type"] == "fortinet"
    assert sites["4401030004"]["dltv"] == {"source": "dvb_femon", "address": "127.10.4.21",
                                           "channels": [7, 8, 9, 10, 11, 12]}
