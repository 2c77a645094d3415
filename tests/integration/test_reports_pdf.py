"""Every existing report printed: ``--pdf`` on ``dlict audit --report``, ``dlict netdev audit
--report`` and ``dlict logs check --report`` (the DLTV survey's is in
test_dltv_survey_prometheus.py, beside its Prometheus).

The audit runs against fake RouterOS devices (lab/devices, as test_netdev_audit.py): three
devices at two schools with Thai names, one compliant, one breaking FW-06 (critical), one
breaking LOG-06 (medium); the office's settings (dlict_office) name the director and the DLICT
group's head. The PDF is read back as a person checking it would: pdfinfo (A4), pdffonts
(embedded, Thai), pdftotext (the Thai names, the B.E. date, the figures).

Thai text is compared as it looks on the page (tests/pdf_support.as_printed: the PDF gives ำ
back as ํ + า) and without spaces, since a narrow table cell breaks a Thai name onto two lines.
That every glyph reads back as its own character is tested in tests/unit/test_pdf_writer.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from dlict.controls import CheckedBy, load_catalog
from dlict.core.store import EvidenceStore
from dlict.logs import keys
from dlict.logs.policy import Policy
from lab.devices.devicelab import FIXTURES, DeviceLab, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD
from lab.logtree import build_tree, source_names
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.pdf_support import as_printed, pdf_fonts, pdf_pages, pdf_text

pytestmark = pytest.mark.integration

THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
SCHOOLS = {"4401000001": "โรงเรียนผดุงนารี", "4401000002": "โรงเรียนสารคามพิทยาคม"}
OFFICE = {"name_th": "สำนักงานเขตพื้นที่การศึกษามัธยมศึกษามหาสารคาม",
          "name_en": "Maha Sarakham Secondary Educational Service Area Office",
          "director_name": "นายสมชาย ใจดี", "dlict_head_name": "นางสาวสมใจ รักงาน"}
DEVICES = (("gw-compliant", "compliant"), ("gw-fw06", "breaks-FW-06"),
           ("gw-log06", "breaks-LOG-06"))
NETDEV_CONTROLS = sorted(c.id for c in load_catalog().checked_by(CheckedBy.NETDEV))


def be_date(day: date) -> str:
    """The document date as the office writes it, spelled out here by hand."""
    return f"{day.day} {THAI_MONTHS[day.month - 1]} พ.ศ. {day.year + 543}"


def today_dates() -> set[str]:
    """Today in Bangkok as a document date; two when the test straddles midnight."""
    from dlict.core.clock import BANGKOK

    return {be_date(datetime.now(UTC).astimezone(BANGKOK).date())}


def squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _am_as_aa(text: str) -> str:
    """Text compared as the PDF gives it back (as_printed), without spaces (a narrow table
    cell breaks a Thai name onto two lines, pdftotext joins them with one)."""
    return re.sub(r"\s+", "", as_printed(text))


def printed(path: Path, *expected: str) -> str:
    """assert_printed's checks (A4, fonts embedded, a Thai one), each of ``expected`` in the
    text with spaces ignored. Returns the text so normalised."""
    pages, size = pdf_pages(path)
    assert pages >= 1 and abs(size[0] - 595.276) < 1 and abs(size[1] - 841.89) < 1, size
    fonts = pdf_fonts(path)
    assert fonts and all(f.embedded for f in fonts), fonts
    assert any(re.search(r"Laksaman|Sarabun", f.name) for f in fonts), fonts
    text = _am_as_aa(pdf_text(path))
    for wanted in expected:
        assert _am_as_aa(squeezed(wanted)) in text, f"{wanted!r} not in the PDF's text"
    return text


@pytest.fixture(scope="module")
def device_district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("audit-pdf")
    with DeviceLab() as lab:
        for name, case in DEVICES:
            lab.add(name, "routeros", outputs_from_case("routeros", FIXTURES / "routeros" / case))
        known_hosts = lab.write_known_hosts(root / "known_hosts")
        inventory = write_device_district(root / "inventory", lab.devices, known_hosts,
                                          per_school=2)
        for code, name in SCHOOLS.items():
            path = inventory / "group_vars" / f"school_{code}.yml"
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data["dlict_site"]["name_th"] = name
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        all_vars = inventory / "group_vars" / "all.yml"
        data = yaml.safe_load(all_vars.read_text(encoding="utf-8"))
        all_vars.write_text(yaml.safe_dump(data | {"dlict_office": OFFICE}, allow_unicode=True),
                            encoding="utf-8")
        yield inventory


@pytest.fixture
def device_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLICT_NETDEV_PASSWORD", DEFAULT_PASSWORD)


def test_netdev_audit_report_and_pdf(device_district: Path, cli: CliRunner, tmp_path: Path,
                                     device_env: None) -> None:
    page_file, pdf_file = tmp_path / "audit.html", tmp_path / "audit.pdf"
    result = cli("--json", "-i", str(device_district), "netdev", "audit",
                 "--report", str(page_file), "--pdf", str(pdf_file))
    assert result.code == 1, result.stderr
    run = json.loads(result.stdout)
    failing = sorted((r["host"], r["control"]) for r in run["results"] if r["status"] != "pass")
    assert failing == [("gw-fw06", "FW-06"), ("gw-log06", "LOG-06")]
    assert pdf_file.stat().st_mode & 0o777 == 0o640

    text = printed(pdf_file, *SCHOOLS.values(), OFFICE["name_th"],
                          OFFICE["director_name"], OFFICE["dlict_head_name"],
                          "รายการที่ไม่ผ่านหรือตรวจไม่ได้ (2)", "วิกฤต", "ปานกลาง")
    assert any(_am_as_aa(day) in text for day in today_dates()), text[:500]
    # Failures first, most severe first: FW-06 (critical) before LOG-06 (medium), both
    # before the passing checks, which the PDF shows only as counts per control.
    critical, medium = text.index(_am_as_aa("วิกฤต")), text.index(_am_as_aa("ปานกลาง"))
    counts = text.index(_am_as_aa("รายการที่ผ่าน: จำนวนเครื่องรายมาตรการ"))
    assert critical < medium < counts
    # Host names are printed only in the failing rows (a cell may break "gw-fw06" after
    # the hyphen): two rows, and gw-compliant, which never failed, only among the counts.
    assert text.count("gw-") == 2 and "compliant" not in text
    # Per control, the hosts that passed, counted by hand: 3 devices, one failure each on
    # FW-06 and LOG-06. A row prints "ID passed skipped title".
    for control in NETDEV_CONTROLS:
        passed = 2 if control in ("FW-06", "LOG-06") else 3
        assert f"{control}{passed}0" in text, control
    # The evidence and the catalog's fix of the failing control are printed.
    fix = load_catalog().by_id["FW-06"].fix
    assert _am_as_aa(fix) in text

    page = page_file.read_text(encoding="utf-8")
    # On screen the passing rows are there, folded: 3 × 9 checks, 2 not passing.
    quiet = page[page.index('<details class="quiet">'):page.index("</details>")]
    assert quiet.count('class="row quiet-row') == 3 * len(NETDEV_CONTROLS) - 2
    assert "gw-compliant" in quiet and "gw-compliant" not in page[:page.index("<details")]
    assert "<details open" not in page
    # Filters: one radio per site that has results, plus "all"; rows carry their site class.
    assert page.count('name="site"') == 1 + len(SCHOOLS)
    assert page.count('class="row attention-row s0"') == 1  # gw-fw06 at the first school
    assert page.count('class="row attention-row s1"') == 1  # gw-log06 at the second
    style = page[page.index("<style>"):page.index("</style>")]
    for index in range(len(SCHOOLS)):  # each site's radio hides the other sites' rows
        assert f"body:has(#site-{index}:checked) tr.row:not(.s{index})" in style
    assert "<script" not in page


def test_dlict_audit_takes_pdf_alone(device_district: Path, cli: CliRunner, tmp_path: Path,
                                     device_env: None) -> None:
    pdf_file = tmp_path / "audit.pdf"
    result = cli("-i", str(device_district), "audit", "--limit", "gw-fw06", "--pdf",
                 str(pdf_file))
    assert result.code == 1, result.stderr
    text = printed(pdf_file, SCHOOLS["4401000001"], "FW-06",
                          "รายการที่ไม่ผ่านหรือตรวจไม่ได้ (1)")
    assert _am_as_aa(SCHOOLS["4401000002"]) not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.pdf", "data"]


def test_pdf_to_a_missing_directory_is_refused_before_the_run(
        device_district: Path, cli: CliRunner, tmp_path: Path, device_env: None) -> None:
    target = tmp_path / "no-such-dir" / "audit.pdf"
    result = cli("-i", str(device_district), "netdev", "audit", "--pdf", str(target))
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        f"dlict: --pdf {target}: the directory does not exist"]
    data = tmp_path / "data" / "evidence.sqlite"
    if data.exists():  # nothing recorded: the refusal comes before any device is asked
        with EvidenceStore.open(data) as store:
            assert store.runs() == []


def test_pdf_that_cannot_be_put_in_place_leaves_nothing_behind(
        device_district: Path, cli: CliRunner, tmp_path: Path, device_env: None) -> None:
    """The PDF is made whole, then renamed over the target: here the rename fails (the
    target is a directory), and neither a half file nor the temporary one is left."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "audit.pdf").mkdir()
    result = cli("-i", str(device_district), "netdev", "audit", "--limit", "gw-compliant",
                 "--pdf", str(out / "audit.pdf"))
    assert result.code == 2, result.stderr  # a directory where the file goes: bad input
    assert len(result.stderr.strip().splitlines()) == 1 and "audit.pdf" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["audit.pdf"]
    assert list((out / "audit.pdf").iterdir()) == []


# --- dlict logs check --report --pdf --------------------------------------------------------


@pytest.fixture(scope="module")
def small_tree(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return build_tree(tmp_path_factory.mktemp("logs-pdf"), sources=2, days=5, lines_per_day=5)


def test_logs_check_report_and_pdf(small_tree: Policy, cli: CliRunner, tmp_path: Path) -> None:
    page_file, pdf_file = tmp_path / "logs.html", tmp_path / "logs.pdf"
    args = ["--policy", str(small_tree.root.parent / "logging.json"),
            "--root", str(small_tree.root), "--state", str(small_tree.state_dir),
            "--key", str(keys.public_path(small_tree.signing_key))]
    result = cli("--json", "-i", str(EXAMPLE_INVENTORY), "logs", "check", *args,
                 "--report", str(page_file), "--pdf", str(pdf_file))
    assert result.code in (0, 1), result.stderr
    data = json.loads(result.stdout)
    office = yaml.safe_load((EXAMPLE_INVENTORY / "group_vars" / "all.yml").read_text(
        encoding="utf-8"))["dlict_office"]
    sources = [f"{site}/{host}" for site, host in source_names(2)]
    text = printed(pdf_file, "รายงานการเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์", *sources,
                          office["name_th"], office["director_name"], office["dlict_head_name"])
    assert any(_am_as_aa(day) in text for day in today_dates())
    for source in data["sources"]:
        # The figures as the checker computed them, and the last sealed day as a B.E. date.
        assert f"{source['days_covered']}/{source['days_required']}" in text
        assert _am_as_aa(be_date(date.fromisoformat(source["last_sealed_day"]))) in text
    assert pdf_file.stat().st_mode & 0o777 == 0o640
    assert page_file.read_text(encoding="utf-8").count('class="signature"') == 2


def test_logs_pdf_without_inventory_signs_over_dotted_lines(
        small_tree: Policy, cli: CliRunner, tmp_path: Path) -> None:
    """The log server has no inventory: the blocks keep the titles, names left to fill in."""
    pdf_file = tmp_path / "logs-en.pdf"
    result = cli("--lang", "en", "logs", "check",
                 "--policy", str(small_tree.root.parent / "logging.json"),
                 "--root", str(small_tree.root), "--state", str(small_tree.state_dir),
                 "--key", str(keys.public_path(small_tree.signing_key)),
                 "--pdf", str(pdf_file))
    assert result.code in (0, 1), result.stderr
    text = pdf_text(pdf_file)
    assert "Computer traffic data retention report" in text
    assert "Prepared by" in text and "Certified by" in text
    assert "Head of the DLICT group" in text
    assert "พ.ศ." not in text  # English documents carry ISO dates


