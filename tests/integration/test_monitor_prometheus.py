"""Real Prometheus (Debian's package) scraping a real `dlict monitor`, with the shipped
configuration and alert rules: a school whose link is made to fail raises SchoolLinkDown, the
healthy ones do not, and stopping the monitor raises DlictMonitorDown.

The schools' links are hosts in network namespaces of the test's own (veth pairs); the only
change to the shipped files is time: scrape and rule evaluation every second and each alert's
`for:` cut to 3 s, so the test waits seconds, not minutes (the durations themselves are proven
by `promtool test rules` in test_collectors.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.monitoring import (
    School,
    fetch,
    free_port,
    namespace_host,
    running_monitor,
    write_district,
)
from tests.conftest import REPO, CliRunner

PROMETHEUS = shutil.which("prometheus")


def _collectors_fast(tmp: Path) -> Path:
    target = tmp / "collectors"
    shutil.copytree(REPO / "collectors", target)
    config = target / "prometheus.yml"
    config.write_text(re.sub(r"(scrape|evaluation)_interval: \d+s", r"\1_interval: 1s",
                             config.read_text()).replace("scrape_timeout: 10s",
                                                         "scrape_timeout: 1s"))
    for rules in (target / "rules").glob("*.rules.yml"):
        rules.write_text(re.sub(r"\bfor: \d+[smh]\b", "for: 3s", rules.read_text()))
    return target


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, object]]:
        status, _h, body = fetch(f"{self.url}/api/v1/query?"
                                 + urllib.parse.urlencode({"query": expr}))
        assert status == 200, body
        result: list[dict[str, object]] = json.loads(body)["data"]["result"]
        return result

    def firing(self) -> set[tuple[str, str]]:
        _s, _h, body = fetch(f"{self.url}/api/v1/alerts")
        return {(a["labels"]["alertname"], a["labels"].get("site", ""))
                for a in json.loads(body)["data"]["alerts"] if a["state"] == "firing"}

    def wait_for(self, what: str, check: object, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():  # type: ignore[operator]
                return
            time.sleep(0.5)
        raise AssertionError(f"{what} within {timeout} s; alerts firing: {self.firing()}")


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[object]:
    if PROMETHEUS is None:
        pytest.fail("prometheus is not installed: apt-get install prometheus "
                    "(bootstrap.sh installs it)")
    processes: list[subprocess.Popen[bytes]] = []

    def start(collectors: Path) -> Prometheus:
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        process = subprocess.Popen(
            [str(PROMETHEUS), f"--config.file={collectors / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
        processes.append(process)
        server = Prometheus(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if fetch(f"{server.url}/-/ready", timeout=2)[0] == 200:
                    return server
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            time.sleep(0.2)
        raise AssertionError("Prometheus did not become ready")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def test_a_failing_school_fires_and_healthy_ones_do_not(
        cli: CliRunner, tmp_path: Path, prometheus_for: object) -> None:
    with namespace_host(1) as healthy, namespace_host(2) as failing:
        inventory = write_district(tmp_path / "inv", [
            School("4401010001", probe_targets=[healthy.address]),
            School("4401010002", probe_targets=[failing.address]),
            School("4401010003", probe_targets=["127.0.0.1"]),
        ], {"count": 2, "period_ms": 200, "timeout_ms": 300})
        collectors = _collectors_fast(tmp_path)
        port = free_port()
        exported = cli("-i", str(inventory), "monitor", "export-sd", "--dir",
                       str(collectors / "targets"), "--listen", f"127.0.0.1:{port}")
        assert exported.code == 0, exported.stderr
        for check in (["check", "config", str(collectors / "prometheus.yml")],
                      ["check", "rules", *map(str, (collectors / "rules").glob("*.rules.yml"))]):
            run = subprocess.run(["promtool", *check], capture_output=True, text=True,
                                 check=False)
            assert run.returncode == 0, run.stdout + run.stderr
        with running_monitor(inventory, tmp_path, port=port):
            prometheus = prometheus_for(collectors)  # type: ignore[operator]
            prometheus.wait_for("the monitor scraped", lambda: any(
                r["value"][1] == "3" for r in prometheus.query("dlict_monitor_targets")))
            up = {r["metric"]["site"]: r["value"][1]
                  for r in prometheus.query("dlict_link_up")}
            assert up == {"4401010001": "1", "4401010002": "1", "4401010003": "1"}

            failing.ignore_echo()
            prometheus.wait_for("SchoolLinkDown for the failing school",
                                lambda: ("SchoolLinkDown", "4401010002") in prometheus.firing())
            _s, _h, body = fetch(f"{prometheus.url}/api/v1/alerts")
            [named] = [a["annotations"] for a in json.loads(body)["data"]["alerts"]
                       if a["labels"]["alertname"] == "SchoolLinkDown"
                       and a["labels"]["site"] == "4401010002"]
            # the school's names come from dlict_site_info, which the monitor serves
            assert named["summary"] == ("School 4401010002 (School 4401010002, เมือง): "
                                        "internet link down")
            assert named["summary_th"] == ("โรงเรียน 4401010002 (โรงเรียน 4401010002 อ.เมือง): "
                                           "อินเทอร์เน็ตใช้งานไม่ได้")
            time.sleep(3)  # healthy schools had every chance to fire by now
            firing = prometheus.firing()
            assert ("SchoolLinkDown", "4401010001") not in firing
            assert ("SchoolLinkDown", "4401010003") not in firing
            assert not {a for a in firing if a[0].startswith("DlictMonitor")}

            failing.ignore_echo(False)
            prometheus.wait_for("the school's alert resolved",
                                lambda: ("SchoolLinkDown", "4401010002") not in
                                prometheus.firing())
        prometheus.wait_for("DlictMonitorDown once the monitor stopped",
                            lambda: ("DlictMonitorDown", "") in prometheus.firing())
