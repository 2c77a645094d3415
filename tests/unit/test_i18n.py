"""dlict.i18n: one catalogue, complete in both languages, the only place that branches on one."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dlict.core.clock import format_local
from dlict.i18n import CATALOGUE, date_text, name_of, pick, text
from dlict.inventory.models import SiteMeta
from dlict.logs.bundle import MEMBERS

SRC = Path(__file__).resolve().parents[2] / "src" / "dlict"
FIELD = re.compile(r"\{(\w+)")
THAI = re.compile("[\u0e00-\u0e7f]")
# Messages whose languages need different figures: a Thai time has a B.E. year, English ISO.
OWN_FIELDS = {"time.moment"}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_message_has_thai_and_english_with_the_same_fields(key: str) -> None:
    message = CATALOGUE[key]
    assert message.th.strip() and message.en.strip(), key
    if key not in OWN_FIELDS:
        assert set(FIELD.findall(message.th)) == set(FIELD.findall(message.en)), key


def test_thai_text_is_thai_and_english_text_is_not() -> None:
    """A swapped pair (English in the th slot) shows up as a Thai report with English in it."""
    no_thai_needed = {key for key, m in CATALOGUE.items() if m.th == m.en}  # LNB, DLTV, …
    for key, message in CATALOGUE.items():
        assert not THAI.search(message.en), key
        if key not in no_thai_needed and not key.startswith("time."):
            assert THAI.search(message.th), key


def test_text_fills_fields_and_refuses_an_unknown_id() -> None:
    assert text("cli.sites_hosts", "th", sites=3, schools=2, hosts=9) == \
        "3 หน่วยงาน (2 โรงเรียน), 9 เครื่อง"
    assert text("cli.sites_hosts", "en", sites=3, schools=2, hosts=9) == \
        "3 sites (2 schools), 9 hosts"
    with pytest.raises(KeyError):
        text("no.such.message", "th")


def test_buddhist_era_dates_in_one_place() -> None:
    day = date(2026, 12, 2)
    assert date_text(day, "th") == "2 ธันวาคม 2569"
    assert date_text(day, "th", era=True) == "2 ธันวาคม พ.ศ. 2569"
    assert date_text(day, "en") == "2026-12-02"
    moment = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 00:30 on the 2nd in Bangkok
    assert format_local(moment, "th") == "2 ธันวาคม 2569 00:30:00 น."
    assert format_local(moment, "en") == "2026-12-02 00:30:00 (UTC+07:00)"


def test_bilingual_names_are_picked_by_language() -> None:
    meta = SiteMeta(name_th="โรงเรียนบ้านหนองบัว", name_en="Ban Nong Bua School",
                    amphoe="เมือง", province="มหาสารคาม")
    assert name_of(meta, "th") == "โรงเรียนบ้านหนองบัว"
    assert name_of(meta, "en") == "Ban Nong Bua School"
    assert pick("ผ่าน", "pass", "en") == "pass"


def test_importing_i18n_pulls_in_no_third_party_module() -> None:
    """The log server's zipapp has only the standard library (and cryptography)."""
    probe = ("import sys; before = set(sys.modules); import dlict.i18n; "
             "print('\\n'.join(sorted(set(sys.modules) - before)))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    loaded = {name.split(".")[0] for name in run.stdout.split()}
    outside = {name for name in loaded - {"dlict"}
               if name not in sys.stdlib_module_names and not name.startswith("_")}
    assert outside == set(), outside
    assert "i18n.py" in MEMBERS


def _language_comparisons(source: str) -> list[int]:
    """Lines comparing a ``lang`` (name or attribute) or against the literal "th"/"en"."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        names = {o.id if isinstance(o, ast.Name) else o.attr if isinstance(o, ast.Attribute)
                 else "" for o in operands}
        literals = {o.value for o in operands if isinstance(o, ast.Constant)}
        if "lang" in names or literals & {"th", "en"}:
            lines.append(node.lineno)
    return sorted(lines)


def test_no_language_branch_outside_i18n() -> None:
    """Words come from the catalogue: no ``lang == "en"`` (or ``!=``, ``in``) anywhere else."""
    found = [f"{path.relative_to(SRC)}:{line}" for path in sorted(SRC.rglob("*.py"))
             if path != SRC / "i18n.py"
             for line in _language_comparisons(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_language_branch_detector_sees_each_form() -> None:
    source = ('x = "a" if lang == "en" else "b"\n'
              'y = 1 if actx.lang != "th" else 2\n'
              'z = "th" == settings_language\n'
              'ok = code == "44"\n')
    assert _language_comparisons(source) == [1, 2, 3]
