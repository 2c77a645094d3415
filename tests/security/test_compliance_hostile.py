"""The compliance report fed hostile values from every place its values come from: the
inventory (school names), the evidence store (host names, site codes, evidence text an agent
or a device sent, the operator's name) shows them as text and runs none of them.

The page draws its own inline SVG (the score trend), so the check is the escaping guard's
(tests/security/test_reports_escaping.py) with the SVG elements the template writes allowed:
no other element, no event handler or source attribute anywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.runs import record_run
from tests.compliance_fixture import S1, at
from tests.conftest import CliRunner
from tests.security.test_reports_escaping import IMG, SCRIPT, STYLE_BREAK, TEMPLATE, _Page

pytestmark = pytest.mark.integration

TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "div", "h1", "h2", "p", "br",
                 "span", "table", "thead", "tbody", "tr", "th", "td", "b", "svg", "line",
                 "polyline"}


def _hostile_inventory(inventory: Path) -> None:
    for path in sorted((inventory / "group_vars").glob("school_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["dlict_site"]["name_th"] = f"โรงเรียน {SCRIPT}"
        data["dlict_site"]["name_en"] = f"School {STYLE_BREAK}"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _hostile_store(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    when = at(11, 10)
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
        record_run(store, "agent", [
            Result(S1, f"srv{IMG}", Status.FAIL, "FW-01", evidence=f"{SCRIPT}{TEMPLATE}",
                   observed_at=when),
            Result(S1, f"srv{IMG}", Status.SKIPPED, "LOG-02", evidence=STYLE_BREAK,
                   observed_at=when),
            Result(f"site{IMG}", "gw", Status.UNREACHABLE, "FW-06", evidence=SCRIPT,
                   observed_at=when),
        ])


def _assert_inert(page: str, *visible: str) -> None:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    tags = [tag for tag, _attrs in parsed.tags]
    assert set(tags) <= TEMPLATE_TAGS, set(tags) - TEMPLATE_TAGS
    assert tags.count("style") == 2 and tags.count("meta") == 1  # the layout's and ours
    handlers = [(tag, name) for tag, attrs in parsed.tags for name, _value in attrs
                if name.startswith("on") or name in ("src", "href", "style", "srcdoc")]
    assert not handlers, handlers
    text = "".join(parsed.text)
    for value in visible:
        assert value in text, f"{value!r} is not shown as text"


@pytest.mark.parametrize("lang", ["th", "en"])
def test_hostile_names_and_evidence_are_text(cli: CliRunner, example_copy: Path, tmp_path: Path,
                                             lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", f"op{IMG}")  # the operator recorded with each run
    monkeypatch.setenv("USER", f"op{IMG}")
    _hostile_inventory(example_copy)
    _hostile_store(tmp_path / "data")
    page = tmp_path / "c.html"
    result = cli("--lang", lang, "-i", str(example_copy), "report", "compliance",
                 "--from", "2026-11-01", "--to", "2026-11-30", "--html", str(page))
    assert result.code == 1, result.stderr
    name = SCRIPT if lang == "th" else STYLE_BREAK
    _assert_inert(page.read_text(encoding="utf-8"), name, f"srv{IMG}", f"site{IMG}",
                  f"op{IMG}", STYLE_BREAK, f"{SCRIPT}{TEMPLATE}")
