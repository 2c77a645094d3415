"""The printed forms of the audit, log-retention and DLTV survey reports (what ``--pdf``
prints) and their signature blocks, fed hostile values: office and director names from the
inventory's dlict_office, school names, a host name and evidence from a device. The printed
HTML holds no element the template did not write, and the PDF shows the values as text.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from dlict.controls import load_catalog
from dlict.core.results import Result, Status
from dlict.core.store import Run, RunStatus
from dlict.inventory import load_inventory
from dlict.inventory.models import OfficeSettings
from dlict.logs import keys
from dlict.logs.check import check_tree
from dlict.reports.dltv_survey import build_survey
from dlict.reports.dltv_survey_render import render_html
from dlict.reports.html import render_audit_html
from dlict.reports.logs_html import render_logs_html
from dlict.reports.pdf import write_pdf
from lab.logtree import build_tree
from tests.conftest import EXAMPLE_INVENTORY
from tests.pdf_support import pdf_text
from tests.security.test_reports_escaping import IMG, SCRIPT, STYLE_BREAK, TEMPLATE, assert_inert
from tests.unit.test_dltv_survey import END, START, STEP, receiver

pytestmark = pytest.mark.integration

HOSTILE_OFFICE = {"name_th": f"สพท. {SCRIPT}", "name_en": f"Office {SCRIPT}",
                  "director_name": IMG, "director_title_th": STYLE_BREAK,
                  "director_title_en": STYLE_BREAK, "dlict_head_name": TEMPLATE,
                  "dlict_head_title_th": IMG, "dlict_head_title_en": IMG}
AUDITED = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def hostile_inventory(tmp_path: Path) -> Path:
    target = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, target)
    all_vars = target / "group_vars" / "all.yml"
    data = yaml.safe_load(all_vars.read_text(encoding="utf-8"))
    data["dlict_office"] = HOSTILE_OFFICE
    all_vars.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for path in sorted((target / "group_vars").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "dlict_site" in data:
            data["dlict_site"]["name_th"] = f"โรงเรียน {STYLE_BREAK}"
            data["dlict_site"]["name_en"] = f"School {STYLE_BREAK}"
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_audit_printed_and_screen_forms_keep_values_as_text(hostile_inventory: Path,
                                                            tmp_path: Path) -> None:
    inventory = load_inventory(hostile_inventory)
    catalog = load_catalog()
    site = inventory.sites[1].id
    results = [Result(site=site, host=IMG, status=Status.FAIL, control="FW-01",
                      evidence=SCRIPT + TEMPLATE, observed_at=AUDITED),
               Result(site=site, host=IMG, status=Status.PASS, control="FW-02",
                      evidence=STYLE_BREAK, observed_at=AUDITED)]
    run = Run(id=3, kind="audit", command="dlict audit", operator=TEMPLATE, dlict_version="x",
              started_at=AUDITED, finished_at=AUDITED, status=RunStatus.FINDINGS)
    for printed in (False, True):
        page = render_audit_html(run, results, catalog, inventory, "th", printed=printed)
        assert_inert(page, f"สพท. {SCRIPT}", IMG, STYLE_BREAK, TEMPLATE, SCRIPT + TEMPLATE)
    target = tmp_path / "audit.pdf"
    write_pdf(render_audit_html(run, results, catalog, inventory, "en", printed=True),
              target, "en")
    text = pdf_text(target).replace(" ", "")
    for value in (SCRIPT, IMG, STYLE_BREAK, TEMPLATE):
        assert value.replace(" ", "") in text, value


def test_logs_printed_form_signed_by_hostile_names(tmp_path: Path) -> None:
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    policy = build_tree(tmp_path / "tree", sources=1, days=3, lines_per_day=3, now=now)
    report = check_tree(policy, keys.load_public(keys.public_path(policy.signing_key)), now=now)
    office = OfficeSettings(**HOSTILE_OFFICE)
    for lang in ("th", "en"):
        page = render_logs_html(report, lang, office, printed=True)
        assert_inert(page, SCRIPT, IMG, STYLE_BREAK, TEMPLATE)


def test_survey_printed_form_signed_by_hostile_names(hostile_inventory: Path) -> None:
    inventory = load_inventory(hostile_inventory)
    codes = [s.id for s in inventory.sites if s.meta.dltv and s.meta.dltv.source != "none"]
    data = {code: receiver(snr=lambda m: 3.0) for code in codes}
    survey = build_survey(inventory, data, start=START, end=END, step_s=STEP)
    assert survey.findings
    page = render_html(survey, "th", END, inventory.office, printed=True)
    assert_inert(page, SCRIPT, IMG, STYLE_BREAK, TEMPLATE)
