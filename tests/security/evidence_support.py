"""Real ``dlict incident`` subprocesses on a data directory, for the evidence tests.

Every run has a timeout: a regression that hangs fails instead of stopping the suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.security.sealer_trees import REPO, Run

TIMEOUT = 60


def dlict(data: Path, *args: str, timeout: float = TIMEOUT,
          preexec: Callable[[], None] | None = None) -> Run:
    """The real ``dlict`` (this worktree's code) with ``--data-dir data``."""
    command = [sys.executable, "-m", "dlict", "--data-dir", str(data), *args]
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", "DLICT_LANG": "en",
                   "DLICT_ACTOR": "somchai"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=environment, cwd=data.parent, preexec_fn=preexec,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"dlict {' '.join(args)} did not finish within {timeout} s "
                             f"(a hang)") from exc
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def open_case(data: Path, title: str = "เว็บโรงเรียนถูกแก้ไข") -> str:
    run = dlict(data, "--json", "incident", "open", "--title", title)
    assert run.code == 0, run.output
    case_id: str = json.loads(run.stdout)["id"]
    return case_id


def timeline_kinds(data: Path, case_id: str) -> list[str]:
    run = dlict(data, "--json", "incident", "show", case_id)
    assert run.code == 0, run.output
    return [entry["kind"] for entry in json.loads(run.stdout)["timeline"]]


def snapshot(directory: Path) -> dict[str, str]:
    """Every entry under ``directory`` with its content's hash (files) or kind: what a
    command that writes nothing leaves exactly as it was."""
    found: dict[str, str] = {}
    if not directory.exists():
        return found
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if path.is_symlink() or not path.is_file():
            found[relative] = "dir" if path.is_dir() else "other"
        elif path.suffix in (".sqlite-wal", ".sqlite-shm") or path.name.endswith(".log"):
            found[relative] = "volatile"  # SQLite's own files, dlict's own log
        else:
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
