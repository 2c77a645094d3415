"""The sealer never loses a byte the user stored: a day there in two forms keeps both, a bare
seal deletes nothing, and an unreadable day stops only its own source."""

from __future__ import annotations

import grp
import gzip
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlict.logs.policy import DEFAULT_POLICY_FILE
from tests.security.sealer_trees import (
    Tree,
    check,
    dlict,
    problems,
    seal,
    sealed_days,
    unsealed_tree,
)


def test_a_day_as_both_log_and_gz_keeps_both(tmp_path: Path) -> None:
    tree = unsealed_tree(tmp_path)
    plain = tree.day_file(0, 2)
    packed = tree.day_file(0, 2, ".log.gz")
    packed.write_bytes(gzip.compress(b"2026-01-01T00:00:00+00:00 h sshd[1]: only in the gz\n"))
    os.chown(packed, 0, grp.getgrnam("adm").gr_gid)
    packed.chmod(0o640)
    plain_bytes, packed_bytes = plain.read_bytes(), packed.read_bytes()

    result = seal(tree)

    assert result.code == 1, result.output
    assert (f"FINDING {tree.name(0)} {tree.day(2)}: the day is there as both {plain.name} and "
            f"{packed.name} with different content; both kept") in result.stdout
    assert plain.read_bytes() == plain_bytes
    assert packed.read_bytes() == packed_bytes
    assert tree.day(1) in sealed_days(tree, 1)
    run, report = check(tree)
    assert run.code == 1
    kinds = [(kind, day) for kind, day, _ in problems(report, tree.name(0))]
    assert ("duplicate", tree.day(2)) in kinds, kinds
    assert problems(report, tree.name(1)) == []


def test_a_bare_seal_of_a_120_day_archive_deletes_nothing(tmp_path: Path) -> None:
    assert not DEFAULT_POLICY_FILE.exists(), f"{DEFAULT_POLICY_FILE} would set a retention"
    tree = unsealed_tree(tmp_path, days=120, lines=2)
    before = {path.name for path in tree.source(0).iterdir()}
    assert len(before) == 121

    result = dlict(tree, "logs", "seal", "--root", str(tree.root), "--key", str(tree.key),
                   "--state", str(tree.state), timeout=120)

    assert result.code == 0, result.output
    assert "deleted" not in result.output
    for index in (0, 1):
        names = sorted(path.name for path in tree.source(index).iterdir())
        days = {name.split(".")[0] for name in names if name.startswith("20")}
        assert len(days) == 121, f"{tree.name(index)} lost {121 - len(days)} days"
        assert len(sealed_days(tree, index)) >= 119


def test_the_retention_flag_deletes_sealed_days_past_it(tmp_path: Path) -> None:
    tree = unsealed_tree(tmp_path, days=120, lines=2)
    result = dlict(tree, "logs", "seal", "--root", str(tree.root), "--key", str(tree.key),
                   "--state", str(tree.state), "--retention-days", "100", timeout=120)
    assert result.code == 0, result.output
    assert f"{tree.name(0)}: sealed " in result.stdout
    assert "deleted 19 file(s) past retention" in result.stdout
    assert not tree.day_file(0, 120, ".log.gz").exists()
    assert tree.day_file(0, 101, ".log.gz").exists()


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A directory the unprivileged user can reach (pytest's own tmp is 0700 root)."""
    base = Path(tempfile.mkdtemp(prefix="dlict-sealer-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def as_nobody() -> None:
    os.setgid(65534)
    os.setgroups([])
    os.setuid(65534)


def hand_to_nobody(tree: Tree) -> None:
    for directory, _subdirs, files in os.walk(tree.base):
        os.chown(directory, 65534, 65534)
        for name in files:
            os.chown(Path(directory) / name, 65534, 65534)


def test_an_unreadable_day_stops_only_its_own_source(shared_base: Path) -> None:
    """We run as root, which reads any file: the seal and check run as ``nobody`` here, the
    tree and key handed to it, one day file left to root with mode 0000."""
    tree = unsealed_tree(shared_base)
    hand_to_nobody(tree)
    locked = tree.day_file(0, 2)
    os.chown(locked, 0, 0)
    locked.chmod(0)
    assert not stat.S_IMODE(locked.stat().st_mode)

    result = seal(tree, preexec=as_nobody)

    assert result.code == 1, result.output
    assert f"FINDING {tree.name(0)} {tree.day(2)}: cannot be opened (Permission denied)" \
        in result.stdout, result.output
    assert tree.day(1) in sealed_days(tree, 1)
    assert tree.day(3) in sealed_days(tree, 0)
    assert locked.exists()
    run, report = check(tree, preexec=as_nobody)
    assert run.code == 1
    found = [(kind, day) for kind, day, _ in problems(report, tree.name(0))]
    assert ("unreadable", tree.day(2)) in found, found
    assert not [kind for kind, _, _ in problems(report, tree.name(1))
                if kind != "permissions"]  # the tree is nobody's, not root:adm


def test_an_unreadable_site_directory_is_a_finding_not_a_crash(shared_base: Path) -> None:
    tree = unsealed_tree(shared_base)
    hand_to_nobody(tree)
    site = tree.source(0).parent
    os.chown(site, 0, 0)
    site.chmod(0o700)

    result = seal(tree, preexec=as_nobody)

    assert result.code == 1, result.output
    assert f"REFUSED {site.name}/?: the manifest does not verify (unreadable: " \
           f"manifest.dlict.jsonl: its directory cannot be opened (Permission denied))" \
        in result.stdout, result.output
    assert tree.day(1) in sealed_days(tree, 1)
    run, report = check(tree, preexec=as_nobody)
    assert run.code == 1
    found = problems(report, f"{site.name}/?")
    assert ("unreadable", None) in [(kind, day) for kind, day, _ in found], found


def test_a_state_directory_behind_a_symlink_is_followed(tmp_path: Path) -> None:
    """The seal state's directory is the administrator's choice (a link to a data disk is
    common): only day files and manifests inside the tree refuse links."""
    tree = unsealed_tree(tmp_path, sources=1, days=3)
    elsewhere = tmp_path / "data-disk" / "logseal"
    elsewhere.mkdir(parents=True, mode=0o750)
    tree.state.symlink_to(elsewhere, target_is_directory=True)
    first = seal(tree)
    assert first.code == 0, first.output
    assert (elsewhere / "heads.json").is_file()
    again = seal(tree)
    assert again.code == 0, again.output
    run, report = check(tree, "--days", "3")
    assert problems(report, tree.name(0)) == [], run.output
