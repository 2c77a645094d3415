"""A school machine whose clock is far off: one clear line and exit 3, nothing lost.

The agent runs under libfaketime (Debian's ``faketime``), which shifts the wall clock of that
process alone; the office (a real ``dlict intake serve`` on 127.0.0.1) keeps the true time.
Two cases: two hours off — TLS still works, the records are delivered and the agent says its
clock is wrong; eleven years ahead — the office's certificate looks expired, so nothing can be
sent, and the records wait in the outbox, delivered once the clock is right.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.intake_support import count
from tests.integration.agent.office import EnrolledAgent, office_with_agent

SPEC = {"jobs": [{"name": "clock", "samples": 3, "results": ["pass"], "interval_s": 60}]}


def _queued(state: Path) -> int:
    with sqlite3.connect(f"file:{state / 'outbox.sqlite'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM records").fetchone()[0])


@pytest.fixture
def enrolled(tmp_path: Path) -> Iterator[EnrolledAgent]:
    with office_with_agent(tmp_path, "s4401000001-clock") as agent:
        yield agent


def test_a_clock_two_hours_off_delivers_and_says_so_in_one_line(
        enrolled: EnrolledAgent) -> None:
    served, state = enrolled.served, enrolled.state

    done = enrolled.run(SPEC, "once", shift="+2h")

    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.search(r"this machine's clock is \+7[12]\d\d s off the office's", lines[0]), lines
    assert _queued(state) == 0  # delivered: nothing lost, nothing held back
    assert count(served.data_dir / "evidence.sqlite", "agent_samples") == 3


def test_a_clock_years_ahead_keeps_everything_queued_until_it_is_right(
        enrolled: EnrolledAgent) -> None:
    served, state = enrolled.served, enrolled.state

    done = enrolled.run(SPEC, "once", shift="+4100d")

    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "by this machine's clock" in lines[0] and "set its time" in lines[0], lines
    assert _queued(state) == 4
    assert count(served.data_dir / "evidence.sqlite", "agent_samples") == 0

    again = enrolled.run(SPEC, "once")  # the clock is right again

    assert again.returncode == 0, again.stdout + again.stderr
    assert _queued(state) == 0
    assert count(served.data_dir / "evidence.sqlite", "agent_samples") == 6
