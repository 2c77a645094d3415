"""A real Prometheus with the project's alert rules, a real Alertmanager with the project's
collectors/alertmanager.yml, posting to a real ``dlict incident intake``: a failing school opens
one case, however often Alertmanager repeats the notification, and resolving adds a timeline
entry to that case.

Both programs are Debian's packages on loopback ports. What the test changes in the shipped
files is only where things are and time: the webhook URL and the scrape targets point at the
test's ports; evaluation and scrapes every second, each rule's ``for:`` cut to 3 s (30 s for
the ``absent()`` rules, which would otherwise fire before the first scrapes), and
Alertmanager's group_wait/group_interval/repeat_interval cut to 1 s/1 s/2 s so repeats happen
within the test (the real durations are proven by ``promtool test rules`` in
test_collectors.py). The school's link state comes from a stand-in exporter serving
``dlict_link_up`` as the monitor would.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from dlict.incidents.model import CaseSource, Category
from tests.conftest import REPO
from tests.httpstub import QuietHandler, serving
from tests.incident_intake_support import Book, free_port, incident_intake, read_book

pytestmark = pytest.mark.integration

FAILING, HEALTHY = "4401010002", "4401010001"


class _Exporter(QuietHandler):
    link_up: ClassVar[dict[str, int]] = {FAILING: 0, HEALTHY: 1}

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        lines = ["# TYPE dlict_link_up gauge"]
        lines += [f'dlict_link_up{{site="{site}"}} {up}' for site, up in self.link_up.items()]
        self.send_body(("\n".join(lines) + "\n").encode(), 200, "text/plain; version=0.0.4")


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install prometheus "
                    "prometheus-alertmanager (bootstrap.sh installs them)")
    return found


def _collectors(tmp: Path, *, exporter: int, alertmanager: int, prometheus: int,
                intake: int) -> Path:
    target = tmp / "collectors"
    shutil.copytree(REPO / "collectors", target)
    config = target / "prometheus.yml"
    text = re.sub(r"(scrape|evaluation)_interval: \d+s", r"\1_interval: 1s", config.read_text())
    text = (text.replace("scrape_timeout: 10s", "scrape_timeout: 1s")
            .replace("127.0.0.1:9093", f"127.0.0.1:{alertmanager}")
            .replace("127.0.0.1:9090", f"127.0.0.1:{prometheus}")
            .replace("127.0.0.1:9479", f"127.0.0.1:{intake}"))  # /metrics of a dlict intake
    config.write_text(text)
    (target / "targets" / "dlict.json").write_text(
        f'[{{"targets": ["127.0.0.1:{exporter}"], "labels": {{}}}}]\n')
    for rules in (target / "rules").glob("*.rules.yml"):
        groups = yaml.safe_load(rules.read_text())
        for rule in (r for group in groups["groups"] for r in group["rules"] if "for" in r):
            # an absent() rule holds off until the first scrapes are in, as in production
            rule["for"] = "30s" if "absent(" in rule["expr"] else "3s"
        rules.write_text(yaml.safe_dump(groups, allow_unicode=True, sort_keys=False))
    routes = target / "alertmanager.yml"
    text = routes.read_text().replace("http://127.0.0.1:9311/alerts",
                                      f"http://127.0.0.1:{intake}/alerts")
    text = re.sub(r"group_wait: \S+", "group_wait: 1s", text)
    text = re.sub(r"group_interval: \S+", "group_interval: 1s", text)
    routes.write_text(re.sub(r"repeat_interval: \S+", "repeat_interval: 2s", text))
    return target


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{url} did not start:\n{log.read_text()}") from None
            time.sleep(0.1)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[list[str], str, str], None]]:
    """Start a program (logged to tmp_path/NAME.log) and wait for its /-/ready; every one is
    stopped by its PID at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def run(argv: list[str], url: str, name: str) -> None:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        _wait_ready(url, process, log)

    yield run
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _webhooks_sent(alertmanager: str) -> int:
    with urllib.request.urlopen(f"{alertmanager}/metrics", timeout=5) as answer:  # noqa: S310
        text = answer.read().decode()
    return sum(int(float(m.group(1))) for m in re.finditer(
        r'^alertmanager_notifications_total\{[^}]*integration="webhook"[^}]*\} (\S+)$', text,
        re.MULTILINE))


def _wait_for(what: str, check: Callable[[], bool], logs: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            shown = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                              for p in sorted(logs.glob("*.log")))
            raise AssertionError(f"{what} within {timeout} s\n{shown}")
        time.sleep(0.25)


def _query(prometheus: str, expr: str) -> dict[str, float]:
    """``expr``'s value by the series' ``case`` (or ``threat_level``) label."""
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
        result = json.loads(answer.read())["data"]["result"]
    return {r["metric"].get("case") or r["metric"].get("threat_level", ""): float(r["value"][1])
            for r in result}


def _alert_entries(book: Book, case_id: str) -> list[str]:
    return [entry.kind for entry in book.timelines[case_id] if entry.kind.startswith("alert-")]


def test_a_failing_school_opens_one_case_and_its_recovery_goes_on_the_timeline(
        tmp_path: Path, start: Callable[[list[str], str, str], None]) -> None:
    alertmanager_bin, prometheus_bin = _program("prometheus-alertmanager"), _program("prometheus")
    data_dir = tmp_path / "data"
    with serving(_Exporter) as exporter, incident_intake(data_dir) as intake:
        am_port, prom_port = free_port(), free_port()
        collectors = _collectors(tmp_path, exporter=exporter.port, alertmanager=am_port,
                                 prometheus=prom_port, intake=intake.port)
        alertmanager = f"http://127.0.0.1:{am_port}"
        start([alertmanager_bin, f"--config.file={collectors / 'alertmanager.yml'}",
               f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{am_port}",
               "--cluster.listen-address="], alertmanager, "alertmanager")
        start([prometheus_bin, f"--config.file={collectors / 'prometheus.yml'}",
               f"--storage.tsdb.path={tmp_path / 'tsdb'}", "--rules.alert.resend-delay=1s",
               f"--web.listen-address=127.0.0.1:{prom_port}"],
              f"http://127.0.0.1:{prom_port}", "prometheus")

        _wait_for("a case for the failing school", lambda: any(
            "SchoolLinkDown" in c.group_key for c in read_book(data_dir).cases), tmp_path)
        first_sent = _webhooks_sent(alertmanager)
        _wait_for("Alertmanager repeating the notification twice more",
                  lambda: _webhooks_sent(alertmanager) >= first_sent + 2, tmp_path)
        book = read_book(data_dir)
        [case] = book.cases  # one case, not one per notification; none for the healthy school
        assert case.sites == (FAILING,)
        assert case.source is CaseSource.ALERTMANAGER
        assert case.category is Category.AVAILABILITY
        assert case.status.is_open
        assert "SchoolLinkDown" in case.group_key and FAILING in case.group_key
        assert case.title == f"School {FAILING}: internet link down"
        assert _alert_entries(book, case.id) == ["alert-firing"]
        # Prometheus scrapes the intake's /metrics (job dlict-intake pointed at it)
        prometheus = f"http://127.0.0.1:{prom_port}"
        _wait_for("the open case in Prometheus", lambda: _query(
            prometheus, "dlict_incident_open").get("non-serious") == 1, tmp_path)
        deadlines = _query(prometheus, "dlict_incident_deadline_timestamp_seconds")
        assert set(deadlines) == {case.id}

        _Exporter.link_up = {FAILING: 1, HEALTHY: 1}
        _wait_for("the resolved alert on the case's timeline",
                  lambda: "alert-resolved" in _alert_entries(read_book(data_dir), case.id),
                  tmp_path)
        book = read_book(data_dir)
        assert [c.id for c in book.cases] == [case.id]
        assert _alert_entries(book, case.id) == ["alert-firing", "alert-resolved"]
        firing, resolved = [e for e in book.timelines[case.id] if e.kind.startswith("alert-")]
        assert resolved.at > firing.at  # the alert's own times, not when dlict heard of them
        assert "SchoolLinkDown resolved" in resolved.text
        assert {t.action for t in book.trails[case.id]} >= {"open", "note"}
    assert intake.process.returncode == 0, intake.log.read_text()
