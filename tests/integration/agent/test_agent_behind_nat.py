"""A school behind NAT: its agent enrols with the office, runs every job and its records reach
the office exactly once — across a cut uplink, a killed intake and an agent killed mid-flush.

Everything is real: four network namespaces (lab/schoolnat.py: office, ISP, a masquerading
school router, the school server), the district CA (`dlict ca`), `dlict intake serve` over
mutual TLS in the office namespace, `dlict agent enroll|once|run` on the school server. The
office cannot open a connection into the school (tests/lab/test_schoolnat.py proves it); the
agent reaches out. For the volume tests the agent's jobs are test jobs that make thousands of
samples a run (tests/integration/agent/launch.py): the outbox, forwarding, TLS identity, the
intake and the store are the real ones.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lab.agentdemo import INTAKE_PORT, intake_metrics, start_intake
from lab.schoolnat import LAN_NETWORK, SchoolNat, missing_prerequisites, school_nat

REPO = Path(__file__).resolve().parents[3]
SITE = "4401000001"
FEMON = REPO / "tests" / "unit" / "fixtures" / "dltv" / "femon" / "locked.txt"
VOLUME = 20_000


@dataclass
class Office:
    school: SchoolNat
    data: Path
    intake: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.school.office_address}:{INTAKE_PORT}"

    def dlict(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dlict", "--data-dir", str(self.data),
                               *args], capture_output=True, text=True, timeout=120, cwd=REPO)

    def start_intake(self) -> None:
        self.intake = start_intake(self.school, self.data, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)

    def kill_intake(self) -> None:
        assert self.intake is not None
        self.school.stop(self.intake.pid, sig=signal.SIGKILL)
        self.intake = None

    def metrics(self) -> str:
        return intake_metrics(self.school)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.data / 'evidence.sqlite'}?mode=ro", uri=True) as db:
            return db.execute(sql, args).fetchall()


@dataclass
class Agent:
    office: Office
    host: str
    config: Path
    state: Path

    def _command(self, args: list[str], spec: dict[str, Any] | None) -> list[str]:
        if spec is None:
            return [sys.executable, "-m", "dlict", "agent", *args, "--config", str(self.config)]
        return [sys.executable, "-m", "tests.integration.agent.launch", json.dumps(spec),
                "agent", *args, "--config", str(self.config)]

    def run(self, *args: str, spec: dict[str, Any] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
        school = self.office.school
        return school.run(school.lan, self._command(list(args), spec), timeout=timeout, cwd=REPO)

    def start(self, *args: str, spec: dict[str, Any] | None = None) -> subprocess.Popen[Any]:
        school = self.office.school
        return school.start(school.lan, self._command(list(args), spec), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def queued(self) -> int:
        path = self.state / "outbox.sqlite"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM records").fetchone()[0])

    def outbox_digest(self) -> tuple[dict[str, int], str]:
        """What the outbox holds now, counted by kind, and a digest of its content."""
        path = self.state / "outbox.sqlite"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT kind, created_at, body FROM records").fetchall()
        counts: dict[str, int] = {}
        lines = []
        for kind, created_at, body in rows:
            counts[kind] = counts.get(kind, 0) + 1
            lines.append(_line(kind, created_at, json.loads(body)))
        return counts, _digest(lines)

    def office_digest(self) -> tuple[dict[str, int], str]:
        """What the office holds from this agent, counted and digested the same way."""
        office, lines = self.office, []
        for name, labels, value, at in office.query(
                "SELECT name, labels, value, observed_at FROM agent_samples "
                "WHERE site = ? AND host = ?", SITE, self.host):
            body = {"name": name, "labels": json.loads(labels), "value": value}
            lines.append(_line("sample", at, body))
        for control, target, status, evidence, at in office.query(
                "SELECT r.control, r.target, r.status, r.evidence, r.observed_at FROM results r "
                "JOIN runs ON runs.id = r.run_id WHERE runs.kind = 'agent' AND r.host = ?",
                self.host):
            body = {"status": status, "evidence": evidence}
            body.update({k: v for k, v in (("control", control), ("target", target)) if v})
            lines.append(_line("result", at, body))
        for body, at in office.query("SELECT body, observed_at FROM agent_events "
                                     "WHERE site = ? AND host = ?", SITE, self.host):
            lines.append(_line("event", at, json.loads(body)))
        counts: dict[str, int] = {}
        for line in lines:
            kind = line.split("|", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts, _digest(lines)


def _line(kind: str, at: str, body: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(at).astimezone(UTC).isoformat()
    if kind == "sample":
        labels = {k: v for k, v in body["labels"].items() if k not in ("site", "host")}
        body = {"name": body["name"], "labels": labels, "value": float(body["value"])}
    return f"{kind}|{moment}|{json.dumps(body, sort_keys=True, ensure_ascii=False)}"


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    missing = missing_prerequisites()
    assert not missing, f"the school-behind-NAT lab needs: {', '.join(missing)}"
    data = tmp_path_factory.mktemp("office")
    with school_nat() as school:
        office = Office(school, data)
        made = office.dlict("ca", "init", "--name", school.office_address)
        assert made.returncode == 0, made.stderr
        office.start_intake()
        yield office


@pytest.fixture
def enrolled(office: Office, tmp_path: Path) -> Callable[..., Agent]:
    def enrol(host: str, jobs: dict[str, Any] | None = None, **settings: Any) -> Agent:
        state = tmp_path / host
        config = tmp_path / f"{host}.yml"
        document = {"site": SITE, "host": host, "office": office.url, "state_dir": str(state),
                    "push": {"interval_s": 1, "timeout_s": 3, "backoff_max_s": 2},
                    "jobs": jobs or {name: {"enabled": False}
                                     for name in ("link", "dltv", "lan", "host")},
                    **settings}
        config.write_text(json.dumps(document))
        token = office.dlict("ca", "issue-token", "--site", SITE, "--host", host)
        assert token.returncode == 0, token.stderr
        agent = Agent(office, host, config, state)
        done = agent.run("enroll", "--token", token.stdout.strip().splitlines()[-1])
        assert done.returncode == 0, done.stdout + done.stderr
        return agent
    return enrol


def _volume_spec(samples: int) -> dict[str, Any]:
    return {"enrolled": True, "jobs": [{"name": "volume", "samples": samples,
                                        "results": ["pass"] * 5, "events": 1, "interval_s": 1}]}


PUSH_ONLY: dict[str, Any] = {"enrolled": True, "jobs": []}


def _backlog_while_cut_off(office: Office, agent: Agent) -> tuple[dict[str, int], str]:
    """VOLUME records made while the school's uplink is cut; what the outbox then holds."""
    office.school.cut_uplink()
    try:
        assert agent.run("once", spec=_volume_spec(VOLUME)).returncode == 3
        return agent.outbox_digest()
    finally:
        office.school.restore_uplink()


def test_the_agent_runs_every_job_from_inside_the_school_and_the_office_sees_it(
        office: Office, enrolled: Callable[..., Agent]) -> None:
    school = office.school
    agent = enrolled("s4401000001-srv", jobs={
        "link": {"icmp": [school.office_address],
                 "services": {"tcp": [f"{school.office_address}:{INTAKE_PORT}"]}},
        "dltv": {"receivers": [{"source": "dvb_femon", "address": str(FEMON)}]},
        "lan": {"networks": [LAN_NETWORK],
                "known": [{"name": "router", "address": school.router_lan_address}]},
        "host": {"command_timeout_s": 5},
    })

    done = agent.run("once")

    # The host job judges this machine's own controls, so some may fail: exit 1 is a finding.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert agent.queued() == 0
    runs = office.dlict("runs", "list", "--kind", "agent", "--json")
    assert runs.returncode == 0, runs.stderr
    assert json.loads(runs.stdout), "no run of kind agent"
    seen = office.query("SELECT DISTINCT coalesce(r.control, r.target) FROM results r "
                        "JOIN runs ON runs.id = r.run_id WHERE runs.kind = 'agent' "
                        "AND runs.command = ?", f"agent {SITE}/{agent.host}")
    judged = {row[0] for row in seen}
    assert f"icmp {school.office_address}" in judged, judged  # link, from inside the school
    assert f"tcp {school.office_address}:{INTAKE_PORT}" in judged, judged
    assert "EP-07" in judged, judged  # the LAN sweep the office cannot do across NAT
    lan = office.query("SELECT r.host, r.status FROM results r WHERE r.control = 'EP-07'")
    assert (LAN_NETWORK, "pass") in lan, lan  # the router, the one device on it, is known
    assert {"FW-01", "ID-04"} <= judged, judged  # the host's own SOP controls
    assert any(str(FEMON) in item for item in judged), judged  # DLTV from the local tuner
    assert not any(item.startswith("agent-job") for item in judged), judged  # none was cut
    metrics = office.metrics()
    up = f'dlict_agent_up{{site="{SITE}",host="{agent.host}"}} '
    assert any(line.startswith(up) and float(line.split()[-1]) == 1
               for line in metrics.splitlines()), metrics[:2000]
    assert 'vantage="agent"' in metrics


def test_a_cut_uplink_loses_nothing_and_duplicates_nothing(
        office: Office, enrolled: Callable[..., Agent]) -> None:
    agent = enrolled("s4401000001-cut", outbox={"batch_records": 500})
    office.school.cut_uplink()
    try:
        for _ in range(4):
            done = agent.run("once", spec=_volume_spec(VOLUME // 4))
            assert done.returncode == 3, done.stdout + done.stderr  # office unreachable
        assert agent.queued() >= VOLUME
        expected = agent.outbox_digest()
    finally:
        office.school.restore_uplink()

    done = agent.run("once", spec=PUSH_ONLY)

    assert done.returncode == 0, done.stdout + done.stderr
    assert agent.queued() == 0
    assert agent.office_digest() == expected


def test_an_intake_killed_mid_stream_loses_nothing_and_duplicates_nothing(
        office: Office, enrolled: Callable[..., Agent]) -> None:
    agent = enrolled("s4401000001-ikill", outbox={"batch_records": 200})
    expected = _backlog_while_cut_off(office, agent)
    runner = agent.start("run", spec=PUSH_ONLY)
    try:
        def delivered() -> int:
            return int(office.query("SELECT count(*) FROM agent_samples WHERE host = ?",
                                    agent.host)[0][0])
        _wait(lambda: delivered() > 0, 60, "the first batch reached the office")
        office.kill_intake()
        assert delivered() < VOLUME, "every batch was in before the kill: nothing was tested"
        office.start_intake()
        _wait(lambda: agent.queued() == 0, 120, "the agent emptied its outbox")
    finally:
        office.school.stop(runner.pid)
        if office.intake is None:
            office.start_intake()

    assert agent.office_digest() == expected


def test_an_agent_killed_mid_flush_loses_nothing_and_duplicates_nothing(
        office: Office, enrolled: Callable[..., Agent]) -> None:
    agent = enrolled("s4401000001-akill", outbox={"batch_records": 200})
    expected = _backlog_while_cut_off(office, agent)
    runner = agent.start("run", spec=PUSH_ONLY)
    try:
        _wait(lambda: office.query("SELECT count(*) FROM agent_samples WHERE host = ?",
                                   agent.host)[0][0] > 0, 60, "the first batch reached the office")
    finally:
        office.school.stop(runner.pid, sig=signal.SIGKILL)
    assert agent.queued() > 0, "the outbox was empty before the kill: nothing was tested"

    for _ in range(5):  # one push sends at most 50 batches (10,000 records here)
        done = agent.run("once", spec=PUSH_ONLY)
        assert done.returncode == 0, done.stdout + done.stderr
        if agent.queued() == 0:
            break

    assert agent.queued() == 0
    assert agent.office_digest() == expected
