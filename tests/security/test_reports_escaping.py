"""Every HTML report, fed hostile values from every place a value can come from, shows them as
text and runs none of them.

The values come in the way an attacker would bring them: an inventory edited by someone else
(school names, host names), a network device's answer (a user name in its configuration), a
log line any host may send to the log server, the name of a log source directory, a Prometheus
label, and the operator's name. The pages are rendered by the real renderers, through the CLI
wherever the CLI can run here; each page is then parsed as a browser would and must hold no
element or attribute the template did not write, while the hostile text is visible as text.
"""

from __future__ import annotations

import grp
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from dlict.incidents.documents import CaseFile, DocumentKind
from dlict.incidents.documents import render_html as render_document
from dlict.inventory import load_inventory
from dlict.logs import keys
from dlict.logs.policy import Policy
from dlict.reports.dltv_survey import build_survey
from dlict.reports.dltv_survey_render import render_html
from dlict.reports.env import report_environment
from lab.devices.devicelab import FIXTURES, DeviceLab, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD
from lab.logtree import build_tree, source_names
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.httpstub import QuietHandler, serving
from tests.incident_records import ISSUED, OFFICE, case_file
from tests.unit.test_dltv_survey import END, START, STEP, receiver

pytestmark = pytest.mark.integration

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
STYLE_BREAK = "</style><script>alert(3)</script>"
TEMPLATE = "{{7*7}}"
HOSTILE = (SCRIPT, IMG, STYLE_BREAK, TEMPLATE)
# A file or directory name cannot hold "/": these are the payloads a name can carry.
NAME_SAFE = (IMG, "<svg onload=alert(4)>", TEMPLATE)

ACTIVE_TAGS = {"script", "img", "svg", "iframe", "object", "embed", "link", "meta", "base",
               "form", "input", "math", "video", "audio", "source"}


# The audit page's filter: radio buttons the template writes, named by index or a fixed word,
# never by a value. Any other input element came from a value.
FILTER_RADIO_ID = re.compile(r"site-(all|\d+)|status-(all|attention|passing)")


def _template_radio(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    found = dict(attrs)
    return (tag == "input" and set(found) <= {"type", "name", "id", "checked"}
            and found.get("type") == "radio" and found.get("name") in ("site", "status")
            and FILTER_RADIO_ID.fullmatch(found.get("id") or "") is not None)


class _Page(HTMLParser):
    """What a browser would build from the page: its start tags, attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(page: str, *visible: str) -> None:
    """No live markup but the template's own, and each of ``visible`` shown as text."""
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    active = [tag for tag, attrs in parsed.tags
              if tag in ACTIVE_TAGS - {"meta"} and not _template_radio(tag, attrs)]
    assert not active, f"live elements in the page: {active}"
    # The templates' own <meta charset> is the one meta; anything else came from a value.
    metas = [attrs for tag, attrs in parsed.tags if tag == "meta"]
    assert metas == [[("charset", "utf-8")]], metas
    handlers = [(tag, name) for tag, attrs in parsed.tags for name, _value in attrs
                if name.startswith("on") or name in ("src", "href", "style", "srcdoc")]
    assert not handlers, f"event handlers or sources in the page: {handlers}"
    assert [tag for tag, _attrs in parsed.tags].count("style") == 1
    text = "".join(parsed.text)
    for value in visible:
        assert value in text, f"{value!r} is not shown as text"


# --- the audit report (dlict netdev audit --report, the same page as dlict audit --report) ---


def _hostile_users(platform_dir: Path) -> str:
    """The compliant RouterOS user list with the district account renamed to a payload."""
    users = (platform_dir / "users.txt").read_text(encoding="utf-8")
    assert 'name="it-school1"' in users
    return users.replace('name="it-school1"', f'name="{SCRIPT}{TEMPLATE}"')


def _renamed_keys(node: object, old: str, new: str) -> object:
    if isinstance(node, dict):
        return {(new if key == old else key): _renamed_keys(value, old, new)
                for key, value in node.items()}
    return node


def _rename_host(inventory: Path, old: str, new: str) -> None:
    """The fake device's SSH banner needs a real host name; the inventory may call it anything."""
    hosts = inventory / "hosts.yml"
    data = _renamed_keys(yaml.safe_load(hosts.read_text(encoding="utf-8")), old, new)
    hosts.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _hostile_school_names(inventory: Path) -> None:
    for path in sorted((inventory / "group_vars").glob("school_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["dlict_site"]["name_th"] = f"โรงเรียน {SCRIPT}"
        data["dlict_site"]["name_en"] = f"School {STYLE_BREAK}"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_audit_report_of_a_hostile_device_and_inventory(
        cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = FIXTURES / "routeros" / "compliant"
    outputs = outputs_from_case("routeros", case)
    users_command = next(c for c, text in outputs.items() if 'name="it-school1"' in text)
    outputs[users_command] = _hostile_users(case)
    with DeviceLab() as lab:
        lab.add("gw-1", "routeros", outputs)
        known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")
        inventory = write_device_district(tmp_path / "inventory", lab.devices, known_hosts)
        _rename_host(inventory, "gw-1", IMG)
        _hostile_school_names(inventory)
        monkeypatch.setenv("DLICT_NETDEV_PASSWORD", DEFAULT_PASSWORD)
        monkeypatch.setenv("SUDO_USER", TEMPLATE)  # the operator named on the page
        for lang, name in (("th", f"โรงเรียน {SCRIPT}"), ("en", f"School {STYLE_BREAK}")):
            report = tmp_path / f"audit-{lang}.html"
            result = cli("--lang", lang, "--json", "-i", str(inventory), "netdev", "audit",
                         "--report", str(report))
            assert result.code in (0, 1), result.stderr
            hosts = {r["host"] for r in json.loads(result.stdout)["results"]}
            assert hosts == {IMG}
            page = report.read_text(encoding="utf-8")
            # the device's user list reaches the evidence (ID-10 names the users it saw)
            assert_inert(page, name, IMG, SCRIPT + TEMPLATE, TEMPLATE)


# --- the log-retention report (dlict logs check --report) ----------------------------------


def _policy_args(policy: Policy, key: Path, *extra: str) -> list[str]:
    return ["--policy", str(policy.root.parent / "logging.json"), "--root", str(policy.root),
            "--state", str(policy.state_dir), "--key", str(key), *extra]


def _write_day(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.chown(path, 0, grp.getgrnam("adm").gr_gid)
    path.chmod(0o640)


def _hostile_line(moment: datetime, host: str) -> str:
    """A kernel line with SRC= and DST= but no IN=/OUT= header: an unknown firewall format,
    which the report quotes as its example."""
    stamp = moment.astimezone().isoformat(timespec="microseconds")
    return (f"{stamp} {host} kernel: {IMG} SRC=10.44.1.2 DST={STYLE_BREAK} {SCRIPT} "
            f"{TEMPLATE}\n")


def test_logs_report_of_hostile_log_lines_and_source_names(
        cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path / "base", sources=1, days=3)
    now = datetime.now(UTC)
    # A log line any host can send, in the open day of a sealed source...
    site, host = source_names(1)[0]
    today = policy.root / site / host / f"{now.astimezone().date().isoformat()}.log"
    with today.open("a", encoding="utf-8") as f:
        f.write(_hostile_line(now, host))
    # ...and a source whose directory names come from a sender's host name.
    hostile_source = policy.root / "4401099999" / "".join(NAME_SAFE)
    hostile_source.mkdir(parents=True, mode=0o750)
    (policy.root / "4401099999").chmod(0o750)
    yesterday = (now - timedelta(days=1)).astimezone().date()
    _write_day(hostile_source / f"{yesterday.isoformat()}.log", _hostile_line(now, "x"))
    _write_day(hostile_source / f"{now.astimezone().date().isoformat()}.log",
               _hostile_line(now, "x"))
    sealed = cli("logs", "seal", *_policy_args(policy, policy.signing_key))
    assert sealed.code == 0, sealed.stderr
    for lang in ("th", "en"):
        report = tmp_path / f"logs-{lang}.html"
        result = cli("--lang", lang, "logs", "check", *_policy_args(
            policy, keys.public_path(policy.signing_key), "--report", str(report)))
        assert result.code == 1, result.stderr  # unknown formats and short retention
        page = report.read_text(encoding="utf-8")
        assert_inert(page, f"4401099999/{''.join(NAME_SAFE)}", IMG, STYLE_BREAK, SCRIPT,
                     TEMPLATE)


# --- the DLTV survey (dlict report dltv-survey --html) --------------------------------------


def _hostile_dltv_inventory(target: Path) -> Path:
    shutil.copytree(EXAMPLE_INVENTORY, target)
    for path in sorted((target / "group_vars").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        site = data.get("dlict_site")
        if site is None:
            continue
        site["name_th"] = f"{site['name_th']} {SCRIPT}"
        site["name_en"] = f"{site['name_en']} {STYLE_BREAK}"
        site["amphoe"] = IMG
        for contact in site.get("contacts", []):
            contact["name"] = f"{TEMPLATE} {IMG}"
            contact["phone"] = SCRIPT
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


class _HostilePrometheus(QuietHandler):
    """A stand-in Prometheus whose only ``site`` label values are payloads and whose series
    are empty: every school is listed as having no data, every label as not ours."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if "/label/" in self.path:
            data: object = [SCRIPT, IMG, STYLE_BREAK, TEMPLATE]
        else:
            data = {"resultType": "matrix", "result": []}
        self.send_json({"status": "success", "data": data})


@pytest.fixture
def hostile_prometheus() -> Iterator[str]:
    with serving(_HostilePrometheus) as served:
        yield served.url


def test_dltv_survey_page_of_hostile_inventory_and_labels(
        cli: CliRunner, tmp_path: Path, hostile_prometheus: str) -> None:
    inventory = _hostile_dltv_inventory(tmp_path / "inventory")
    for lang, name in (("th", SCRIPT), ("en", STYLE_BREAK)):
        page_file = tmp_path / f"survey-{lang}.html"
        result = cli("--lang", lang, "-i", str(inventory), "report", "dltv-survey",
                     "--prometheus", hostile_prometheus, "--html", str(page_file))
        assert result.code == 0, result.stderr
        assert_inert(page_file.read_text(encoding="utf-8"), name, IMG, TEMPLATE, SCRIPT,
                     STYLE_BREAK)


def test_dltv_survey_form_rows_of_hostile_schools(tmp_path: Path) -> None:
    """The form's rows (schools that need work) are filled only from data Prometheus holds;
    the series here are synthetic, as in the survey's unit tests, through the real renderer."""
    inventory = load_inventory(_hostile_dltv_inventory(tmp_path / "inventory"))
    codes = [s.id for s in inventory.sites if s.meta.dltv and s.meta.dltv.source != "none"]
    data = {code: receiver(locked=lambda m: 0.0, signal=lambda m: 0.0, snr=lambda m: 0.0)
            for code in codes}
    data[SCRIPT] = receiver()  # a label no school has
    survey = build_survey(inventory, data, start=START, end=END, step_s=STEP)
    assert survey.findings, "no school needs work: the form's rows were not rendered"
    for lang, name in (("th", SCRIPT), ("en", STYLE_BREAK)):
        assert_inert(render_html(survey, lang, END), name, IMG, TEMPLATE)


# --- the printed documents' layout and signature blocks: names from the inventory ----------


def test_document_layout_and_signature_show_office_names_as_text() -> None:
    env = report_environment("th")
    page = env.from_string(
        '{% extends "document.html.j2" %}{% from "_signature.html.j2" import signature %}'
        '{% block title %}{{ office_name }}{% endblock %}'
        '{% block body %}{{ signature(name, title, role) }}{% endblock %}'
    ).render(office_name=SCRIPT, name=IMG, title=STYLE_BREAK, role=TEMPLATE)
    assert_inert(page, SCRIPT, IMG, STYLE_BREAK, TEMPLATE)


# --- the incident documents: a case's values come from alerts, findings and whoever typed them


def _hostile_case_file() -> CaseFile:
    """Every value of a case a person or an alert can set, carrying a payload."""
    record = case_file(title=f"{SCRIPT} {TEMPLATE}", observable=f"http://x/{IMG}",
                       description=STYLE_BREAK, who=IMG)
    tasks = [replace(task, title=f"{task.title} {SCRIPT}") for task in record.tasks]
    timeline = [replace(entry, text=STYLE_BREAK, kind=IMG) for entry in record.timeline]
    evidence = [replace(item, name=IMG, note=SCRIPT) for item in record.evidence]
    deadlines = [replace(d, basis=TEMPLATE) for d in record.deadlines]
    return replace(record, case=replace(record.case, sites=(SCRIPT,), hosts=(IMG,)),
                   tasks=tasks, timeline=timeline, evidence=evidence, deadlines=deadlines)


def test_incident_documents_show_hostile_case_and_office_values_as_text() -> None:
    office = OFFICE.model_copy(update={
        "name_th": f"สำนักงาน {SCRIPT}", "name_en": f"Office {STYLE_BREAK}",
        "doc_prefix": IMG, "director_name": TEMPLATE, "dlict_head_name": IMG,
        "phone": SCRIPT, "email": IMG, "address": STYLE_BREAK})
    record = _hostile_case_file()
    for kind in DocumentKind:
        for lang in ("th", "en"):
            page = render_document(kind, record, office, lang, issued_at=ISSUED,
                                   site_names={SCRIPT: IMG})
            assert_inert(page, SCRIPT, IMG, TEMPLATE)


# --- no template outside this test, no way around the escaping ----------------------------


def test_every_template_is_covered_and_none_marks_values_safe() -> None:
    env = report_environment("th")
    assert env.autoescape is True
    assert set(env.list_templates()) == {"audit.html.j2", "logs.html.j2",
                                         "dltv_survey.html.j2", "document.html.j2",
                                         "_signature.html.j2", "compliance.html.j2",
                                         "_incident_fields.html.j2",
                                         "incident_memo.html.j2", "incident_ncsa.html.j2",
                                         "incident_pdpc.html.j2", "incident_timeline.html.j2",
                                         "incident_evidence.html.j2",
                                         # its test: tests/security/test_monthly_escaping.py
                                         "monthly.html.j2", "access_form.html.j2"}, \
        "a new report template needs its hostile-value test in this file"
    assert env.loader is not None
    for name in env.list_templates():
        squeezed = env.loader.get_source(env, name)[0].replace(" ", "")
        assert "|safe" not in squeezed and "autoescapefalse" not in squeezed, name
    # Every report page comes from this one environment: no module builds its own.
    src = Path(__file__).resolve().parents[2] / "src" / "dlict"
    builders = sorted(str(p.relative_to(src)) for p in src.rglob("*.py")
                      if "Environment(" in p.read_text(encoding="utf-8"))
    assert builders == ["reports/env.py"], builders
