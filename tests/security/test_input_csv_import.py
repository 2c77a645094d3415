"""``dlict inventory import-schools`` never writes an inventory that would fail validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

HEADER = "school_code,name_th,name_en,amphoe,province,isp,server_address,router_address\n"
NO_ADDRESSES = [
    "4401070008,โรงเรียนกันทรวิชัย,Kantharawichai School,กันทรวิชัย,มหาสารคาม,UniNet,,\n",
    "4401080009,โรงเรียนแกดำวิทยาคาร,Kae Dam Witthayakhan School,แกดำ,มหาสารคาม,,,\n",
]


def test_a_list_without_any_address_is_refused_row_by_row(cli: CliRunner,
                                                          tmp_path: Path) -> None:
    csv_file = tmp_path / "schools.csv"
    csv_file.write_text(HEADER + "".join(NO_ADDRESSES), encoding="utf-8")
    out = tmp_path / "district"
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(out))
    assert result.code == 2
    assert result.stderr.splitlines() == [
        f"dlict: {csv_file}: row {row}: no address: server_address and router_address are "
        "empty (the inventory needs at least one host)" for row in (2, 3)]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["schools.csv"]  # no staging left behind


def test_one_address_is_enough_and_the_result_validates(cli: CliRunner,
                                                        tmp_path: Path) -> None:
    csv_file = tmp_path / "schools.csv"
    rows = [NO_ADDRESSES[0].replace(",UniNet,,\n", ",UniNet,127.10.8.10,\n"), NO_ADDRESSES[1]]
    csv_file.write_text(HEADER + "".join(rows), encoding="utf-8")
    out = tmp_path / "district"
    result = cli("inventory", "import-schools", str(csv_file), "-o", str(out))
    assert result.code == 0, result.stderr
    checked = cli("-i", str(out), "inventory", "validate")
    assert checked.code == 0, checked.stderr
    assert "2 sites (2 schools), 1 hosts" in checked.stdout
