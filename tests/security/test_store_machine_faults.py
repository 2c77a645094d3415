"""What the machine does to dlict's files besides the store's own open: a lock held past the
busy timeout, a log file or a report on a full disk, an import onto a full disk. Real tmpfs,
real SQLite locks held by a second connection, real ``dlict`` processes; needs root (mount).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlict.core.errors import OperationalError, StoreError
from dlict.core.files import environment_failure, write_private
from dlict.core.store import EvidenceStore
from tests.security.store_conditions import fill_store, fill_to_the_brim, small_tmpfs_at


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs_at(tmp_path / "small") as mountpoint:
        yield mountpoint


SCHOOLS_CSV = (
    "school_code,name_th,name_en,amphoe,province,isp,wan_address,server_address,"
    "router_address,router_type,dltv_source\n"
    "4401070008,โรงเรียนกันทรวิชัย,Kantharawichai School,กันทรวิชัย,มหาสารคาม,UniNet,"
    "127.20.8.1,127.10.8.10,127.10.8.1,routeros,tvheadend\n"
)


def test_a_lock_held_past_the_busy_timeout_is_one_line_and_readers_go_on(
        tmp_path: Path) -> None:
    path = tmp_path / "evidence.sqlite"
    fill_store(path, 5)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another dlict process in the middle of a batch
    try:
        with EvidenceStore.open(path, busy_timeout_s=0.5) as store:
            assert len(store.runs()) == 1  # reading needs no write lock
            started = time.monotonic()
            with pytest.raises(StoreError) as caught:
                store.start_run("audit")
            waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value) == (f"{path}: cannot write to the evidence store: another process "
                                 "kept it locked for more than 0.5 s")
    assert 0.4 < waited < 5


def test_a_full_disk_under_the_log_file_is_one_line_not_a_traceback(small_tmpfs: Path) -> None:
    log_file = small_tmpfs / "logs" / "dlict.log"
    script = (
        "import sys; from pathlib import Path; from loguru import logger\n"
        "from dlict.core.logging import setup_logging\n"
        f"setup_logging('ERROR', log_file=Path({str(log_file)!r}))\n"
        "for i in range(2000): logger.info('audit of host {} done: ' + 'x' * 500, i)\n"
        "print('still running')\n"
    )
    (small_tmpfs / "logs").mkdir()
    fill_to_the_brim(small_tmpfs)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout == "still running\n"
    assert done.stderr.splitlines() == [
        f"dlict: {log_file}: cannot write the log file: No space left on device; no more "
        "lines are written to it"]


def test_a_report_on_a_full_disk_names_it_and_leaves_no_temporary(small_tmpfs: Path) -> None:
    fill_to_the_brim(small_tmpfs)
    report = small_tmpfs / "audit.html"
    with pytest.raises(OperationalError) as caught:
        write_private(report, "<html>" + "x" * 100_000 + "</html>")
    assert str(caught.value) == (f"{report}: cannot write: no space left on the device "
                                 "(disk or quota full)")
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["filler"]


def test_an_import_onto_a_full_disk_is_one_line_and_writes_nothing(
        small_tmpfs: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "schools.csv"
    csv_file.write_text(SCHOOLS_CSV, encoding="utf-8")
    fill_to_the_brim(small_tmpfs)
    done = subprocess.run(
        [sys.executable, "-m", "dlict", "--data-dir", str(tmp_path / "data"),
         "inventory", "import-schools", str(csv_file), "-o", str(small_tmpfs / "district")],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0] == (f"dlict: {small_tmpfs / 'district'}: cannot write the inventory "
                        "(nothing was written): no space left on the device (disk or quota full)")
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["filler"]


def test_an_error_of_dlicts_own_stays_an_internal_error() -> None:
    assert environment_failure(ValueError("bad state")) is None
    assert environment_failure(KeyError("host")) is None
    missing = FileNotFoundError(2, "No such file or directory", "/var/lib/dlict/x")
    assert environment_failure(missing) is None  # a path dlict made up may be a bug
    full = OSError(28, os.strerror(28), "/var/lib/dlict/report.html")
    failure = environment_failure(full)
    assert failure is not None and failure.exit_code == 3
    assert str(failure) == ("/var/lib/dlict/report.html: no space left on the device "
                            "(disk or quota full)")
