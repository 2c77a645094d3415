"""The monthly report page shows hostile values as text: school names and amphoe from an
inventory someone else edited, host names, log-check evidence, a device backup's commit
message, Prometheus's numbers are ours. Its own inline SVG charts are the only SVG on it."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from dlict.inventory import load_inventory
from dlict.reports import monthly
from dlict.reports.monthly_render import render_html
from tests.conftest import EXAMPLE_INVENTORY
from tests.security.test_reports_escaping import _Page

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
STYLE_BREAK = "</style><script>alert(3)</script>"
TEMPLATE = "{{7*7}}"
SVG = '<svg onload=alert(4)><rect onclick="x"/></svg>'


def _hostile_inventory(root: Path) -> Path:
    shutil.copytree(EXAMPLE_INVENTORY, root)
    for path in sorted((root / "group_vars").glob("school_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["dlict_site"]["name_th"] = f"โรงเรียน {SCRIPT}"
        data["dlict_site"]["name_en"] = f"School {STYLE_BREAK}"
        data["dlict_site"]["amphoe"] = f"อำเภอ {SVG}"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


def test_monthly_page_of_hostile_values(tmp_path: Path) -> None:
    inventory = load_inventory(_hostile_inventory(tmp_path / "inventory"))
    month = monthly.Month(2026, 11)
    at = month.start + timedelta(days=3)
    store = monthly.StoreFigures(
        log_sources=[monthly.LogSource("4401010001", IMG, False, f"gap {SCRIPT}", at)],
        agents_silent=[monthly.SilentAgent("4401010002", TEMPLATE, at)],
        incidents={f"malware {SVG}": 2})
    changes = [monthly.ConfigChange("4401010001", "s4401010001-gw", at, f"backup {SVG}")]
    sites = monthly.schools_of(inventory, None)
    day = monthly.Counts(up=200, n=288)
    figures = {s.id: monthly.SchoolFigures(days={date(2026, 11, 2): day}, link=day,
                                           school=day) for s in sites}
    report = monthly.assemble(month, month.end, datetime.now(UTC), sites, figures, store,
                              changes)
    for lang in ("th", "en"):
        page = render_html(report, lang, f"office {STYLE_BREAK}", (IMG, TEMPLATE),
                           (SCRIPT, SVG))
        parsed = _Page()
        parsed.feed(page)
        parsed.close()
        tags = [tag for tag, _attrs in parsed.tags]
        assert "script" not in tags and "img" not in tags
        # The amphoe chart and one picture of heat strips: no SVG came from a value.
        assert tags.count("svg") == 2
        assert tags.count("style") == 2
        handlers = [(tag, name) for tag, attrs in parsed.tags for name, _value in attrs
                    if name.startswith("on") or name in ("src", "href", "style", "srcdoc")]
        assert not handlers, handlers
        text = "".join(parsed.text)
        for value in (SCRIPT, IMG, TEMPLATE, SVG, f"gap {SCRIPT}", f"backup {SVG}",
                      f"malware {SVG}", f"office {STYLE_BREAK}"):
            assert value in text, value
