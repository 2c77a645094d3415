"""Unsealed log trees and real ``dlict logs`` subprocesses for the sealer's hostile-input tests.

Every run has a timeout: a regression that hangs fails instead of stopping the suite.
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from dlict.logs import keys
from dlict.logs.tree import last_closed_day
from lab.logtree import day_lines, source_names

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 60


@dataclass(frozen=True)
class Tree:
    base: Path
    root: Path
    key: Path
    state: Path
    policy_file: Path
    today: date

    def source(self, index: int) -> Path:
        site, host = source_names(index + 1)[index]
        return self.root / site / host

    def name(self, index: int) -> str:
        return "/".join(source_names(index + 1)[index])

    def day_file(self, index: int, back: int, suffix: str = ".log") -> Path:
        return self.source(index) / f"{self.today - timedelta(days=back)}{suffix}"

    def day(self, back: int) -> str:
        return (self.today - timedelta(days=back)).isoformat()


def open_day(moment: datetime) -> date:
    """The day the sealer still leaves open: in the first hour after midnight that is
    yesterday, so a tree built then must not expect yesterday to be sealed."""
    return last_closed_day(moment, moment.tzinfo or UTC) + timedelta(days=1)


def unsealed_tree(base: Path, *, sources: int = 2, days: int = 4, lines: int = 20,
                  retention_days: int | None = None) -> Tree:
    """A tree as rsyslog leaves it (0640 root:adm, each day's end as its time), not sealed.

    ``retention_days`` None writes a policy file without a retention (nothing may be deleted).
    """
    moment = datetime.now(UTC).astimezone()
    offset = moment.strftime("%z")
    zone_offset = f"{offset[:3]}:{offset[3:]}"
    tree = Tree(base, base / "tree", base / "keys" / "logseal.key", base / "state",
                base / "logging.json", open_day(moment))
    keys.generate(tree.key)
    settings: dict[str, object] = {"root": str(tree.root), "signing_key": str(tree.key),
                                   "state_dir": str(tree.state)}
    if retention_days is not None:
        settings["retention_days"] = retention_days
    tree.policy_file.write_text(json.dumps(settings))
    adm = grp.getgrnam("adm").gr_gid
    tree.root.mkdir(mode=0o750)
    for index, (site, host) in enumerate(source_names(sources)):
        directory = tree.root / site / host
        directory.mkdir(parents=True, mode=0o750)
        (tree.root / site).chmod(0o750)
        for back in range(days, -1, -1):
            day = tree.today - timedelta(days=back)
            path = directory / f"{day.isoformat()}.log"
            path.write_bytes(day_lines(host, day, lines, zone_offset, salt=index))
            os.chown(path, 0, adm)
            path.chmod(0o640)
            if back:
                end = datetime.combine(day, time(23, 59), tzinfo=moment.tzinfo).timestamp()
                os.utime(path, (end, end))
    return tree


def copy_tree(tree: Tree, base: Path) -> Tree:
    """A copy of a whole tree (keys, state, policy) under ``base``, owners and times kept."""
    shutil.copytree(tree.base, base, symlinks=True, dirs_exist_ok=True)
    for directory, subdirectories, files in os.walk(tree.base):
        for name in [*subdirectories, *files]:
            original = Path(directory) / name
            info = original.lstat()
            os.chown(base / original.relative_to(tree.base), info.st_uid, info.st_gid,
                     follow_symlinks=False)
    copy = Tree(base, base / "tree", base / "keys" / "logseal.key", base / "state",
                base / "logging.json", tree.today)
    settings = json.loads(copy.policy_file.read_text())
    settings.update(root=str(copy.root), signing_key=str(copy.key), state_dir=str(copy.state))
    copy.policy_file.write_text(json.dumps(settings))
    return copy


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def dlict(tree: Tree, *args: str, timeout: float = RUN_TIMEOUT,
          env: Mapping[str, str] | None = None,
          preexec: Callable[[], None] | None = None) -> Run:
    """Run the real ``dlict`` command (this worktree's code) and wait at most ``timeout``."""
    command = [sys.executable, "-m", "dlict", "--data-dir", str(tree.base / "data"), *args]
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}", **(env or {})}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=environment, cwd=tree.base, preexec_fn=preexec, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"dlict {' '.join(args)} did not finish within {timeout} s "
                             f"(a hang)") from exc
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def seal(tree: Tree, *extra: str, **kwargs: object) -> Run:
    return dlict(tree, "logs", "seal", "--policy", str(tree.policy_file), *extra,
                 **kwargs)  # type: ignore[arg-type]


def check(tree: Tree, *extra: str, **kwargs: object) -> tuple[Run, dict[str, Any]]:
    run = dlict(tree, "--json", "logs", "check", "--policy", str(tree.policy_file), *extra,
                **kwargs)  # type: ignore[arg-type]
    assert run.code in (0, 1), run.output
    return run, json.loads(run.stdout)


def problems(report: dict[str, Any], source: str) -> list[tuple[str, str | None, str]]:
    """(kind, day, detail) of one source's problems in a check's JSON."""
    for entry in report["sources"]:
        if entry["source"] == source:
            return [(p["kind"], p["day"], p["detail"]) for p in entry["problems"]]
    raise AssertionError(f"{source} is not in the report")


def sealed_days(tree: Tree, index: int) -> list[str]:
    lines = (tree.source(index) / "manifest.dlict.jsonl").read_text().splitlines()
    return [json.loads(line)["day"] for line in lines]
