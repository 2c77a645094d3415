"""The seal removes a plain day after compressing it only if it is still the very file it read:
a line appended (or another file put at the name) while it compressed is never lost."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.security.sealer_trees import REPO, RUN_TIMEOUT, check, unsealed_tree

HOOK = "DLICT_SEAL_TEST_HOOK"
#: The oldest day's checkpoints: one per chunk read, after writing, after linking the .gz —
#: the third is between the link and the removal of the plain file.
AFTER_LINK = 3


def append_line(plain: Path, original: bytes) -> bytes:
    late = b"2026-01-01T23:59:59+07:00 host late: the line written during the seal\n"
    with plain.open("ab") as log:
        log.write(late)
    return original + late


def put_other_file(plain: Path, original: bytes) -> bytes:
    """Another file of the same size moved onto the name (as a careless rotation would)."""
    other = original.replace(b"sshd", b"SSHD")
    assert other != original and len(other) == len(original)
    replacement = plain.with_name("rotated.tmp")
    replacement.write_bytes(other)
    owner = plain.stat()
    os.chown(replacement, owner.st_uid, owner.st_gid)
    replacement.chmod(0o640)
    replacement.rename(plain)
    return other


@pytest.mark.parametrize("change", [append_line, put_other_file])
def test_a_day_changed_while_compressing_is_kept(
        tmp_path: Path, change: Callable[[Path, bytes], bytes]) -> None:
    tree = unsealed_tree(tmp_path, sources=1, days=2)
    plain = tree.day_file(0, 2)
    packed = tree.day_file(0, 2, ".log.gz")
    original = plain.read_bytes()
    command = [sys.executable, "-m", "dlict", "--data-dir", str(tmp_path / "data"), "logs",
               "seal", "--policy", str(tree.policy_file)]
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}",
                   HOOK: f"pause@{AFTER_LINK}:3"}
    sealing = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not packed.exists():
            assert sealing.poll() is None, sealing.communicate()
            assert time.monotonic() < deadline, "the seal never linked the .gz"
            time.sleep(0.02)
        expected = change(plain, original)  # the .gz is there; the plain file not removed yet
        out, err = sealing.communicate(timeout=RUN_TIMEOUT)
    finally:
        if sealing.poll() is None:
            sealing.kill()
            sealing.wait()

    assert plain.exists(), f"the plain day with the late line was deleted: {out}{err}"
    assert plain.read_bytes() == expected
    assert gzip.decompress(packed.read_bytes()) == original
    assert sealing.returncode == 1, out + err
    assert (f"FINDING {tree.name(0)} {tree.day(2)}: {plain.name} changed while it was "
            f"compressed") in out, out
    assert "both kept" in out
    assert f"{tree.name(0)}: sealed" in out  # the day and the next were sealed all the same
    assert not tree.day_file(0, 1).exists()
    run, report = check(tree)  # the kept file is shown to the auditor too, not hidden
    assert run.code == 1
    found = [(p["kind"], p["day"]) for s in report["sources"] for p in s["problems"]]
    assert found == [("inserted", tree.day(2))], found


def test_an_unchanged_plain_day_is_still_removed(tmp_path: Path) -> None:
    tree = unsealed_tree(tmp_path, sources=1, days=2)
    text = tree.day_file(0, 2).read_bytes()
    command = [sys.executable, "-m", "dlict", "--data-dir", str(tmp_path / "data"), "logs",
               "seal", "--policy", str(tree.policy_file)]
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"},
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not tree.day_file(0, 2).exists()
    assert gzip.decompress(tree.day_file(0, 2, ".log.gz").read_bytes()) == text
