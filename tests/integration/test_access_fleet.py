"""Issue 17 on the test fleet, one lean scenario: an access request approved through
`dlict access` becomes an account that `dlict apply identity` creates and the ID audit accepts;
revoking it makes the next apply lock it; an account nobody approved fails ID-09."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from lab.fleet.fleet import Fleet
from tests.integration.sop.conftest import on_host, run_dlict
from tests.lab.plugin import MakeFleet

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

NATIONAL_ID = "3510100123457"  # a made-up ID with a valid check digit
LOGIN = "somsri"


def _dlict(capsys: pytest.CaptureFixture[str], inventory: Path, data: Path,
           *args: str) -> tuple[int, str, str]:
    return run_dlict(capsys, "--json", "-i", str(inventory), "--data-dir", str(data), *args)


def _id_statuses(capsys: pytest.CaptureFixture[str], inventory: Path, data: Path,
                 host: str) -> dict[str, str]:
    code, out, err = _dlict(capsys, inventory, data, "audit", "identity", "--limit", host)
    assert code in (0, 1), err
    return {r["control"]: r["status"] for r in json.loads(out)["results"]
            if r["host"] == host and str(r["control"]).startswith("ID-")}


def _apply_identity(capsys: pytest.CaptureFixture[str], inventory: Path, data: Path,
                    host: str) -> None:
    code, out, err = _dlict(capsys, inventory, data, "apply", "identity", "--limit", host)
    assert code == 0, f"apply identity exited {code}: {err}\n{out[-2000:]}"


def test_request_to_account_and_back(make_fleet: MakeFleet, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fleet: Fleet = make_fleet(schools=0)
    host = fleet.hosts[0].name
    inventory = tmp_path / "inventory.yml"
    shutil.copy(fleet.inventory_path, inventory)
    data = tmp_path / "data"
    monkeypatch.setenv("DLICT_ACCESS_KEY_FILE", str(tmp_path / "keys" / "access-id.key"))

    code, out, err = _dlict(
        capsys, inventory, data, "access", "request", "--name", "นางสมศรี ทดสอบ",
        "--national-id", NATIONAL_ID, "--position", "นักวิชาการคอมพิวเตอร์",
        "--unit", "กลุ่ม DLICT", "--purpose", "ดูแลเครื่องแม่ข่าย", "--system", "server",
        "--host", host, "--login", LOGIN, "--days", "90")
    assert code == 0, err
    rid = json.loads(out)["request"]["id"]
    assert _dlict(capsys, inventory, data, "access", "check", rid, "--by", "นายตรวจ สิทธิ์")[0] == 0
    code, out, err = _dlict(capsys, inventory, data, "access", "approve", rid,
                            "--by", "ผอ.สพท.", "--yes")
    assert code == 0, err
    approved = json.loads(out)
    assert approved["register"]["written"] is True
    expires = date.fromisoformat(approved["request"]["expires"])

    _apply_identity(capsys, inventory, data, host)
    passwd = on_host(fleet, host, f"getent passwd {LOGIN}").strip().split(":")
    assert passwd[6] == "/bin/bash"
    # the account stops by itself after its last day, even if no apply runs then
    shadow = on_host(fleet, host, f"getent shadow {LOGIN}").strip().split(":")
    assert int(shadow[7]) == (expires + timedelta(days=1) - date(1970, 1, 1)).days
    statuses = _id_statuses(capsys, inventory, data, host)
    assert statuses and {c: s for c, s in statuses.items() if s not in ("pass", "skipped")} == {}

    code, out, err = _dlict(capsys, inventory, data, "access", "revoke", rid, "--by", "ผอ.สพท.",
                            "--reason", "ย้ายไปสังกัดอื่น", "--yes")
    assert code == 0, err
    assert LOGIN not in inventory.read_text()
    _apply_identity(capsys, inventory, data, host)
    passwd = on_host(fleet, host, f"getent passwd {LOGIN}").strip().split(":")
    assert passwd[6] == "/usr/sbin/nologin"  # access removed: locked, home kept as evidence
    assert on_host(fleet, host, f"getent shadow {LOGIN}").split(":")[1].startswith("!")
    assert _id_statuses(capsys, inventory, data, host)["ID-09"] == "pass"

    on_host(fleet, host, "useradd -m -s /bin/bash stray")
    assert _id_statuses(capsys, inventory, data, host)["ID-09"] == "fail"

    # Nothing of the run holds the plain national ID: store, logs, inventory, key dir.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert NATIONAL_ID.encode() not in path.read_bytes(), path
