"""No file in the repository keeps a merge's conflict markers (a decisions.md once did)."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import REPO

MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)


def test_no_conflict_markers_are_left() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    left = []
    for name in files:
        path = REPO / name
        if path.suffix in {".png", ".gz", ".pdf"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        # A Markdown setext heading underline is not a marker: only a bare line between two
        # other lines of a conflict is.
        hits = [m.group(0) for m in MARKER.finditer(text)]
        if any(h.startswith(("<", ">")) for h in hits):
            left.append(name)
    assert left == []
