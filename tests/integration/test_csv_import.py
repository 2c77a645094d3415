"""`dlict inventory import-schools`: a school list becomes a valid inventory, or nothing at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

THAI_HEADER = "รหัสโรงเรียน,ชื่อโรงเรียน,ชื่อภาษาอังกฤษ,อำเภอ,จังหวัด,ผู้ให้บริการ,wan_address,server_address,router_address,router_type,dltv_source\n"  # noqa: E501
GOOD_ROWS = [
    "4401070008,โรงเรียนกันทรวิชัย,Kantharawichai School,กันทรวิชัย,มหาสารคาม,UniNet,127.20.8.1,127.10.8.10,127.10.8.1,routeros,tvheadend\n",  # noqa: E501
    "4401080009,โรงเรียนแกดำวิทยาคาร,Kae Dam Witthayakhan School,แกดำ,มหาสารคาม,เน็ตประชารัฐ,,127.10.9.10,,,\n",  # noqa: E501
    "4401090010,โรงเรียนกุดรังประชาสรรค์,Kut Rang Prachasan School,กุดรัง,มหาสารคาม,,,,,,none\n",
]


def _write(path: Path, text: str, bom: bool) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [True, False], ids=["with-bom", "without-bom"])
def test_school_list_becomes_a_valid_inventory(cli: CliRunner, tmp_path: Path, bom: bool) -> None:
    csv_file = _write(tmp_path / "schools.csv", THAI_HEADER + "".join(GOOD_ROWS), bom)
    out = tmp_path / "district"
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(out))
    assert result.code == 0, result.stderr
    assert "3 schools" in result.stdout

    shown = cli("--json", "-i", str(out), "inventory", "show")
    assert shown.code == 0, shown.stderr
    sites = {s["id"]: s for s in json.loads(shown.stdout)["sites"]}
    assert set(sites) == {"4401070008", "4401080009", "4401090010"}
    kantharawichai = sites["4401070008"]
    assert kantharawichai["name_th"] == "โรงเรียนกันทรวิชัย"
    assert kantharawichai["dltv"]["source"] == "tvheadend"
    hosts = {h["name"]: h for h in kantharawichai["hosts"]}
    assert hosts["s4401070008-gw"]["device_type"] == "mikrotik_routeros"
    assert hosts["s4401070008-srv"]["roles"] == ["linux_servers"]
    assert "โรงเรียนแกดำวิทยาคาร" in (out / "group_vars" / "school_4401080009.yml").read_text()


def test_invalid_rows_are_named_and_nothing_is_written(cli: CliRunner, tmp_path: Path) -> None:
    rows = [
        GOOD_ROWS[0],
        "44010800,โรงเรียนสั้น,Short Code School,แกดำ,มหาสารคาม,,,,,,\n",  # row 3: 8 digits
        "4401070008,โรงเรียนซ้ำ,Duplicate School,แกดำ,มหาสารคาม,,,,,,\n",  # row 4: duplicate
        "4401100011,,No Thai Name School,ยางสีสุราช,มหาสารคาม,,,,,,\n",  # row 5: empty name
        "4401110012,โรงเรียนทดสอบ,Test School,นาดูน,มหาสารคาม,,,127.10.12.999,,,\n",  # row 6
        "4401120013,โรงเรียนดาวเทียม,Sat School,ชื่นชม,มหาสารคาม,,,,,,dish\n",  # row 7
    ]
    csv_file = _write(tmp_path / "schools.csv", THAI_HEADER + "".join(rows), bom=True)
    out = tmp_path / "district"
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(out))
    assert result.code == 2
    err = result.stderr
    assert "row 3: school_code: school code '44010800' must be 10 digits" in err
    assert "row 4: school_code: duplicate 4401070008, first on row 2" in err
    assert "row 5: name_th: empty" in err
    assert "row 6: server_address: '127.10.12.999' is not an IP address" in err
    assert "row 7: dltv.source: unknown receiver source 'dish'" in err
    assert len(err.splitlines()) == 5
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["schools.csv"]  # no staging left behind


def test_existing_directory_is_never_overwritten(cli: CliRunner, tmp_path: Path) -> None:
    csv_file = _write(tmp_path / "schools.csv", THAI_HEADER + GOOD_ROWS[0], bom=False)
    out = tmp_path / "district"
    out.mkdir()
    (out / "hosts.yml").write_text("# the user's own work\n")
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(out))
    assert result.code == 2
    assert "already exists and is not empty" in result.stderr
    assert (out / "hosts.yml").read_text() == "# the user's own work\n"


def test_missing_required_column(cli: CliRunner, tmp_path: Path) -> None:
    csv_file = _write(tmp_path / "s.csv", "school_code,name_th\n4401070008,ก\n", bom=False)
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(tmp_path / "o"))
    assert result.code == 2
    assert "row 1: missing column(s): name_en, amphoe, province" in result.stderr


def test_not_utf8(cli: CliRunner, tmp_path: Path) -> None:
    csv_file = tmp_path / "s.csv"
    csv_file.write_bytes(THAI_HEADER.encode("utf-8") + "4401070008,โรงเรียน".encode("tis-620"))
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(tmp_path / "o"))
    assert result.code == 2
    assert "not UTF-8 text" in result.stderr
