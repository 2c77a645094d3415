"""collectors/ and dashboards/: the Prometheus configuration, the alert rules and their unit
tests, the Alertmanager sample and the Grafana dashboards, checked with the real promtool,
amtool and Alertmanager from Debian's packages (prometheus, prometheus-alertmanager).

Grafana itself is not installable here, so the dashboards are checked as JSON models and
every PromQL expression in them is parsed by promtool."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.integration

COLLECTORS = REPO / "collectors"
RULES = COLLECTORS / "rules" / "dlict.rules.yml"
RULE_TESTS = sorted((COLLECTORS / "rules").glob("*.test.yml"))
DASHBOARDS = sorted((REPO / "dashboards").glob("*.json"))
METRICS_DOC = REPO / "docs" / "metrics.md"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager",
            "prometheus-alertmanager": "prometheus-alertmanager"}

# Concrete values for Grafana's own variables and the dashboards' template variables, so that
# every dashboard query becomes plain PromQL that promtool can parse.
GRAFANA_VALUES = {"__rate_interval": "1m", "__interval": "1m", "__range": "6h",
                  "__range_s": "21600", "__range_ms": "21600000", "site": "S001"}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
# A metric or recorded-series name: not preceded by a name character, a dot or a digit
# (which would make it part of a duration such as 1h:5m).
NAME = re.compile(r"(?<![\w:.$])[A-Za-z_:][\w:]*")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
THAI = re.compile(r"[\u0e00-\u0e7f]")


def program(name: str) -> str:
    """The program's path; a clear failure (never a skip) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: install Debian's '{PACKAGES[name]}' package "
                    "(bootstrap.sh lists it in APT_PACKAGES)", pytrace=False)
    return path


def run(*argv: str, cwd: Path = REPO) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{output}"
    return output


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return groups


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for group in rule_groups() for rule in group["rules"]
            if "record" in rule}


def load_dashboard(path: Path) -> dict[str, Any]:
    try:
        model: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        pytest.fail(f"{path.name}: not valid JSON: {exc}", pytrace=False)
    return model


def panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in model["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside a collapsed row


def dashboard_queries(model: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable of a dashboard."""
    for panel in panels(model):
        for target in panel.get("targets", []):
            yield f"panel {panel['id']} ({panel['title']}) {target['refId']}", target["expr"]
    for variable in model["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        match = re.fullmatch(r"\s*label_values\((.+),\s*\w+\)\s*", text)
        assert match, f"variable {variable['name']}: expected label_values(metric, label)"
        yield f"variable {variable['name']}", match.group(1)


def with_values(expr: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        assert name in GRAFANA_VALUES, f"unknown Grafana variable ${name} in {expr!r}"
        return GRAFANA_VALUES[name]

    return VARIABLE.sub(value, expr)


def series_names(expr: str) -> set[str]:
    """The dlict metric names and recorded series an expression reads."""
    bare = STRING.sub('""', expr)
    return {name for name in NAME.findall(bare) if name.startswith("dlict_") or ":" in name}


def documented_metrics() -> set[str]:
    names = set()
    for line in METRICS_DOC.read_text().splitlines():
        match = re.match(r"\|\s*`(dlict_\w+)`\s*\|", line)
        if match:
            names.add(match.group(1))
    return names


# --- Prometheus ------------------------------------------------------------------------------


def test_prometheus_config_and_its_rule_files_are_valid() -> None:
    output = run(program("promtool"), "check", "config", "collectors/prometheus.yml")
    assert "SUCCESS: 1 rule files found" in output
    assert "WARNING" not in output, output  # e.g. a file_sd file that does not exist


def test_example_target_files_are_file_sd_for_the_monitor_and_node_exporter() -> None:
    config = yaml.safe_load((COLLECTORS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["dlict"]["file_sd_configs"] == [{"files": ["targets/dlict.json"]}]
    assert jobs["node"]["file_sd_configs"] == [{"files": ["targets/node.json"]}]
    monitor = json.loads((COLLECTORS / "targets" / "dlict.json").read_text())
    assert monitor == [{"targets": ["127.0.0.1:9310"], "labels": {}}]
    nodes = json.loads((COLLECTORS / "targets" / "node.json").read_text())
    assert nodes and all(group["labels"].keys() == {"site", "host"} for group in nodes)
    assert all(target.endswith(":9100") for group in nodes for target in group["targets"])
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:9093"]
    assert config["rule_files"] == ["rules/*.rules.yml"]
    assert config["global"]["scrape_interval"] == config["global"]["evaluation_interval"] == "15s"


def test_rules_are_valid() -> None:
    run(program("promtool"), "check", "rules", str(RULES))


def test_rule_unit_tests_pass() -> None:
    assert len(RULE_TESTS) >= 2, RULE_TESTS
    output = run(program("promtool"), "test", "rules", *map(str, RULE_TESTS))
    assert "FAILED" not in output, output


def test_every_alert_fires_in_a_unit_test_and_stays_quiet_in_another() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "alerts never seen firing in the unit tests"
    assert names - quiet == set(), "alerts never seen quiet in the unit tests"


def test_every_alert_has_severity_and_english_and_thai_annotations() -> None:
    for rule in alert_rules():
        name, annotations = rule["alert"], rule["annotations"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert {"summary", "description", "summary_th"} <= annotations.keys(), name
        assert THAI.search(annotations["summary_th"]), f"{name}: summary_th is not Thai"
        assert not THAI.search(annotations["summary"] + annotations["description"]), name
        if not name.startswith("Dlict"):  # the monitor's own alerts have no site
            assert "$labels.site" in annotations["summary"], name
            assert "$labels.site" in annotations["summary_th"], name


def test_school_hours_alerts_hold_the_bangkok_window() -> None:
    """The window is in the expression itself, shifted from UTC by Bangkok's fixed +7 h."""
    window = [
        "hour(vector(time() + 7 * 3600)) >= 8 < 16",
        "day_of_week(vector(time() + 7 * 3600)) >= 1 <= 5",
    ]
    expressions = {rule["alert"]: rule["expr"] for rule in alert_rules()}
    for name in ("DltvUnlockedSchoolHours", "DltvStreamDown", "DltvReceiverUnreachable"):
        assert all(part in expressions[name] for part in window), name


# --- Alertmanager ----------------------------------------------------------------------------


def test_alertmanager_config_is_valid() -> None:
    output = run(program("amtool"), "check-config", "collectors/alertmanager.yml")
    assert "SUCCESS" in output


@pytest.mark.parametrize(("labels", "receiver"), [
    (["severity=critical", "alertname=SchoolLinkDown", "site=S001"], "dlict-oncall"),
    (["severity=warning", "alertname=SchoolLinkLoss", "site=S001"], "dlict-intake"),
    (["alertname=SomethingElse"], "dlict-intake"),
])
def test_alertmanager_routes_by_severity(labels: list[str], receiver: str) -> None:
    run(program("amtool"), "config", "routes", "test",
        "--config.file=collectors/alertmanager.yml", f"--verify.receivers={receiver}", *labels)


def test_every_receiver_reports_to_the_incident_intake() -> None:
    config = yaml.safe_load((COLLECTORS / "alertmanager.yml").read_text())
    assert config["route"]["group_by"] == ["alertname", "site"]
    for receiver in config["receivers"]:
        urls = [hook["url"] for hook in receiver["webhook_configs"]]
        assert "http://127.0.0.1:9311/alerts" in urls, receiver["name"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_json(url: str, body: Any = None) -> Any:
    assert url.startswith("http://127.0.0.1:"), url
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        text = answer.read()
    return json.loads(text) if text else None


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """A real Alertmanager on a loopback port with the sample configuration; its base URL."""
    binary = program("prometheus-alertmanager")
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [binary, f"--config.file={COLLECTORS / 'alertmanager.yml'}",
         f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Alertmanager did not start:\n"
                                + (tmp_path / "alertmanager.log").read_text(), pytrace=False)
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_link_down_and_unlocked_receiver_inhibit_the_same_schools_alerts(
        alertmanager: str) -> None:
    """S001: link down, so its DLTV and loss alerts are inhibited. S002: receiver unlocked,
    so its channel and SNR alerts are inhibited. S003: a channel missing, nothing else: active."""
    now = datetime.now(UTC)
    span = {"startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
    expected = {
        ("SchoolLinkDown", "S001"): "active",
        ("SchoolLinkLoss", "S001"): "suppressed",
        ("DltvStreamDown", "S001"): "suppressed",
        ("DltvReceiverUnreachable", "S001"): "suppressed",
        ("DltvUnlockedSchoolHours", "S002"): "active",
        ("DltvStreamDown", "S002"): "suppressed",
        ("DltvSnrLow", "S002"): "suppressed",
        ("DltvStreamDown", "S003"): "active",
        ("TlsCertExpiringSoon", "S001"): "active",
    }
    alerts = [{"labels": {"alertname": name, "site": site,
                          **({"channel": "1"} if name == "DltvStreamDown" else {})}, **span}
              for name, site in expected]
    http_json(f"{alertmanager}/api/v2/alerts", alerts)

    def states() -> dict[tuple[str, str], str]:
        got = http_json(f"{alertmanager}/api/v2/alerts")
        return {(a["labels"]["alertname"], a["labels"]["site"]): a["status"]["state"]
                for a in got}

    deadline = time.monotonic() + 5
    while (seen := states()) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen == expected


# --- Metrics contract ------------------------------------------------------------------------


def test_every_metric_in_rules_and_dashboards_is_documented() -> None:
    documented, recorded = documented_metrics(), recorded_names()
    assert "dlict_link_up" in documented, "could not read the tables of docs/metrics.md"
    used: dict[str, str] = {}
    for group in rule_groups():
        for rule in group["rules"]:
            for name in series_names(rule["expr"]):
                used.setdefault(name, f"{RULES.name}: {rule.get('alert') or rule['record']}")
    for path in DASHBOARDS:
        for where, expr in dashboard_queries(load_dashboard(path)):
            for name in series_names(expr):
                used.setdefault(name, f"{path.name}: {where}")
    for name in recorded:
        for source in series_names(next(rule["expr"] for group in rule_groups()
                                        for rule in group["rules"]
                                        if rule.get("record") == name)):
            assert source.startswith("dlict_"), f"{name} is recorded from {source}"
    unknown = {name: where for name, where in used.items()
               if name not in documented and name not in recorded}
    assert unknown == {}, "metrics not in docs/metrics.md (or not recorded by a rule)"


# --- Grafana dashboards ----------------------------------------------------------------------


def test_there_are_the_three_monitoring_dashboards() -> None:
    assert {path.stem for path in DASHBOARDS} >= {"district", "school", "dltv"}
    uids = [load_dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(uids) == len(set(uids)), f"dashboard uids repeat: {uids}"


def test_log_retention_and_compliance_dashboards_read_their_metrics() -> None:
    """logs.json shows every metric `dlict logs check --metrics` writes; compliance.json the
    device rules, device reachability (apart from failures) and the log-retention verdict.
    Both filter by site with a multi-value variable over their own metric."""
    documented = METRICS_DOC.read_text(encoding="utf-8")
    logs_metrics = set(re.findall(r"`(dlict_logs_\w+)`", documented))
    assert len(logs_metrics) >= 8, logs_metrics
    wanted = {"logs": logs_metrics,
              "compliance": {"dlict_netdev_audit_failures", "dlict_netdev_up",
                             "dlict_netdev_last_audit_timestamp_seconds", "dlict_logs_check_ok",
                             "dlict_logs_integrity_ok"}}
    for stem, metrics in wanted.items():
        model = load_dashboard(REPO / "dashboards" / f"{stem}.json")
        used = {name for _, expr in dashboard_queries(model)
                for name in NAME.findall(STRING.sub("", expr))}
        assert metrics <= used, f"{stem}.json does not show {sorted(metrics - used)}"
        (site,) = [v for v in model["templating"]["list"] if v["name"] == "site"]
        assert site["multi"] and site["includeAll"] and site["datasource"] == DATASOURCE
        # Every per-site selector follows the variable (the check-wide metrics have none).
        unfiltered = [place for place, expr in dashboard_queries(model)
                      if place.startswith("panel") and "{" in expr
                      and expr.count("{") != expr.count('{site=~"$site"}')]
        assert unfiltered == [], f"{stem}.json: {unfiltered}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_is_a_grafana_model_with_a_datasource_variable(path: Path) -> None:
    model = load_dashboard(path)
    for key in ("title", "uid", "panels", "schemaVersion", "templating", "time"):
        assert key in model, f"{path.name}: no '{key}'"
    assert model["schemaVersion"] >= 36
    assert THAI.search(model["title"]) and re.search(r"\([A-Za-z][^)]*\)$", model["title"]), \
        f"{path.name}: title should be Thai with English in parentheses: {model['title']!r}"
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"

    ids = [panel["id"] for panel in panels(model)]
    assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    for panel in panels(model):
        name = f"{path.name} panel {panel['id']}"
        grid = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= grid.keys(), name
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, name
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, name
        assert panel["targets"], f"{name}: no query"
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, f"{name} {target['refId']}"
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), f"{name}: refIds repeat"
    used = {next(g for g in m.groups() if g) for _, expr in dashboard_queries(model)
            for m in VARIABLE.finditer(expr)}
    assert {v for v in used if not v.startswith("__")} <= variables.keys(), path.name


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_panels_do_not_overlap(path: Path) -> None:
    taken: dict[tuple[int, int], int] = {}
    for panel in load_dashboard(path)["panels"]:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                other = taken.setdefault((x, y), panel["id"])
                assert other == panel["id"], \
                    f"{path.name}: panels {other} and {panel['id']} overlap at {x},{y}"


def test_school_dashboard_chooses_a_school_from_the_link_metric() -> None:
    model = load_dashboard(REPO / "dashboards" / "school.json")
    (site,) = [v for v in model["templating"]["list"] if v["name"] == "site"]
    query = site["query"]["query"] if isinstance(site["query"], dict) else site["query"]
    assert query == "label_values(dlict_link_up, site)"
    assert site["datasource"] == DATASOURCE


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """Each query, with Grafana's variables given values, becomes a recording rule that
    promtool parses: a typo in any panel fails here and names the panel."""
    rules: list[dict[str, str]] = []
    where: list[str] = []
    for path in DASHBOARDS:
        for place, expr in dashboard_queries(load_dashboard(path)):
            rules.append({"record": f"dashboard:query_{len(rules)}:check",
                          "expr": with_values(expr)})
            where.append(f"{path.name}: {place}: {expr}")
    assert len(rules) > 40, "fewer dashboard queries than expected"
    rule_file = tmp_path / "dashboards.rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = subprocess.run([program("promtool"), "check", "rules", str(rule_file)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        # Name the broken queries one by one.
        broken = []
        for rule, place in zip(rules, where, strict=True):
            rule_file.write_text(yaml.safe_dump({"groups": [{"name": "q", "rules": [rule]}]}))
            one = subprocess.run([program("promtool"), "check", "rules", str(rule_file)],
                                 capture_output=True, text=True, timeout=60)
            if one.returncode != 0:
                broken.append(f"{place}\n    {one.stdout.strip()} {one.stderr.strip()}")
        pytest.fail("dashboard queries promtool cannot parse:\n" + "\n".join(broken),
                    pytrace=False)
