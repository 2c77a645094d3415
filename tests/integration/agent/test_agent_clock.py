"""A school machine whose clock is far off: one clear line and exit 3, nothing lost.

The agent runs under libfaketime (Debian's ``faketime``), which shifts the wall clock of that
process alone; the office (a real ``dlict intake serve`` on 127.0.0.1) keeps the true time.
Two cases: two hours off — TLS still works, the records are delivered and the agent says its
clock is wrong; eleven years ahead — the office's certificate looks expired, so nothing can be
sent, and the records wait in the outbox, delivered once the clock is right.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.intake_support import BIN, Served, count, intake_serve

SITE = "4401000001"
HOST = "s4401000001-clock"
SPEC = {"jobs": [{"name": "clock", "samples": 3, "results": ["pass"], "interval_s": 60}]}


def _agent(config: Path, *args: str, shift: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tests.integration.agent.launch", json.dumps(SPEC),
               "agent", *args, "--config", str(config)]
    env = dict(os.environ)
    if shift is not None:
        faketime = shutil.which("faketime")
        assert faketime, "Debian's faketime package is needed (bootstrap.sh installs it)"
        command = [faketime, "-f", shift, *command]
        env["DONT_FAKE_MONOTONIC"] = "1"  # timeouts and back-off keep real seconds
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _queued(state: Path) -> int:
    with sqlite3.connect(f"file:{state / 'outbox.sqlite'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM records").fetchone()[0])


@pytest.fixture
def enrolled(tmp_path: Path) -> Any:
    data = tmp_path / "data"
    made = subprocess.run([str(BIN / "dlict"), "--data-dir", str(data), "ca", "init"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    with intake_serve(data) as served:
        config = tmp_path / "agent.yml"
        state = tmp_path / "state"
        config.write_text(json.dumps({
            "site": SITE, "host": HOST, "office": f"https://127.0.0.1:{served.port}",
            "state_dir": str(state), "push": {"timeout_s": 5}}))
        token = subprocess.run([str(BIN / "dlict"), "--data-dir", str(data), "ca",
                                "issue-token", "--site", SITE, "--host", HOST],
                               capture_output=True, text=True, timeout=60, check=False)
        assert token.returncode == 0, token.stderr
        enrol = _agent(config, "enroll", "--token", token.stdout.strip().splitlines()[-1])
        assert enrol.returncode == 0, enrol.stdout + enrol.stderr
        yield served, config, state


def test_a_clock_two_hours_off_delivers_and_says_so_in_one_line(
        enrolled: tuple[Served, Path, Path]) -> None:
    served, config, state = enrolled

    done = _agent(config, "once", shift="+2h")

    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.search(r"this machine's clock is \+7[12]\d\d s off the office's", lines[0]), lines
    assert _queued(state) == 0  # delivered: nothing lost, nothing held back
    assert count(served.data_dir / "evidence.sqlite", "agent_samples") == 3


def test_a_clock_years_ahead_keeps_everything_queued_until_it_is_right(
        enrolled: tuple[Served, Path, Path]) -> None:
    served, config, state = enrolled

    done = _agent(config, "once", shift="+4100d")

    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "by this machine's clock" in lines[0] and "set its time" in lines[0], lines
    assert _queued(state) == 4
    assert count(served.data_dir / "evidence.sqlite", "agent_samples") == 0

    again = _agent(config, "once")  # the clock is right again

    assert again.returncode == 0, again.stdout + again.stderr
    assert _queued(state) == 0
    assert count(served.data_dir / "evidence.sqlite", "agent_samples") == 6
