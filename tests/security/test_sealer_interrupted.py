"""A seal killed at any point is finished by the next one, leaving no finding; a check never
reads a tree a seal is changing (it waits, or says a seal is running)."""

from __future__ import annotations

import fcntl
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.security.sealer_trees import (
    REPO,
    Tree,
    check,
    dlict,
    problems,
    seal,
    sealed_days,
    unsealed_tree,
)

HOOK = "DLICT_SEAL_TEST_HOOK"


def texts(tree: Tree, sources: int, days: int) -> dict[Path, bytes]:
    return {tree.day_file(index, back): tree.day_file(index, back).read_bytes()
            for index in range(sources) for back in range(1, days + 1)}


def test_kill_9_at_every_checkpoint_then_seal_again_is_clean(tmp_path: Path) -> None:
    killed_at = []
    for point in range(1, 100):
        tree = unsealed_tree(tmp_path / f"k{point}", sources=2, days=2)
        written = texts(tree, 2, 2)
        first = seal(tree, env={HOOK: f"kill@{point}"})
        if first.code == 0:
            break  # past the last checkpoint: the seal ran to its end
        assert first.code == -9, first.output
        killed_at.append(point)

        again = seal(tree)
        assert again.code == 0, f"after kill at checkpoint {point}: {again.output}"
        run, _report = check(tree)
        assert run.code == 0, f"after kill at checkpoint {point}: {run.stdout}"
        for plain, text in written.items():
            assert not plain.exists()
            assert gzip.decompress(plain.with_name(plain.name + ".gz").read_bytes()) == text
        for index in (0, 1):
            assert sealed_days(tree, index) == [tree.day(2), tree.day(1)]
            assert not [p.name for p in tree.source(index).iterdir() if p.name.endswith(".tmp")]
    # Two sources of two days: compress, link, unlink and append for each day, and the state.
    assert len(killed_at) >= 20, killed_at


def lock_is_held(path: Path) -> bool:
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_check_waits_for_a_running_seal_or_says_it_is_running(tmp_path: Path) -> None:
    tree = unsealed_tree(tmp_path, sources=2, days=3)
    command = [sys.executable, "-m", "dlict", "--data-dir", str(tmp_path / "data"), "logs",
               "seal", "--policy", str(tree.policy_file)]
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", HOOK: "pause@3:4"}
    sealing = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not lock_is_held(tree.state / ".seal.lock"):
            assert sealing.poll() is None, sealing.communicate()
            assert time.monotonic() < deadline, "the seal never took its lock"
            time.sleep(0.05)

        busy = dlict(tree, "logs", "check", "--policy", str(tree.policy_file), "--wait", "0.5",
                     timeout=30)
        assert busy.code == 3, busy.output
        assert "a seal is running" in busy.stderr
        assert len(busy.stderr.strip().splitlines()) == 1

        started = time.monotonic()
        run, report = check(tree, timeout=60)
        waited = time.monotonic() - started
        out, err = sealing.communicate(timeout=60)
    finally:
        if sealing.poll() is None:
            sealing.kill()
            sealing.wait()
    assert sealing.returncode == 0, out + err
    assert waited > 1.0  # it waited for the paused seal instead of reading half its work
    assert run.code == 0, run.stdout
    for index in (0, 1):
        assert problems(report, tree.name(index)) == []


def test_an_append_torn_by_a_crash_is_sealed_again(tmp_path: Path) -> None:
    """Power lost inside the last manifest append: half an entry, and no state yet."""
    tree = unsealed_tree(tmp_path, sources=2, days=2)
    before_state = 2 * 2 * 5 + 1  # five checkpoints a day, then the one before the state
    killed = seal(tree, env={HOOK: f"kill@{before_state}"})
    assert killed.code == -9
    assert not (tree.state / "heads.json").exists()
    manifest = tree.source(1) / "manifest.dlict.jsonl"
    whole = manifest.read_bytes()
    last_start = whole.rstrip(b"\n").rfind(b"\n") + 1
    manifest.write_bytes(whole[: last_start + (len(whole) - last_start) // 2])

    again = seal(tree)

    assert again.code == 0, again.output
    assert f"{tree.name(1)}: sealed {tree.day(1)}" in again.stdout
    assert manifest.read_bytes().startswith(whole[:last_start])  # the whole entries kept
    run, _report = check(tree)
    assert run.code == 0, run.stdout
    assert sealed_days(tree, 1) == [tree.day(2), tree.day(1)]
