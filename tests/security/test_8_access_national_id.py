"""PDPA: a national ID typed into `dlict access` is never found in plain text anywhere dlict
writes or prints — the store (and its WAL), the log file, JSON, the inventory, the HTML and
PDF forms, the metrics — in either its plain or its dashed form, also when the ID is refused.
And the printed form shows hostile request fields as text."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dlict.access.form import render_form
from dlict.access.holidays import load_calendar
from dlict.access.requests import AccessRequest, Requester, Status
from dlict.inventory.models import AccessSettings, OfficeSettings
from tests.access_support import NATIONAL_ID, request_args
from tests.conftest import CliRunner
from tests.security.test_reports_escaping import IMG, SCRIPT, STYLE_BREAK, TEMPLATE, assert_inert

pytestmark = pytest.mark.integration

FORMS = (NATIONAL_ID, "3-5101-00123-45-7", "3 5101 00123 45 7")


def _leaks(text: str) -> list[str]:
    squeezed = text.replace("-", "").replace(" ", "")
    return [form for form in FORMS if form in text] + (
        [NATIONAL_ID] if NATIONAL_ID in squeezed else [])


def test_no_plain_national_id_in_any_output(cli: CliRunner, example_copy: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLICT_ACCESS_KEY_FILE", str(tmp_path / "keys" / "access-id.key"))
    inv = ["-i", str(example_copy)]
    outputs = []

    def run(*args: str, code: int = 0) -> str:
        done = cli(*args)
        assert done.code == code, done.stderr
        outputs.extend([done.stdout, done.stderr])
        return done.stdout

    rid = json.loads(run(*request_args(example_copy, national_id="3-5101-00123-45-7")))[
        "request"]["id"]
    run(*request_args(example_copy, national_id=NATIONAL_ID, login="again"))  # same person
    run(*request_args(example_copy, national_id=NATIONAL_ID[:-1] + "1"), code=2)  # refused
    run(*inv, "--json", "access", "check", rid, "--by", "x")
    run(*inv, "--json", "access", "approve", rid, "--by", "x", "--yes")
    run(*inv, "--json", "access", "list", "--metrics", str(tmp_path / "access.prom"))
    run(*inv, "--json", "access", "show", rid, "--html", str(tmp_path / "form.html"),
        "--pdf", str(tmp_path / "form.pdf"))
    run(*inv, "access", "show", rid)
    run(*inv, "access", "list")
    run(*inv, "--json", "access", "revoke", rid, "--by", "x", "--yes")

    assert "x-xxxx-xxxxx-45-7" in "".join(outputs)  # the masked form is what is shown
    for text in outputs:
        assert not _leaks(text), text[:500]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "evidence.sqlite" for p in written)
    assert any(p.name == "dlict.log" for p in written)
    for path in written:
        raw = path.read_bytes()
        assert not any(form.encode() in raw for form in FORMS), path
    pdf_text = subprocess.run(["pdftotext", str(tmp_path / "form.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
    assert "45-7" in pdf_text and not _leaks(pdf_text)


def test_form_shows_hostile_fields_as_text() -> None:
    who = Requester(SCRIPT, "x-xxxx-xxxxx-45-7", "h", "k", IMG, STYLE_BREAK, TEMPLATE, IMG)
    request = AccessRequest("ACC-2569-0001", Status.CHECKED, who, "somsri", ("server", IMG),
                            (SCRIPT,), STYLE_BREAK, 30,
                            datetime(2026, 12, 3, 3, tzinfo=UTC), "clerk", checked_by=IMG)
    office = OfficeSettings(name_th=SCRIPT, director_name=TEMPLATE)
    for lang in ("th", "en"):
        page = render_form(request, lang=lang, office=office, settings=AccessSettings(),
                           calendar=load_calendar(), today=date(2026, 12, 4))
        assert_inert(page, SCRIPT, IMG, STYLE_BREAK, TEMPLATE)
