"""The words a reader sees come from dlict.i18n, in Thai (B.E. dates) or English (C.E./ISO).

Each report page is rendered from the inputs the report tests already use (the example
district, the sealed log tree of tests/logtree.py, the survey district of test_dltv_survey);
the log server's zipapp is built and run with Debian's python3 alone.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dlict.controls import load_catalog
from dlict.core.results import Result, Status
from dlict.core.store import Run, RunStatus
from dlict.i18n import text
from dlict.inventory import load_inventory
from dlict.logs import keys
from dlict.logs.bundle import build
from dlict.logs.check import check_tree
from dlict.reports.dltv_survey_render import render_html
from dlict.reports.html import render_audit_html
from dlict.reports.logs_html import render_logs_html
from lab.logtree import build_tree
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.unit.test_dltv_survey import END, START, STEP, build_survey, district_survey

# 10:04 on 2 December 2026 in Bangkok: B.E. 2569.
AUDITED = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)


def _audit_page(lang: str) -> str:
    inventory = load_inventory(EXAMPLE_INVENTORY)
    catalog = load_catalog()
    site = inventory.sites[1]
    results = [Result(site=site.id, host="h1", status=status, control=control.id,
                      evidence="seen", observed_at=AUDITED)
               for status, control in zip(Status, catalog.controls, strict=False)]
    run = Run(id=7, kind="audit", command="dlict audit", operator="somchai", dlict_version="x",
              started_at=AUDITED, finished_at=AUDITED, status=RunStatus.FINDINGS)
    return render_audit_html(run, results, catalog, inventory, lang)


def test_audit_page_thai_with_buddhist_era_and_english_with_iso_date() -> None:
    site = load_inventory(EXAMPLE_INVENTORY).sites[1]
    thai = _audit_page("th")
    assert "2 ธันวาคม 2569 10:04:05 น." in thai
    assert "รายงานผลการตรวจสอบมาตรการความมั่นคงปลอดภัยไซเบอร์" in thai
    assert "<th>ไม่ผ่าน</th>" in thai and "ไฟร์วอลล์ (5.5.1)" in thai
    assert site.meta.name_th in thai and site.meta.name_en not in thai
    english = _audit_page("en")
    assert "2026-12-02 10:04:05 (UTC+07:00)" in english and "2569" not in english
    assert "Cyber-security controls audit report" in english and "<th>fail</th>" in english
    assert site.meta.name_en in english and "ไม่ผ่าน" not in english
    assert '<html lang="en">' in english and '<html lang="th">' in thai


@pytest.fixture(scope="module")
def log_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    policy = build_tree(tmp_path_factory.mktemp("tree"), sources=2, days=5, lines_per_day=5,
                        now=now)
    public = keys.load_public(keys.public_path(policy.signing_key))
    report = check_tree(policy, public, now=now)
    return render_logs_html(report, "th"), render_logs_html(report, "en")


def test_logs_page_thai_with_buddhist_era_and_english_with_iso_days(
        log_report: tuple[str, str]) -> None:
    thai, english = log_report
    # The last day sealed is the day before "now" (1 December, local time of the tree).
    sealed = (datetime(2026, 12, 2, 3, 0, tzinfo=UTC).astimezone() - timedelta(days=1)).date()
    assert f"{sealed.day} ธันวาคม พ.ศ. 2569" in thai  # dates of documents carry the era
    assert "รายงานการเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์" in thai and "ผนึกถึงวันที่" in thai
    assert sealed.isoformat() in english and "2569" not in english.replace("B.E. 2564", "")
    assert "Computer traffic data retention report" in english and "Sealed to" in english


def test_dltv_survey_page_in_both_languages() -> None:
    inventory, data = district_survey()
    survey = build_survey(inventory, data, start=START, end=END, step_s=STEP)
    thai = render_html(survey, "th", END)
    assert "2 มิถุนายน พ.ศ. 2568 ถึง 29 มิถุนายน พ.ศ. 2568 (28 วัน)" in thai
    assert text("survey.title", "th") in thai and "ทดแทน LNB" in thai
    english = render_html(survey, "en", END)
    assert "2025-06-02 to 2025-06-29 (28 days)" in english and "2568" not in english
    assert text("survey.title", "en") in english and "replace LNB" in english


def test_cli_tables_follow_lang(cli: CliRunner) -> None:
    thai = cli("-i", str(EXAMPLE_INVENTORY), "--lang", "th", "inventory", "show")
    english = cli("-i", str(EXAMPLE_INVENTORY), "--lang", "en", "inventory", "show")
    assert (thai.code, english.code) == (0, 0), thai.stderr + english.stderr
    assert "8 หน่วยงาน (7 โรงเรียน), 20 เครื่อง" in thai.stdout and "เครื่อง" in thai.stdout
    assert "8 sites (7 schools), 20 hosts" in english.stdout and "Host" in english.stdout


def _zipapp(archive: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/bin/python3", "-I", str(archive), *args],
                          capture_output=True, text=True, check=False, cwd=archive.parent)


def test_zipapp_prints_its_lines_in_either_language(tmp_path: Path) -> None:
    """Debian's python3 in isolated mode: the archive carries dlict.i18n itself."""
    build_tree(tmp_path, sources=2, days=3)
    archive = tmp_path / "dlict-logs.pyz"
    archive.write_bytes(build())
    policy = str(tmp_path / "logging.json")
    english = _zipapp(archive, "check", "--policy", policy)
    assert english.returncode == 0, english.stderr
    assert "2 of 2 sources clean" in english.stdout and "days covered" in english.stdout
    thai = _zipapp(archive, "check", "--lang", "th", "--policy", policy)
    assert thai.returncode == 0, thai.stderr
    assert "แหล่งข้อมูลไม่มีปัญหา 2 จาก 2" in thai.stdout and "ผนึกถึง" in thai.stdout
    assert thai.stdout.splitlines()[0].startswith("ok ")  # the status word scripts look for
    key = tmp_path / "new.key"
    made = _zipapp(archive, "keygen", "--lang", "th", "--key", str(key))
    assert made.returncode == 0 and made.stdout.startswith(f"สร้าง {key} แล้ว (รหัสกุญแจ ")
