"""``dlict incident evidence add`` given what cannot be evidence: a missing file, one it may
not read, a FIFO (never a hang), a directory, a symlink to a device, an unknown case or a case
id that would climb out of the evidence folder. Each is one line naming the file or case, exit
2, and nothing written — not even the good files given with it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.security.evidence_support import dlict, open_case, snapshot


@pytest.fixture
def base() -> Iterator[Path]:
    """Under /tmp, open to ``nobody`` (pytest's own temporary folder is root's alone)."""
    made = Path(tempfile.mkdtemp(prefix="dlict-evidence-"))
    made.chmod(0o755)
    try:
        yield made
    finally:
        shutil.rmtree(made)


def missing(base: Path) -> tuple[Path, str]:
    return base / "nope.log", f"{base / 'nope.log'}: no such file"


def fifo(base: Path) -> tuple[Path, str]:
    path = base / "pipe"
    os.mkfifo(path, 0o644)
    return path, f"{path}: not a regular file (FIFO)"


def directory(base: Path) -> tuple[Path, str]:
    path = base / "folder"
    path.mkdir()
    return path, f"{path}: not a regular file (directory)"


def symlink_to_dev_zero(base: Path) -> tuple[Path, str]:
    path = base / "zero.log"
    path.symlink_to("/dev/zero")
    return path, f"{path}: not a regular file (character device)"


BAD: list[Callable[[Path], tuple[Path, str]]] = [missing, fifo, directory,
                                                  symlink_to_dev_zero]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: b.__name__)
def test_a_file_that_cannot_be_evidence_stops_the_add(base: Path,
                                                      bad: Callable[[Path], tuple[Path, str]]
                                                      ) -> None:
    data = base / "data"
    case_id = open_case(data)
    good = base / "good.log"
    good.write_text("kept\n")
    path, message = bad(base)
    before = snapshot(data)
    run = dlict(data, "incident", "evidence", "add", case_id, str(good), str(path),
                timeout=30)
    assert run.code == 2, run.output
    assert run.stderr == f"dlict: {message}" + (
        "; only files are taken as evidence\n" if "not a regular" in message else "\n")
    assert snapshot(data) == before


def as_nobody() -> None:
    os.setgid(65534)
    os.setgroups([])
    os.setuid(65534)


def test_an_unreadable_file_stops_the_add(base: Path) -> None:
    """We run as root, which reads any file: dlict runs as ``nobody`` here, its data dir
    handed to it, the evidence file left to root with mode 0600."""
    data = base / "data"
    case_id = open_case(data)
    for directory, _subdirectories, files in os.walk(data):
        os.chown(directory, 65534, 65534)
        for name in files:
            os.chown(Path(directory) / name, 65534, 65534)
    secret = base / "root-only.log"
    secret.write_text("not yours\n")
    secret.chmod(0o600)
    before = snapshot(data)
    run = dlict(data, "incident", "evidence", "add", case_id, str(secret), preexec=as_nobody)
    assert run.code == 2, run.output
    assert run.stderr == f"dlict: {secret}: cannot read: Permission denied\n"
    assert snapshot(data) == before


@pytest.mark.parametrize(("case_id", "message"), [
    ("INC-2569-0999", "INC-2569-0999: no such case (dlict incident list shows the open ones)"),
    ("../../etc", "'../../etc': not a case id (INC-<B.E. year>-<number>)"),
])
def test_an_unknown_or_malformed_case_writes_nothing(base: Path, case_id: str,
                                                     message: str) -> None:
    data = base / "data"
    open_case(data)
    good = base / "good.log"
    good.write_text("kept\n")
    before = snapshot(data)
    run = dlict(data, "incident", "evidence", "add", case_id, str(good))
    assert run.code == 2, run.output
    assert run.stderr == f"dlict: {message}\n"
    assert snapshot(data) == before
    for command in ("verify", "list"):
        assert dlict(data, "incident", "evidence", command, case_id).code == 2
