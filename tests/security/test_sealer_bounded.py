"""Reads are bounded per line and per file: a few-megabyte gzip holding one 4 GiB line is a
finding, found in bounded memory and time; the caps are the policy's to set."""

from __future__ import annotations

import gzip
import json
import os
import resource
from pathlib import Path

import pytest

from tests.security.sealer_trees import (
    Run,
    Tree,
    check,
    dlict,
    problems,
    seal,
    unsealed_tree,
)

MEMORY_LIMIT = 2 << 30  # address space for the whole dlict process


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def write_bomb(path: Path, gibibytes: int = 4) -> None:
    """One line of ``gibibytes`` GiB and no newline, as concatenated gzip members (streamed:
    one 16 MiB member is compressed once and written again and again)."""
    member = gzip.compress(b"A" * (16 << 20), compresslevel=9, mtime=0)
    with path.open("wb") as out:
        for _ in range(gibibytes * 64):
            out.write(member)
    path.chmod(0o640)


def test_an_unsealed_gzip_bomb_is_a_finding_not_gigabytes(tmp_path: Path) -> None:
    tree = unsealed_tree(tmp_path)
    tree.day_file(0, 2).unlink()
    bomb = tree.day_file(0, 2, ".log.gz")
    write_bomb(bomb)
    assert bomb.stat().st_size < 8 << 20
    os.chown(bomb, 0, tree.day_file(0, 1).stat().st_gid)

    result = seal(tree, timeout=60, preexec=limit_memory)

    assert result.code == 1, result.output
    assert f"FINDING {tree.name(0)} {tree.day(2)}: {bomb.name}: line 1 is {4 << 30} bytes, " \
           f"over the cap of 1048576 per line; sealed whole" in result.stdout, result.output
    assert bomb.stat().st_size < 8 << 20  # kept as it is


@pytest.fixture
def sealed_bomb(tmp_path: Path) -> Tree:
    tree = unsealed_tree(tmp_path)
    assert seal(tree).code == 0
    today = tree.day_file(0, 0)
    gid = today.stat().st_gid
    today.unlink()
    bomb = tree.day_file(0, 0, ".log.gz")
    write_bomb(bomb)
    os.chown(bomb, 0, gid)
    return tree


def test_a_gzip_bomb_as_the_newest_day_is_a_finding_for_the_check(sealed_bomb: Tree) -> None:
    run, report = check(sealed_bomb, timeout=60, preexec=limit_memory)
    assert run.code == 1
    found = problems(report, sealed_bomb.name(0))
    today = sealed_bomb.today.isoformat()
    assert ("oversized", today) in [(kind, day) for kind, day, _ in found], found
    detail = next(d for kind, _, d in found if kind == "oversized")
    assert detail.startswith(f"{today}.log.gz: a line is longer than 1048576 bytes"), detail
    assert problems(report, sealed_bomb.name(1)) == []


def test_the_line_cap_is_the_policy_s(tmp_path: Path) -> None:
    tree = unsealed_tree(tmp_path)
    with tree.day_file(1, 3).open("ab") as out:
        out.write(b"2026-01-01T00:00:00+00:00 h sshd[1]: " + b"x" * 10_000 + b"\n")
    settings = json.loads(tree.policy_file.read_text())
    settings["max_line_bytes"] = 8192
    tree.policy_file.write_text(json.dumps(settings))
    result = seal(tree)
    assert result.code == 1, result.output
    assert f"FINDING {tree.name(1)} {tree.day(3)}: {tree.day(3)}.log.gz: line 21 is 10037 " \
           f"bytes, over the cap of 8192 per line" in result.stdout, result.stdout
    assert f"{tree.name(0)}: sealed" in result.stdout



@pytest.mark.parametrize(("settings", "message"), [
    ({"max_line_bytes": 10}, "max_line_bytes must be at least 4096, got 10"),
    ({"max_file_bytes": 0}, "max_file_bytes must be at least 1, got 0"),
    ({"max_file_bytes": "64G"}, "max_file_bytes must be a non-negative whole number, got '64G'"),
])
def test_a_bad_cap_in_the_policy_is_one_line_and_exit_2(tmp_path: Path,
                                                        settings: dict[str, object],
                                                        message: str) -> None:
    tree = unsealed_tree(tmp_path, sources=1, days=1)
    tree.policy_file.write_text(json.dumps({**json.loads(tree.policy_file.read_text()),
                                            **settings}))
    for command in (seal, check_raw):
        run = command(tree)
        assert run.code == 2, run.output
        assert run.stderr.strip() == f"dlict: {tree.policy_file}: {message}", run.stderr
    assert not (tree.source(0) / "manifest.dlict.jsonl").exists()


def check_raw(tree: Tree) -> Run:
    return dlict(tree, "logs", "check", "--policy", str(tree.policy_file))
