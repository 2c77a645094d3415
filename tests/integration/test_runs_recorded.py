"""Every command that checks something lands in the evidence store: each is run here as the
real ``dlict`` program (a subprocess) against real local inputs, then ``dlict runs list
--json`` and ``dlict runs show --json`` must show its run, its status and its results.

netdev audit and backup talk SSH to the fake devices of lab/devices on 127.0.0.1; logs
check reads a real sealed tree; monitor --once probes loopback and a closed local port;
report dltv-survey asks a stand-in Prometheus on 127.0.0.1. apply and audit need the fleet:
tests/integration/sop covers them (their runs are read back from the store there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dlict.logs import keys
from lab.devices.devicelab import FIXTURES, DeviceLab, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD
from lab.logtree import build_tree, source_names
from lab.monitoring import School, free_port, write_district
from tests.conftest import EXAMPLE_INVENTORY

pytestmark = pytest.mark.integration

DLICT = str(Path(sys.executable).parent / "dlict")
TIMEOUT_S = 120


def dlict(data: Path, *args: str, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DLICT, "--data-dir", str(data), "--lang", "en", *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S,
                          env={**os.environ, **(env or {})}, check=False)


def only_run(data: Path, kind: str) -> dict[str, Any]:
    """The one run of ``kind`` that ``dlict runs list`` shows, with its results from
    ``dlict runs show``."""
    listed = dlict(data, "runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    runs = [r for r in json.loads(listed.stdout) if r["kind"] == kind]
    assert len(runs) == 1, listed.stdout
    shown = dlict(data, "runs", "show", str(runs[0]["id"]), "--json")
    assert shown.returncode == 0, shown.stderr
    run: dict[str, Any] = json.loads(shown.stdout)
    assert run["status"] == runs[0]["status"] and run["finished_at"] is not None
    assert run["command"].startswith("dlict ")
    return run


def statuses(run: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(r["host"], r["control"] or r["target"]): r["status"] for r in run["results"]}


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two RouterOS devices over real SSH: one compliant, one breaking FW-07."""
    root = tmp_path_factory.mktemp("devices")
    with DeviceLab() as lab:
        for name, case in (("good-gw", "compliant"), ("bad-gw", "breaks-FW-07")):
            lab.add(name, "routeros", outputs_from_case("routeros", FIXTURES / "routeros" / case))
        known_hosts = lab.write_known_hosts(root / "known_hosts")
        yield write_device_district(root / "inventory", lab.devices, known_hosts)


DEVICE_ENV = {"DLICT_NETDEV_PASSWORD": DEFAULT_PASSWORD}


def test_netdev_audit_is_a_run_with_the_failing_device(devices: Path, tmp_path: Path) -> None:
    done = dlict(tmp_path, "-i", str(devices), "netdev", "audit", env=DEVICE_ENV)
    assert done.returncode == 1, done.stdout + done.stderr
    run = only_run(tmp_path, "netdev-audit")
    assert run["status"] == "findings"
    assert run["inventory"] == str(devices)
    found = statuses(run)
    assert found[("bad-gw", "FW-07")] == "fail"
    assert found[("good-gw", "FW-07")] == "pass"
    assert {h for (h, _c), s in found.items() if s == "fail"} == {"bad-gw"}


def test_netdev_backup_is_a_run(devices: Path, tmp_path: Path) -> None:
    done = dlict(tmp_path, "-i", str(devices), "netdev", "backup", env=DEVICE_ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    run = only_run(tmp_path, "netdev-backup")
    assert run["status"] == "ok"
    assert statuses(run) == {("good-gw", "config"): "pass", ("bad-gw", "config"): "pass"}


def test_logs_check_is_a_run_naming_the_damaged_source(tmp_path: Path) -> None:
    policy = build_tree(tmp_path / "logs", sources=3, days=95, lines_per_day=3)
    args = ["logs", "check", "--policy", str(policy.root.parent / "logging.json"),
            "--root", str(policy.root), "--state", str(policy.state_dir),
            "--key", str(keys.public_path(policy.signing_key))]
    clean = dlict(tmp_path / "clean", *args)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    run = only_run(tmp_path / "clean", "logs-check")
    assert run["status"] == "ok"
    assert {(r["site"], r["host"]) for r in run["results"]} == set(source_names(3))
    assert {r["status"] for r in run["results"]} == {"pass"}

    site, host = source_names(3)[1]
    day_file = sorted((policy.root / site / host).glob("*.log.gz"))[10]
    day_file.write_bytes(day_file.read_bytes()[:-20])  # a sealed day altered afterwards
    damaged = dlict(tmp_path / "damaged", *args)
    assert damaged.returncode == 1, damaged.stdout + damaged.stderr
    run = only_run(tmp_path / "damaged", "logs-check")
    assert run["status"] == "findings"
    failed = [r for r in run["results"] if r["status"] == "fail"]
    assert [(r["site"], r["host"]) for r in failed] == [(site, host)]
    assert day_file.name[:10] in failed[0]["evidence"]


def test_monitor_once_is_a_run_with_the_dead_service(tmp_path: Path) -> None:
    closed = free_port()
    inventory = write_district(tmp_path / "inv", [
        School("4401010001", probe_targets=["127.0.0.1"],
               services={"tcp": [f"127.0.0.1:{closed}"]}),
    ], {"count": 2, "period_ms": 100, "timeout_ms": 300, "check_timeout_s": 2})
    done = dlict(tmp_path / "data", "-i", str(inventory), "monitor", "--once")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stored as run" in done.stdout
    run = only_run(tmp_path / "data", "monitor-once")
    assert run["status"] == "findings"
    assert statuses(run) == {("4401010001", "link"): "pass",
                             ("4401010001", f"tcp 127.0.0.1:{closed}"): "fail"}


class _EmptyPrometheus(BaseHTTPRequestHandler):
    """A stand-in Prometheus on 127.0.0.1 that holds no series."""

    def do_GET(self) -> None:
        body = (b'{"status":"success","data":[]}' if "/label/" in self.path
                else b'{"status":"success","data":{"resultType":"matrix","result":[]}}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmptyPrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_dltv_survey_is_a_run_where_no_data_is_not_a_finding(prometheus: str,
                                                             tmp_path: Path) -> None:
    done = dlict(tmp_path, "-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                 "--prometheus", prometheus, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    survey = json.loads(done.stdout)
    without_data = {e["code"] for e in survey["no_data"]}
    assert without_data  # the example district has DLTV receivers
    run = only_run(tmp_path, "dltv-survey")
    assert run["id"] == survey["run"]
    assert run["status"] == "ok"  # no data is neither a pass nor a finding
    assert {r["site"]: r["status"] for r in run["results"]} == dict.fromkeys(without_data,
                                                                             "skipped")


def test_audit_without_netmiko_audits_the_hosts_and_names_the_extra(tmp_path: Path) -> None:
    # netmiko made unimportable the way a missing package is: its import fails
    hidden = tmp_path / "hidden"
    (hidden / "netmiko").mkdir(parents=True)
    (hidden / "netmiko" / "__init__.py").write_text(
        'raise ImportError("No module named netmiko")\n')
    path = os.pathsep.join([str(hidden), os.environ.get("PYTHONPATH", "")])
    done = dlict(tmp_path / "data", "-i", str(EXAMPLE_INVENTORY), "audit", "--limit",
                 "s4401010001-gw,s4401010001-srv",
                 env={"PYTHONPATH": path, "DLICT_NETDEV_PASSWORD": "not-a-real-password"})
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    assert done.returncode == 3, output  # nothing listens there: unreachable, and no netmiko
    extra_lines = [line for line in done.stderr.splitlines()
                   if "pip install 'dlict[netdev]'" in line]
    assert len(extra_lines) == 1, done.stderr
    run = only_run(tmp_path / "data", "audit")
    by_host: dict[str, set[str]] = {}
    for r in run["results"]:
        by_host.setdefault(r["host"], set()).add(r["status"])
    assert by_host["s4401010001-srv"] == {"unreachable"}  # the hosts' part ran (Ansible)
    assert by_host["s4401010001-gw"] == {"error"}
    assert all("netdev extra (netmiko) is not installed" in r["evidence"]
               for r in run["results"] if r["host"] == "s4401010001-gw")
