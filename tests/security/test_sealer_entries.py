"""What stands in a day file's place is never trusted: a symlink (out of the tree, to
/dev/zero), a FIFO, a device or a directory is a finding for that source and day, never read,
never a hang, never a crash; the other sources are sealed and checked as usual."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dlict.i18n import CATALOGUE
from dlict.logs.bundle import build
from dlict.logs.check import KINDS
from tests.security.sealer_trees import REPO, check, problems, seal, sealed_days, unsealed_tree

ATTACKED_BACK = 2  # the day before yesterday: closed and due whatever the hour


def symlink_out(path: Path, outside: Path) -> str:
    outside.write_bytes(b"2026-01-01T00:00:00+00:00 elsewhere sshd[1]: not this host's log\n")
    path.symlink_to(outside)
    return "symbolic link to"


def symlink_dev_zero(path: Path, _outside: Path) -> str:
    path.symlink_to("/dev/zero")
    return "symbolic link to '/dev/zero'"


def fifo(path: Path, _outside: Path) -> str:
    os.mkfifo(path, 0o640)
    return "FIFO"


def device(path: Path, _outside: Path) -> str:
    os.mknod(path, 0o640 | stat.S_IFCHR, os.makedev(1, 5))  # the /dev/zero device itself
    return "character device"


def directory(path: Path, _outside: Path) -> str:
    path.mkdir()
    (path / "x").write_text("x\n")
    return "directory"


PLANTS: list[Callable[[Path, Path], str]] = [symlink_out, symlink_dev_zero, fifo, device,
                                             directory]


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.__name__)
def test_non_regular_day_is_a_finding_for_that_source_and_day(
        tmp_path: Path, plant: Callable[[Path, Path], str]) -> None:
    tree = unsealed_tree(tmp_path)
    attacked = tree.day_file(0, ATTACKED_BACK)
    attacked.unlink()
    outside = tmp_path / "outside.log"
    words = plant(attacked, outside)
    before = outside.read_bytes() if outside.exists() else None

    result = seal(tree, timeout=30)

    assert result.code == 1, result.output
    day = tree.day(ATTACKED_BACK)
    assert f"FINDING {tree.name(0)} {day}: a {words}" in result.stdout, result.output
    assert "not a regular file" in result.stdout
    # Nothing was read through it, nothing replaced it, nothing outside the tree changed.
    assert not tree.day_file(0, ATTACKED_BACK, ".log.gz").exists()
    assert attacked.is_symlink() or attacked.exists()
    if before is not None:
        assert outside.read_bytes() == before
    # The days before it are sealed, the later ones wait; the other source is sealed whole.
    assert day not in sealed_days(tree, 0)
    assert tree.day(ATTACKED_BACK + 1) in sealed_days(tree, 0)
    assert tree.day(1) in sealed_days(tree, 1)

    run, report = check(tree, timeout=30)
    assert run.code == 1
    found = problems(report, tree.name(0))
    assert ("not-regular", day) in [(kind, when) for kind, when, _ in found], found
    detail = next(d for kind, _, d in found if kind == "not-regular")
    assert detail.startswith(f"{day}.log: a {words}"), detail
    assert problems(report, tree.name(1)) == []


def test_seal_again_after_the_entry_is_replaced_by_the_real_file(tmp_path: Path) -> None:
    """The finding is cleared by fixing the tree, not by a manual edit of the seal's files."""
    tree = unsealed_tree(tmp_path)
    attacked = tree.day_file(0, ATTACKED_BACK)
    text = attacked.read_bytes()
    attacked.unlink()
    os.mkfifo(attacked, 0o640)
    assert seal(tree, timeout=30).code == 1
    attacked.unlink()
    attacked.write_bytes(text)
    os.chown(attacked, 0, tree.day_file(0, 1).stat().st_gid)
    attacked.chmod(0o640)
    os.utime(attacked, (tree.day_file(0, 3, ".log.gz").stat().st_mtime + 86_400,) * 2)
    result = seal(tree, timeout=30)
    assert result.code == 0, result.output
    run, _report = check(tree, timeout=30)
    assert run.code == 0, run.stdout


def test_every_finding_kind_has_its_thai_name() -> None:
    named = {key.removeprefix("logs.kind.") for key in CATALOGUE if key.startswith("logs.kind.")}
    assert named == set(KINDS)


def test_the_server_zipapp_refuses_a_fifo_too(tmp_path: Path) -> None:
    """Debian's python3 in isolated mode with only the archive: the same refusal, no hang."""
    tree = unsealed_tree(tmp_path)
    attacked = tree.day_file(1, ATTACKED_BACK)
    attacked.unlink()
    os.mkfifo(attacked, 0o640)
    archive = tmp_path / "dlict-logs.pyz"
    archive.write_bytes(build())
    for command in ("seal", "check"):
        run = subprocess.run(["/usr/bin/python3", "-I", str(archive), command, "--policy",
                              str(tree.policy_file)], capture_output=True, text=True,
                             timeout=30, check=False, cwd=tmp_path)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert f"{tree.day(ATTACKED_BACK)}" in run.stdout and "FIFO" in run.stdout, run.stdout


def test_a_day_file_mounted_from_another_filesystem_is_not_read(tmp_path: Path) -> None:
    """A file bind-mounted over a day file from a tmpfs (in a private mount namespace that
    dies with the command): a regular file, but not one of the tree's."""
    tree = unsealed_tree(tmp_path)
    attacked = tree.day_file(0, ATTACKED_BACK)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    mount = (f"mount -t tmpfs none {elsewhere} && "
             f"echo '2026-01-01T00:00:00+00:00 other sshd[1]: not ours' > {elsewhere}/day && "
             f"mount --bind {elsewhere}/day {attacked} && exec \"$@\"")
    sealing = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount, "sh", sys.executable, "-m", "dlict",
         "--data-dir", str(tmp_path / "data"), "logs", "seal", "--policy",
         str(tree.policy_file)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"})
    assert sealing.returncode == 1, sealing.stdout + sealing.stderr
    assert f"FINDING {tree.name(0)} {tree.day(ATTACKED_BACK)}: it is on another filesystem " \
           f"than its directory" in sealing.stdout
    assert tree.day(ATTACKED_BACK) not in sealed_days(tree, 0)
    assert attacked.read_bytes().startswith(tree.day(ATTACKED_BACK).encode())  # untouched
