"""The README demo's school behind NAT: its agent enrols with the office and its results
arrive at the office's intake, also after its uplink was cut.

    python -m lab agent-demo --data DATA_DIR --state STATE_DIR

DATA_DIR is the office's dlict data dir (its CA is made there once and kept); STATE_DIR holds
the agent's configuration and state. Everything runs in the namespaces of
``lab.schoolnat`` and is removed at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lab.schoolnat import LAN_NETWORK, SchoolNat, school_nat

SITE = "4401000099"
HOST = "s4401000099-srv"
INTAKE_PORT = 8443
REPO = Path(__file__).resolve().parent.parent


def _dlict(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlict", "--data-dir", str(data), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _show(done: subprocess.CompletedProcess[str]) -> None:
    for line in (done.stdout + done.stderr).strip().splitlines():
        print(f"   {line}")


def start_intake(school: SchoolNat, data: Path, **popen: Any) -> subprocess.Popen[Any]:
    """``dlict intake serve`` in the office namespace on its address; returns once it
    listens (at most 10 s)."""
    intake = school.start(school.office, [
        sys.executable, "-m", "dlict", "--data-dir", str(data), "intake", "serve",
        "--listen", f"{school.office_address}:{INTAKE_PORT}"], cwd=REPO, **popen)
    probe = (f"import socket; socket.create_connection(('{school.office_address}', "
             f"{INTAKE_PORT}), 1).close()")
    for _ in range(100):
        if school.run(school.office, [sys.executable, "-c", probe]).returncode == 0:
            return intake
        if intake.poll() is not None:
            raise RuntimeError(f"dlict intake serve ended with exit {intake.returncode}")
        time.sleep(0.1)
    raise RuntimeError("dlict intake serve did not listen within 10 s")


def intake_metrics(school: SchoolNat) -> str:
    """The intake's /metrics, read inside the office namespace (it listens on loopback)."""
    fetch = ("import urllib.request; print(urllib.request.urlopen("
             "'http://127.0.0.1:9479/metrics', timeout=5).read().decode())")
    return school.run(school.office, [sys.executable, "-c", fetch], check=True).stdout


def _agent_config(school: SchoolNat, state: Path) -> Path:
    config = state / "agent.yml"
    config.write_text(json.dumps({
        "site": SITE, "host": HOST, "state_dir": str(state / "agent"),
        "office": f"https://{school.office_address}:{INTAKE_PORT}",
        "push": {"interval_s": 5, "timeout_s": 3, "backoff_max_s": 10},
        "jobs": {
            "link": {"icmp": [school.office_address],
                     "services": {"tcp": [f"{school.office_address}:{INTAKE_PORT}"]}},
            "dltv": {"enabled": False},  # no satellite receiver in this simulated school
            "lan": {"networks": [LAN_NETWORK],
                    "known": [{"name": "router", "address": school.router_lan_address}]},
            "host": {"command_timeout_s": 5},
        }}, indent=2))
    return config


def run_demo(data: Path, state: Path) -> int:
    data.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True, mode=0o750)
    rc = 0
    with school_nat() as school:
        print(f"-- school {SITE} behind NAT: server {school.lan_address} behind router "
              f"{school.router_wan_address}; the office ({school.office_address}) cannot "
              "connect in, the agent connects out")
        if not (data / "ca" / "ca.crt").exists():
            _show(_dlict(data, "ca", "init", "--name", school.office_address))
        intake = start_intake(school, data, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        config = _agent_config(school, state)
        token = _dlict(data, "ca", "issue-token", "--site", SITE, "--host", HOST, "--ttl", "1h")
        if token.returncode != 0:
            _show(token)
            return 3
        agent = [sys.executable, "-m", "dlict", "agent"]
        print("-- the school's agent enrols with a one-time token (mutual TLS from now on)")
        enrol = school.run(school.lan, [*agent, "enroll", "--config", str(config), "--token",
                                        token.stdout.strip().splitlines()[-1]])
        _show(enrol)
        if enrol.returncode != 0:
            return 3
        print("-- the school's uplink is cut: the agent runs its jobs and keeps the records")
        school.cut_uplink()
        try:
            _show(school.run(school.lan, [*agent, "once", "--config", str(config)]))
        finally:
            school.restore_uplink()
        print("-- the uplink is back: the agent runs again and delivers everything it kept")
        once = school.run(school.lan, [*agent, "once", "--config", str(config)])
        _show(once)
        rc = 0 if once.returncode in (0, 1) else once.returncode
        print("-- at the office: the agent's runs, and its state as Prometheus sees it")
        _show(_dlict(data, "--lang", "en", "runs", "list", "--kind", "agent"))
        for line in intake_metrics(school).splitlines():
            if line.startswith(("dlict_agent_up{", "dlict_agent_last_seen", "dlict_link_up{")):
                print(f"   {line}")
        school.stop(intake.pid)
    return rc
