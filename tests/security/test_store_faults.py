"""The evidence store and the data dir under bad conditions: a file, a damaged page, a full or
read-only disk. Each is one clear line naming the path (exit 2 for a wrong path, 3 for the
machine), never "internal error" or a traceback, and nothing written or half-written.

Conditions are real: a 1 MiB tmpfs filled to the last byte, a read-only bind mount, the
immutable attribute, bytes overwritten in a page of a real store. Needs root (mount, chattr).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dlict.core.clock import utc_now
from dlict.core.store import QUICK_CHECK_EVERY_OPEN_MAX_BYTES, EvidenceStore, RunStatus
from tests.security.store_conditions import (
    FACTS,
    STORE,
    damage_page_holding,
    digest,
    dlict,
    fill_store,
    fill_to_the_brim,
    immutable,
    read_only_bind,
    small_tmpfs_at,
)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs_at(tmp_path / "small") as mountpoint:
        yield mountpoint


def test_a_new_data_dir_is_0750_and_its_files_0640(tmp_path: Path) -> None:
    data = tmp_path / "var" / "lib" / "dlict"
    assert dlict(data, "runs", "list").code == 0
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777
             for p in (data.parent.parent, data.parent, data, data / "logs",
                       data / STORE, data / "logs" / "dlict.log")}
    assert modes == {"var": 0o750, "var/lib": 0o750, "var/lib/dlict": 0o750,
                     "var/lib/dlict/logs": 0o750, f"var/lib/dlict/{STORE}": 0o640,
                     "var/lib/dlict/logs/dlict.log": 0o640}


@pytest.mark.parametrize("below", ["", "sub/dir"])
def test_a_data_dir_that_is_a_file(tmp_path: Path, below: str) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a directory\n")
    out = dlict(a_file / below if below else a_file, "runs", "list")
    assert out.code == 2
    assert out.one_line() == (f"dlict: {a_file}: cannot create the data directory: "
                              "it exists and is not a directory")
    assert a_file.read_text() == "not a directory\n"


def test_a_new_data_dir_on_a_read_only_mount(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    with read_only_bind(tmp_path / "src", tmp_path / "ro") as ro:
        out = dlict(ro / "dlict", "runs", "list")
        assert out.code == 3
        assert out.one_line() == (f"dlict: {ro / 'dlict'}: cannot create the data directory: "
                                  "the file system is mounted read-only")
    assert list((tmp_path / "src").iterdir()) == []


def test_a_store_on_a_read_only_mount(tmp_path: Path) -> None:
    data = tmp_path / "data"
    fill_store(data / STORE, 10)
    (data / "logs").mkdir(mode=0o750)
    before = digest(data / STORE)
    with read_only_bind(data, tmp_path / "ro") as ro:
        out = dlict(ro, *FACTS)
        assert out.code == 3
        line = out.one_line()
        assert line.startswith(f"dlict: {ro}/")
        assert line.endswith("the file system is mounted read-only")
    assert digest(data / STORE) == before


def test_a_read_only_store_can_be_read_and_a_write_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    fill_store(data / STORE, 10)
    before = digest(data / STORE)
    with immutable(data / STORE):
        listed = dlict(data, "--json", "runs", "list")
        written = dlict(data, *FACTS)
    assert listed.code == 0 and '"kind": "audit"' in listed.stdout
    assert written.code == 3
    assert written.one_line() == (
        f"dlict: {data / STORE}: cannot write to the evidence store: the file is not writable "
        "(permissions or immutable attribute) (attempt to write a readonly database)")
    assert digest(data / STORE) == before


def test_a_new_store_on_a_full_disk_leaves_nothing(small_tmpfs: Path) -> None:
    fill_to_the_brim(small_tmpfs)
    data = small_tmpfs / "data"
    out = dlict(data, "runs", "list")
    assert out.code == 3
    assert out.one_line() == (f"dlict: {data / STORE}: cannot open the evidence store: no "
                              "space left on the device (disk or quota full); nothing was written")
    assert not (data / STORE).exists()


def test_a_full_disk_during_a_run_half_writes_nothing(small_tmpfs: Path) -> None:
    data = small_tmpfs / "data"
    fill_store(data / STORE, 100)
    (data / "logs").mkdir(mode=0o750)
    (data / "logs" / "dlict.log").touch(mode=0o640)
    fill_to_the_brim(small_tmpfs)
    out = dlict(data, *FACTS)
    assert out.code == 3
    line = out.one_line()
    assert line.startswith(f"dlict: {data / STORE}: cannot ")
    assert line.endswith("no space left on the device (disk or quota full); nothing was written")
    (small_tmpfs / "filler").unlink()
    with EvidenceStore.open(data / STORE) as store:
        assert [(r.kind, r.status) for r in store.runs()] == [("audit", RunStatus.OK)]
        assert store.count_results() == 100
        assert store.integrity_ok()


def test_a_damaged_page_is_refused_and_left_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    fill_store(data / STORE, 3000)
    damage_page_holding(data / STORE, b"row 001500 ")
    before = digest(data / STORE)
    for command in (("runs", "list"), FACTS):
        out = dlict(data, *command)
        assert out.code == 3
        line = out.one_line()
        assert line.startswith(f"dlict: {data / STORE}: cannot open the evidence store: "
                               "the file is damaged (")
        assert line.endswith("); nothing was written to it: restore it from a backup")
        assert digest(data / STORE) == before
    assert sorted(p.name for p in data.iterdir()) == [STORE, "logs"]  # no -wal or -shm left


def _large_store_checked_at(path: Path, days_ago: float) -> None:
    fill_store(path, 20_000)
    assert path.stat().st_size > QUICK_CHECK_EVERY_OPEN_MAX_BYTES
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT INTO store_checks (kind, checked_at) VALUES ('quick_check', ?)",
                     ((utc_now() - timedelta(days=days_ago)).isoformat(),))
    finally:
        conn.close()  # the last connection moves the WAL into the file


def test_a_large_store_checked_today_finds_damage_where_it_reads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _large_store_checked_at(data / STORE, days_ago=0.5)
    damage_page_holding(data / STORE, b"row 010000 ")
    before = digest(data / STORE)
    assert dlict(data, "runs", "list").code == 0  # no full check: the last is recent
    out = dlict(data, "runs", "show", "1")
    assert out.code == 3
    assert out.one_line() == (f"dlict: {data / STORE}: cannot read the evidence store: the file "
                              "is damaged (database disk image is malformed); nothing was "
                              "written to it: restore it from a backup")
    assert digest(data / STORE) == before


def test_a_large_store_is_checked_in_full_once_a_day(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _large_store_checked_at(data / STORE, days_ago=2)
    damage_page_holding(data / STORE, b"row 010000 ")
    before = digest(data / STORE)
    out = dlict(data, "runs", "list")
    assert out.code == 3
    assert "cannot open the evidence store: the file is damaged (" in out.one_line()
    assert digest(data / STORE) == before


def test_a_sound_large_store_records_its_daily_check(tmp_path: Path) -> None:
    path = tmp_path / "data" / STORE
    _large_store_checked_at(path, days_ago=2)
    assert dlict(path.parent, "runs", "list").code == 0
    conn = sqlite3.connect(path)
    try:
        (last,) = conn.execute("SELECT max(checked_at) FROM store_checks").fetchone()
    finally:
        conn.close()
    assert last > (utc_now() - timedelta(minutes=5)).isoformat()


def test_a_directory_where_the_store_should_be(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / STORE).mkdir(parents=True)
    out = dlict(data, "runs", "list")
    assert out.code == 2
    assert out.one_line() == (f"dlict: {data / STORE}: cannot open the evidence store: it is "
                              "not a regular file")


def test_a_store_linked_to_nowhere_creates_nothing_there(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / STORE).symlink_to(tmp_path / "elsewhere.sqlite")
    out = dlict(data, "runs", "list")
    assert out.code == 2
    assert out.one_line() == (f"dlict: {data / STORE}: cannot open the evidence store: it is a "
                              "symbolic link to a missing file")
    assert not (tmp_path / "elsewhere.sqlite").exists()


def test_a_nul_byte_in_the_configured_data_dir(tmp_path: Path) -> None:
    config = tmp_path / "dlict.yaml"
    config.write_text('data_dir: "/var/lib/dl\\0ict"\n')
    done = subprocess.run([sys.executable, "-m", "dlict", "--config", str(config), "runs", "list"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"dlict: {config}: data_dir: Value error, a path cannot contain a NUL byte"]


def test_a_data_dir_the_user_may_not_create(tmp_path: Path) -> None:
    private = tmp_path / "root-only"
    private.mkdir(mode=0o700)
    data = private / "dlict"
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "dlict", "--data-dir", str(data), "runs", "list"],
        capture_output=True, text=True, timeout=60, check=False,
        cwd="/", env={**os.environ, "HOME": str(private)})
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"dlict: {data}: cannot create the data directory: Permission denied"]
    assert list(private.iterdir()) == []
