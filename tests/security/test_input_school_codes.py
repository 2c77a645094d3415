"""OBEC school codes typed in Thai (๐-๙) or full-width (０-９) digits are the same codes in
ASCII digits: stored so, and a school listed twice in two digit forms is a duplicate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _add_school(inventory: Path, group_code: str, site_code: str, address: str) -> None:
    """A school group (with one Linux server) whose group name and dlict_site use the given
    spellings of its code."""
    hosts_file = inventory / "hosts.yml"
    data = yaml.safe_load(hosts_file.read_text(encoding="utf-8"))
    host = f"srv-{address.replace('.', '-')}"
    data["all"]["children"]["schools"]["children"][f"school_{group_code}"] = {
        "hosts": {host: {"ansible_host": address}}}
    data["all"]["children"]["linux_servers"]["hosts"][host] = None
    hosts_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                          encoding="utf-8")
    meta = {"school_code": site_code, "name_th": "โรงเรียนทดสอบ", "name_en": "Test School",
            "amphoe": "เมืองมหาสารคาม", "province": "มหาสารคาม"}
    (inventory / "group_vars" / f"school_{group_code}.yml").write_text(
        yaml.safe_dump({"dlict_site": meta}, allow_unicode=True, sort_keys=False),
        encoding="utf-8")


@pytest.mark.parametrize("digits", [THAI, FULL_WIDTH], ids=["thai", "full-width"])
def test_codes_in_other_digits_are_stored_as_ascii(cli: CliRunner, example_copy: Path,
                                                   digits: dict[int, int]) -> None:
    code = "4401990099"
    _add_school(example_copy, code.translate(digits), code.translate(digits), "127.10.99.10")
    result = cli("--json", "-i", str(example_copy), "inventory", "show")
    assert result.code == 0, result.stderr
    ids = {site["id"] for site in json.loads(result.stdout)["sites"]}
    assert code in ids and code.translate(digits) not in ids


@pytest.mark.parametrize("digits", [THAI, FULL_WIDTH], ids=["thai", "full-width"])
def test_the_same_code_in_other_digits_is_a_duplicate(cli: CliRunner, example_copy: Path,
                                                      digits: dict[int, int]) -> None:
    existing = "4401010001"  # a school of the example district
    twin = existing.translate(digits)
    _add_school(example_copy, twin, twin, "127.10.99.10")
    result = cli("-i", str(example_copy), "inventory", "validate")
    assert result.code == 2
    assert result.stderr.splitlines() == [
        f"dlict: {example_copy}/group_vars/school_{twin}.yml:2: group school_{twin}: "
        f"dlict_site.school_code: duplicate school code {existing}: also used by group "
        f"school_{existing}"]


@pytest.mark.parametrize("code", ["440101000١", "4401０1000x", "4401 010001", "４４０１"])
def test_other_characters_are_refused(cli: CliRunner, example_copy: Path, code: str) -> None:
    """Arabic-Indic and other digit forms, letters, spaces, too few digits: not a code."""
    _add_school(example_copy, "4401990099", code, "127.10.99.10")
    result = cli("-i", str(example_copy), "inventory", "validate")
    assert result.code == 2
    assert f"school code '{code}' must be 10 digits" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_csv_codes_in_thai_digits_are_written_in_ascii_and_duplicates_caught(
        cli: CliRunner, tmp_path: Path) -> None:
    header = "รหัสโรงเรียน,ชื่อโรงเรียน,ชื่อภาษาอังกฤษ,อำเภอ,จังหวัด,server_address\n"
    good = header + (f"{'4401070008'.translate(THAI)},โรงเรียนกันทรวิชัย,Kantharawichai School,"
                     "กันทรวิชัย,มหาสารคาม,127.10.8.10\n")
    csv_file = tmp_path / "schools.csv"
    csv_file.write_text(good, encoding="utf-8")
    out = tmp_path / "district"
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(out))
    assert result.code == 0, result.stderr
    assert (out / "group_vars" / "school_4401070008.yml").is_file()
    assert "school_4401070008:" in (out / "hosts.yml").read_text(encoding="utf-8")

    twice = good + (f"{'4401070008'.translate(FULL_WIDTH)},โรงเรียนซ้ำ,Duplicate School,"
                    "กันทรวิชัย,มหาสารคาม,127.10.8.11\n")
    csv_file.write_text(twice, encoding="utf-8")
    again = cli("inventory", "import-schools", str(csv_file), "-o", str(tmp_path / "again"))
    assert again.code == 2
    assert "row 3: school_code: duplicate 4401070008, first on row 2" in again.stderr
    assert not (tmp_path / "again").exists()
