"""One line over ``max_line_bytes`` is a finding for that line (file, line number, length);
the day, the source's later days and the other sources are sealed all the same, and a change
to that line is still found by the check."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from tests.security.sealer_trees import (
    Tree,
    check,
    problems,
    seal,
    sealed_days,
    unsealed_tree,
)

CAP = 4096
LONG = 10_000


def with_long_line(tmp_path: Path) -> tuple[Tree, bytes]:
    """Source 0's day two days back gets a 10,000-byte line as its 5th line (cap 4096)."""
    tree = unsealed_tree(tmp_path, sources=2, days=3)
    settings = json.loads(tree.policy_file.read_text())
    tree.policy_file.write_text(json.dumps({**settings, "max_line_bytes": CAP}))
    path = tree.day_file(0, 2)
    lines = path.read_bytes().splitlines(keepends=True)
    long_line = lines[4].rstrip(b"\n") + b" " + b"x" * (LONG - len(lines[4])) + b"\n"
    assert len(long_line) - 1 == LONG
    lines[4] = long_line
    stamp = path.stat()
    path.write_bytes(b"".join(lines))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    return tree, long_line


def test_an_overlong_line_is_a_finding_and_the_source_is_sealed_on(tmp_path: Path) -> None:
    tree, _long = with_long_line(tmp_path)

    result = seal(tree)

    assert result.code == 1, result.output
    finding = [line for line in result.stdout.splitlines() if line.startswith("FINDING")]
    assert finding == [f"FINDING {tree.name(0)} {tree.day(2)}: {tree.day(2)}.log.gz: line 5 "
                       f"is {LONG} bytes, over the cap of {CAP} per line; sealed whole all "
                       f"the same (a change to it is found like any other)"], result.stdout
    for index in (0, 1):
        assert sealed_days(tree, index) == [tree.day(3), tree.day(2), tree.day(1)]
    run, report = check(tree)
    assert run.code == 0, run.stdout
    assert problems(report, tree.name(0)) == []


def test_a_change_inside_the_overlong_line_is_found(tmp_path: Path) -> None:
    tree, long_line = with_long_line(tmp_path)
    assert seal(tree).code == 1
    packed = tree.day_file(0, 2, ".log.gz")
    text = gzip.decompress(packed.read_bytes())
    at = text.index(long_line) + LONG - 10  # deep inside the line, past the cap
    forged = text[:at] + b"y" + text[at + 1:]
    packed.write_bytes(gzip.compress(forged, mtime=0))

    run, report = check(tree)

    assert run.code == 1
    found = problems(report, tree.name(0))
    assert [(kind, day) for kind, day, _ in found] == [("modified", tree.day(2))], found
