"""``dlict report compliance`` from a fixed evidence store (tests/compliance_fixture.py): the PDF
is A4 with its Thai font embedded, pdftotext gives back the schools' Thai names and the B.E.
dates, and every figure equals the one worked out by hand below from the fixture."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from dlict.controls import load_catalog
from tests.compliance_fixture import NOT_A_LOG_SERVER, S1, S1_NAME, S2, S2_NAME, write_store
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.pdf_support import assert_printed

pytestmark = pytest.mark.integration

NOVEMBER = ("--from", "2569-11-01", "--to", "2026-11-30")  # B.E. and C.E. both accepted

# Worked out by hand from the fixture. The state at the end of November is each host ×
# control's latest result in November: S1-srv FW-01 pass, AV-01 pass (fixed on the 20th),
# LOG-02 not applicable; S2-srv FW-01 and AV-01 unreachable (the 20th); S1-gw FW-06 fail,
# S2-gw FW-06 pass. The apply run and the audit of 1 December are not counted.
# October (previous period): S1-srv FW-01 pass, AV-01 fail; S2-srv FW-01 fail, AV-01 pass.
FIREWALL = {"compliant": 2, "judged": 3, "percent": 66.7, "previous": 50.0, "change": 16.7,
            "hosts": (2, 3), "unreachable_hosts": 1, "not_applicable": 0}
ANTIVIRUS = {"compliant": 1, "judged": 1, "percent": 100.0, "previous": 50.0, "change": 50.0,
             "hosts": (1, 1), "unreachable_hosts": 1, "not_applicable": 0}
LOGGING = {"compliant": 0, "judged": 0, "not_applicable": 1}
TOTAL = (3, 4, 75.0)
# Per site, at the end of each day: S1 nothing until the 10th, then FW-01 pass + AV-01 fail
# (50 %), from the 20th both pass (100 %), from the 21st also FW-06 fail (2 of 3).
S1_TREND = [None] * 9 + [50.0] * 10 + [100.0] + [66.7] * 10
# S2: both pass from the 10th; the 20th only unreachable (no score, not 0 %); the 21st FW-06.
S2_TREND = [None] * 9 + [100.0] * 10 + [None] + [100.0] * 10


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_html_csv_json_hold_the_figures_worked_out_by_hand(cli: CliRunner,
                                                               tmp_path: Path) -> None:
    runs = write_store(tmp_path / "data")
    pdf, html, table = tmp_path / "c.pdf", tmp_path / "c.html", tmp_path / "c.csv"
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "compliance", *NOVEMBER,
                 "--pdf", str(pdf), "--html", str(html), "--csv", str(table), "--json")
    assert result.code == 1, result.stderr  # a control fails at the end of the period

    text = assert_printed(pdf, "1 พฤศจิกายน พ.ศ. 2569", "30 พฤศจิกายน พ.ศ. 2569",
                          "2 ตุลาคม พ.ศ. 2569", "31 ตุลาคม พ.ศ. 2569")
    # Thai has no spaces between words: a table cell may wrap a name anywhere.
    assert S1_NAME in _squeezed(text) and S2_NAME in _squeezed(text)
    fw, av = FIREWALL, ANTIVIRUS
    assert (f"5.5.1 ไฟร์วอลล์ {fw['compliant']}/{fw['judged']} {fw['percent']} "
            f"{fw['previous']} +{fw['change']} {fw['hosts'][0]}/{fw['hosts'][1]} "
            f"{fw['unreachable_hosts']} {fw['not_applicable']}") in text
    assert (f"5.5.2 แอนติไวรัส {av['compliant']}/{av['judged']} {av['percent']} "
            f"{av['previous']} +{av['change']} {av['hosts'][0]}/{av['hosts'][1]} "
            f"{av['unreachable_hosts']} {av['not_applicable']}") in text
    assert f"{TOTAL[0]}/{TOTAL[1]} {TOTAL[2]}" in text
    failures = text[text.index("รายการที่ไม่ผ่าน"):text.index("ข้อ 5.5.1")]
    fw06 = load_catalog().by_id["FW-06"]
    assert "วิกฤต" in failures and "FW-06" in failures and "s4401010001-gw" in failures
    assert _squeezed(fw06.fix) in _squeezed(failures)
    assert str(runs.devices) in failures
    assert NOT_A_LOG_SERVER in text  # the one open exception, with its reason

    page = html.read_text(encoding="utf-8")
    assert S1_NAME in page and S2_NAME in page and "<svg" in page
    assert page.count("<polyline") == 3  # S1: one line; S2: broken by the unreachable day

    data = json.loads(result.stdout)
    clauses = {c["clause"]: c for c in data["clauses"]}
    for clause, want in (("5.5.1", FIREWALL), ("5.5.2", ANTIVIRUS)):
        got = clauses[clause]
        assert (got["now"]["compliant"], got["now"]["judged"], got["now"]["percent"]) == (
            want["compliant"], want["judged"], want["percent"])
        assert got["previous"]["percent"] == want["previous"]
        assert got["change_points"] == want["change"]
        assert (got["hosts_compliant"], got["hosts_judged"]) == want["hosts"]
        assert got["hosts_unreachable"] == want["unreachable_hosts"]
    assert clauses["5.5.5"]["now"]["not_applicable"] == LOGGING["not_applicable"]
    assert clauses["5.5.5"]["now"]["percent"] is None
    assert (data["total"]["compliant"], data["total"]["judged"],
            data["total"]["percent"]) == TOTAL
    assert [(f["control"], f["host"], f["severity"], f["run"]) for f in data["failures"]] == [
        ("FW-06", "s4401010001-gw", "critical", runs.devices)]
    assert [(u["host"], u["controls"]) for u in data["unreachable"]] == [("s4401010002-srv", 2)]
    assert [(e["control"], e["evidence"]) for e in data["exceptions"]] == [
        ("LOG-02", NOT_A_LOG_SERVER)]
    trend = {t["site"]: t["days"] for t in data["trend"]}
    assert trend == {S1: S1_TREND, S2: S2_TREND}
    assert [r["id"] for r in data["runs"]] == [runs.second, runs.devices]
    changes = {(c["host"], c["control"]): (c["before"], c["now"]) for c in data["changes"]}
    assert changes[("s4401010001-srv", "AV-01")] == ("fail", "pass")
    assert changes[("s4401010002-srv", "FW-01")] == ("fail", "unreachable")
    assert changes[("s4401010001-gw", "FW-06")] == (None, "fail")
    assert ("s4401010001-srv", "FW-01") not in changes  # pass then pass

    rows = {r["control"]: r for r in csv.DictReader(io.StringIO(
        table.read_text(encoding="utf-8-sig")))}
    assert len(rows) == len(load_catalog().controls)
    assert (rows["FW-06"]["compliant"], rows["FW-06"]["judged"], rows["FW-06"]["runs"]) == (
        "1", "2", str(runs.devices))
    assert (rows["FW-01"]["compliant"], rows["FW-01"]["judged"], rows["FW-01"]["unreachable"],
            rows["FW-01"]["previous_compliant"], rows["FW-01"]["previous_judged"]) == (
        "1", "1", "1", "1", "2")
    for target in (pdf, html, table):
        assert target.stat().st_mode & 0o777 == 0o640


def test_one_site_in_english(cli: CliRunner, tmp_path: Path) -> None:
    write_store(tmp_path / "data")
    pdf = tmp_path / "s2.pdf"
    result = cli("--lang", "en", "-i", str(EXAMPLE_INVENTORY), "report", "compliance",
                 *NOVEMBER, "--site", S2, "--pdf", str(pdf), "--json")
    # S2 alone: FW-06 passes on its gateway, its server was unreachable: nothing fails.
    assert result.code == 0, result.stderr
    text = assert_printed(pdf, "2026-11-01", "2026-11-30", "Phadungnaree School",
                          "Unreachable hosts (counted apart, not as failures)",
                          "No control fails in this period.")
    assert "Sarakham Phitthayakhom" not in text
    assert "5.5.1 Firewall 1/1 100.0" in text
    firewall = json.loads(result.stdout)["clauses"][0]
    # S2's firewall: FW-06 passes on the gateway, the server unreachable (apart); in October
    # its FW-01 failed: 0 %.
    assert (firewall["now"]["percent"], firewall["previous"]["percent"],
            firewall["change_points"], firewall["hosts_unreachable"]) == (100.0, 0.0, 100.0, 1)
