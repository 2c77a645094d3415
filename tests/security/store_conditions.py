"""Real bad conditions for the store and data-dir fault tests: a tiny tmpfs filled to the
brim, a read-only bind mount, the immutable attribute, a damaged page; and the real ``dlict``."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore, RunStatus
from tests.conftest import EXAMPLE_INVENTORY

STORE = "evidence.sqlite"
# A write command that opens the store before it contacts anything; every address of the
# example district is in 127.0.0.0/8.
FACTS = ("-i", str(EXAMPLE_INVENTORY), "facts", "--limit", "office-log")


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def one_line(self) -> str:
        """The single line dlict printed on stderr; fails if there is more, or a traceback."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert "Traceback" not in self.stderr and "internal error" not in self.stderr
        return lines[0]


def dlict(data_dir: Path, *args: str) -> Outcome:
    """Run the real ``dlict`` program (umask 022, as on a stock system)."""
    done = subprocess.run([sys.executable, "-m", "dlict", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=120, umask=0o022, check=False)
    return Outcome(done.returncode, done.stdout, done.stderr)


def sh(*command: str | Path) -> None:
    subprocess.run([str(c) for c in command], check=True, capture_output=True)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill_store(path: Path, results: int, evidence_bytes: int = 300) -> None:
    with EvidenceStore.open(path) as store:
        run_id = store.start_run("audit", "dlict audit")
        store.add_results(run_id, [
            Result(site="4401010001", host=f"s4401010001-h{i:06d}", control="FW-01",
                   status=Status.PASS, evidence=f"row {i:06d} " + "x" * evidence_bytes)
            for i in range(results)
        ])
        store.finish_run(run_id, RunStatus.OK)


def damage_page_holding(path: Path, marker: bytes) -> None:
    """Overwrite the b-tree header and cell pointers of the page that holds ``marker``."""
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")  # from the file header
    page = data.index(marker) // page_size
    assert page > 0, "the marker must not be on page 1"
    start = page * page_size + 8  # keep the page type byte: a subtle, realistic damage
    data[start:start + 64] = bytes(range(64))
    path.write_bytes(data)


def fill_to_the_brim(mountpoint: Path) -> None:
    fd = os.open(mountpoint / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        chunk = 1 << 16
        while chunk:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError:
                chunk //= 2
    finally:
        os.close(fd)
    assert os.statvfs(mountpoint).f_bavail == 0


@contextmanager
def small_tmpfs_at(mountpoint: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted whatever happens."""
    mountpoint.mkdir()
    sh("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", mountpoint)
    try:
        yield mountpoint
    finally:
        sh("umount", mountpoint)


@contextmanager
def read_only_bind(source: Path, target: Path) -> Iterator[Path]:
    target.mkdir()
    sh("mount", "--bind", source, target)
    try:
        sh("mount", "-o", "remount,bind,ro", target)
        yield target
    finally:
        sh("umount", target)


@contextmanager
def immutable(path: Path) -> Iterator[Path]:
    sh("chattr", "+i", path)
    try:
        yield path
    finally:
        sh("chattr", "-i", path)
