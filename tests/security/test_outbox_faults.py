"""The agent's outbox under real bad conditions: a full disk (a 2 MiB tmpfs mounted here), a
damaged or foreign file, something that is not a file where the outbox should be, loose
permissions. Each is one line and an exit code from the real ``dlict`` — never a traceback or
a hang — and nothing already in the outbox is lost."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from dlict.agent.outbox import Outbox
from dlict.agent.records import sample_record
from tests.integration.agent.support import (
    HOST,
    SITE,
    agent_with_jobs,
    closed_port,
    dlict,
    write_config,
)
from tests.security.store_conditions import damage_page_holding, digest, sh


def stored_keys(path: Path) -> list[str]:
    with Outbox.open(path, 10**10) as outbox:
        return [r.key for r in outbox.next_batch(10**7, max_bytes=10**12)]


def test_a_full_disk_is_one_line_exit_3_and_keeps_what_was_stored(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    sh("mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", disk)
    try:
        config = write_config(tmp_path / "agent.yml", disk / "state",
                              f"https://127.0.0.1:{closed_port()}")
        first = agent_with_jobs({"jobs": [{"name": "link", "samples": 1000,
                                           "results": ["pass"] * 20}]},
                                "agent", "once", "--config", str(config))
        assert first.code == 3 and "unreachable" in first.one_line()
        path = disk / "state" / "outbox.sqlite"
        before = stored_keys(path)
        assert len(before) == 1020

        flood = agent_with_jobs({"jobs": [{"name": "link", "samples": 20_000, "pad": 200}]},
                                "agent", "once", "--config", str(config))
        assert flood.code == 3
        line = flood.one_line()
        assert "cannot store records in the outbox: no space left on the device" in line
        assert str(path) in line

        assert stored_keys(path) == before
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()
        status = dlict("agent", "status", "--config", str(config), "--json")
        assert status.code == 0, status.stderr
    finally:
        sh("umount", disk)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "agent.yml", tmp_path / "state",
                        f"https://127.0.0.1:{closed_port()}")


def outbox_path(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir(mode=0o700, exist_ok=True)
    return tmp_path / "state" / "outbox.sqlite"


def both_commands(config: Path) -> list[tuple[int, str]]:
    """``agent status`` and ``agent once`` (with a job, so the outbox is needed)."""
    status = dlict("agent", "status", "--config", str(config))
    once = agent_with_jobs({"jobs": [{"name": "link", "samples": 3}]},
                           "agent", "once", "--config", str(config))
    return [(status.code, status.one_line()), (once.code, once.one_line())]


def test_a_file_that_is_not_sqlite_is_one_line_and_left_as_it_is(tmp_path: Path,
                                                                config: Path) -> None:
    path = outbox_path(tmp_path)
    path.write_bytes(b"this is a school's notes, not an outbox\n" * 100)
    before = digest(path)
    for code, line in both_commands(config):
        assert code == 3
        assert f"{path}: cannot open the outbox: the file is damaged or not an outbox" in line
    assert digest(path) == before


def test_a_damaged_outbox_is_one_line_and_left_as_it_is(tmp_path: Path,
                                                       config: Path) -> None:
    path = outbox_path(tmp_path)
    with Outbox.open(path, 10**10) as outbox:
        outbox.put([sample_record(SITE, HOST, "dlict_test", {"n": f"MARK-{i:05d}"}, i)
                    for i in range(3000)])
    damage_page_holding(path, b"MARK-01500")
    before = digest(path)
    for code, line in both_commands(config):
        assert code == 3
        assert "the file is damaged or not an outbox" in line
    assert digest(path) == before


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink"])
def test_something_else_where_the_outbox_should_be_is_exit_2(tmp_path: Path, config: Path,
                                                             kind: str) -> None:
    path = outbox_path(tmp_path)
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        target = tmp_path / "elsewhere.sqlite"
        with Outbox.open(target, 10**10):
            pass
        path.symlink_to(target)
    for code, line in both_commands(config):
        assert code == 2
        assert f"{path}: cannot open the outbox: it is not a regular file" in line


def test_loose_permissions_are_narrowed_to_the_agent_alone(tmp_path: Path,
                                                          config: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    path = state / "outbox.sqlite"
    with Outbox.open(path, 10**10):
        pass
    path.chmod(0o644)
    state.chmod(0o755)
    done = agent_with_jobs({"jobs": [{"name": "link", "samples": 3}]},
                           "agent", "once", "--config", str(config))
    assert done.code == 3  # the office is a closed port
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
