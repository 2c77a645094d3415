"""`dlict access` end to end on a copy of the example district, without hosts: the workflow
and its register edits, the SLA reminders and metrics, the printable form, and bad input
(one line, exit 2, neither the store nor the inventory changed)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from dlict.core.clock import BANGKOK, utc_now
from tests.access_support import (
    NATIONAL_ID,
    make_request,
    one_line_exit_2,
    request_args,
    store_dump,
)
from tests.conftest import CliRunner
from tests.pdf_support import assert_printed

pytestmark = pytest.mark.integration


def today() -> date:
    """The office's calendar day, as `dlict access` dates approvals (Asia/Bangkok): from 17:00
    UTC it is already tomorrow there, so the machine's date.today() would be a day behind."""
    return utc_now().astimezone(BANGKOK).date()


@pytest.fixture(autouse=True)
def _key_outside_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLICT_ACCESS_KEY_FILE", str(tmp_path / "keys" / "access-id.key"))


def _register(inventory: Path) -> list[dict[str, object]]:
    data = yaml.safe_load((inventory / "group_vars" / "all.yml").read_text())
    accounts: list[dict[str, object]] = data.get("dlict_accounts") or []
    return accounts


def test_request_check_approve_renew_revoke(cli: CliRunner, example_copy: Path) -> None:
    rid = make_request(cli, example_copy)
    assert rid.startswith("ACC-25")
    assert cli("-i", str(example_copy), "access", "check", rid, "--by", "นายตรวจ").code == 0

    done = cli("-i", str(example_copy), "--json", "access", "approve", rid, "--by", "ผอ.",
               "--yes")
    assert done.code == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["request"]["status"] == "approved"
    assert "+- name: somsri" in answer["register"]["diff"].replace("  ", "")
    [entry] = _register(example_copy)
    expires = today() + timedelta(days=90)
    assert entry == {"name": "somsri", "full_name": "นางสมศรี ทดสอบ", "position": "ครู",
                     "approved_by": "ผอ.", "approved_on": today(), "expires": expires,
                     "hosts": ["office-log", "linux_servers"], "request": rid,
                     "provision": True}

    later = (today() + timedelta(days=200)).isoformat()
    done = cli("-i", str(example_copy), "access", "renew", rid, "--by", "ผอ.", "--until",
               later, "--yes")
    assert done.code == 0, done.stderr
    assert f"+  expires: {later}" in done.stdout  # the diff, shown before writing
    assert str(_register(example_copy)[0]["expires"]) == later

    done = cli("-i", str(example_copy), "access", "revoke", rid, "--by", "ผอ.", "--yes")
    assert done.code == 0, done.stderr
    assert _register(example_copy) == []
    shown = json.loads(cli("-i", str(example_copy), "--json", "access", "show", rid).stdout)
    assert [e["action"] for e in shown["trail"]] == ["request", "check", "approve", "renew",
                                                      "revoke"]


def test_without_yes_the_diff_is_shown_and_nothing_written(cli: CliRunner,
                                                            example_copy: Path) -> None:
    rid = make_request(cli, example_copy)
    before = (example_copy / "group_vars" / "all.yml").read_bytes()
    done = cli("-i", str(example_copy), "access", "approve", rid, "--by", "ผอ.")
    one_line_exit_2(done)
    assert "+dlict_accounts:" in done.stdout
    assert (example_copy / "group_vars" / "all.yml").read_bytes() == before
    status = json.loads(cli("-i", str(example_copy), "--json", "access", "show", rid).stdout)
    assert status["request"]["status"] == "received"


def test_reminders_in_list_and_metrics(cli: CliRunner, example_copy: Path,
                                       tmp_path: Path) -> None:
    soon = make_request(cli, example_copy, login="soon")
    cli("-i", str(example_copy), "access", "approve", soon, "--by", "ผอ.", "--yes",
        "--until", (today() + timedelta(days=10)).isoformat())
    far = make_request(cli, example_copy, login="far")
    cli("-i", str(example_copy), "access", "approve", far, "--by", "ผอ.", "--yes",
        "--until", (today() + timedelta(days=60)).isoformat())
    waiting = make_request(cli, example_copy, login="waiting")
    metrics = tmp_path / "access.prom"
    done = cli("-i", str(example_copy), "--json", "access", "list", "--metrics", str(metrics))
    assert done.code == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [(r["request"], r["kind"]) for r in listed["reminders"]] == [(soon, "expiring")]
    assert {r["id"] for r in listed["requests"]} == {soon, far, waiting}
    text = metrics.read_text()
    assert "dlict_access_approvals_expiring 1.0" in text
    assert "dlict_access_requests_open 1.0" in text
    assert "dlict_access_requests_past_sla 0.0" in text
    assert oct(metrics.stat().st_mode & 0o777) == "0o640"


def test_printable_form_html_and_pdf(cli: CliRunner, example_copy: Path,
                                     tmp_path: Path) -> None:
    rid = make_request(cli, example_copy)
    cli("-i", str(example_copy), "access", "check", rid, "--by", "นายตรวจ สิทธิ์")
    html, pdf = tmp_path / "form.html", tmp_path / "form.pdf"
    done = cli("-i", str(example_copy), "access", "show", rid, "--html", str(html),
               "--pdf", str(pdf))
    assert done.code == 0, done.stderr
    page = html.read_text()
    for text in ("แบบคำร้องขอเข้าถึงระบบสารสนเทศ", "x-xxxx-xxxxx-45-7", "ผู้ยื่นคำร้อง",
                 "ผู้ตรวจสอบสิทธิ์", "ผู้อนุมัติ", "นายตรวจ สิทธิ์", "พ.ศ. 25"):
        assert text in page, text
    printed = assert_printed(pdf, rid, "x-xxxx-xxxxx-45-7")
    for text in ("แบบคำร้องขอเข้าถึงระบบสารสนเทศ", "นางสมศรี ทดสอบ", "นายตรวจ สิทธิ์",
                 "นายสมชาย ใจดี"):  # the director from dlict_office signs as approver
        assert _thai_letters(text) in _thai_letters(printed), text
    assert NATIONAL_ID not in printed
    english = tmp_path / "form-en.html"
    cli("--lang", "en", "-i", str(example_copy), "access", "show", rid, "--html", str(english))
    assert "Request for access to information systems" in english.read_text()


def _thai_letters(text: str) -> str:
    """Text as pdftotext can be trusted to give it back: it splits sara am and loses the
    order of stacked marks with this font, so compare base letters only."""
    text = text.replace("\u0e33", "\u0e32").replace("\u0e4d", "")
    marks = {0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)}
    return "".join(ch for ch in text if not ch.isspace() and ord(ch) not in marks)


# --- bad input: one line, exit 2, nothing written ------------------------------------------


def _unchanged(cli: CliRunner, inventory: Path, data: Path, *args: str) -> str:
    before = (store_dump(data), (inventory / "group_vars" / "all.yml").read_bytes())
    done = cli(*args)
    one_line_exit_2(done)
    assert (store_dump(data), (inventory / "group_vars" / "all.yml").read_bytes()) == before
    return done.stderr


def test_invalid_national_id(cli: CliRunner, example_copy: Path, tmp_path: Path) -> None:
    wrong = NATIONAL_ID[:-1] + "8"
    err = _unchanged(cli, example_copy, tmp_path / "data",
                     *request_args(example_copy, national_id=wrong))
    assert "check digit" in err and wrong not in err
    assert not (tmp_path / "data" / "evidence.sqlite").exists()
    err = _unchanged(cli, example_copy, tmp_path / "data",
                     *request_args(example_copy, national_id="12345"))
    assert "13 digits" in err


def test_unknown_system_or_host(cli: CliRunner, example_copy: Path, tmp_path: Path) -> None:
    make_request(cli, example_copy)
    err = _unchanged(cli, example_copy, tmp_path / "data",
                     *request_args(example_copy, system="payroll"))
    assert "unknown system 'payroll'" in err
    err = _unchanged(cli, example_copy, tmp_path / "data",
                     *request_args(example_copy, host="no-such-host"))
    assert "'no-such-host' is neither a host nor a group" in err


def test_approving_a_rejected_request(cli: CliRunner, example_copy: Path,
                                      tmp_path: Path) -> None:
    rid = make_request(cli, example_copy)
    assert cli("-i", str(example_copy), "access", "reject", rid, "--by", "ผอ.",
               "--reason", "ไม่มีหนังสือต้นสังกัด").code == 0
    err = _unchanged(cli, example_copy, tmp_path / "data",
                     "-i", str(example_copy), "access", "approve", rid, "--by", "ผอ.", "--yes")
    assert f"{rid}: cannot approve a request that is rejected" in err


def test_expiry_in_the_past(cli: CliRunner, example_copy: Path, tmp_path: Path) -> None:
    rid = make_request(cli, example_copy)
    yesterday = (today() - timedelta(days=1)).isoformat()
    err = _unchanged(cli, example_copy, tmp_path / "data", "-i", str(example_copy), "access",
                     "approve", rid, "--by", "ผอ.", "--yes", "--until", yesterday)
    assert f"--until: {yesterday} is in the past" in err
    cli("-i", str(example_copy), "access", "approve", rid, "--by", "ผอ.", "--yes")
    _unchanged(cli, example_copy, tmp_path / "data", "-i", str(example_copy), "access",
               "renew", rid, "--by", "ผอ.", "--yes", "--until", yesterday)


def test_unknown_request(cli: CliRunner, example_copy: Path, tmp_path: Path) -> None:
    make_request(cli, example_copy)
    err = _unchanged(cli, example_copy, tmp_path / "data", "-i", str(example_copy), "access",
                     "check", "ACC-2569-9999", "--by", "x")
    assert "no access request ACC-2569-9999" in err


def test_audit_of_an_unknown_area(cli: CliRunner, example_copy: Path, tmp_path: Path) -> None:
    """`dlict audit identity` (used by the fleet test) takes area names; a wrong one is bad
    input before anything runs."""
    done = cli("-i", str(example_copy), "audit", "identiy")
    one_line_exit_2(done)
    assert "unknown area identiy" in done.stderr
    assert not (tmp_path / "data" / "evidence.sqlite").exists()


def test_lapsed_approvals_are_reminded_then_ended(cli: CliRunner, example_copy: Path,
                                                  tmp_path: Path) -> None:
    """Time passing is simulated by moving the stored expiry into the past (the CLI refuses a
    past expiry); `revoke --expired` then removes the entry through the same reviewed edit."""
    import sqlite3

    lapsed = make_request(cli, example_copy, login="lapsed")
    kept = make_request(cli, example_copy, login="kept")
    for rid in (lapsed, kept):
        assert cli("-i", str(example_copy), "access", "approve", rid, "--by", "ผอ.",
                   "--yes").code == 0
    conn = sqlite3.connect(tmp_path / "data" / "evidence.sqlite")
    with conn:
        conn.execute("UPDATE access_requests SET expires = ? WHERE id = ?",
                     ((today() - timedelta(days=2)).isoformat(), lapsed))
    conn.close()
    metrics = tmp_path / "access.prom"
    listed = json.loads(cli("-i", str(example_copy), "--json", "access", "list", "--metrics",
                            str(metrics)).stdout)
    assert [(r["request"], r["kind"]) for r in listed["reminders"]] == [(lapsed, "expired")]
    assert "dlict_access_approvals_expired 1.0" in metrics.read_text()

    done = cli("-i", str(example_copy), "--json", "access", "revoke", "--expired", "--by",
               "ผอ.", "--yes")
    assert done.code == 0, done.stderr
    assert [r["id"] for r in json.loads(done.stdout)["ended"]] == [lapsed]
    assert [e["name"] for e in _register(example_copy)] == ["kept"]
    status = json.loads(cli("-i", str(example_copy), "--json", "access", "show", lapsed).stdout)
    assert status["request"]["status"] == "expired"
