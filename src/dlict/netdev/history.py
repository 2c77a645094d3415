"""Device configurations kept as versions in a git repository in the data dir.

One file per device (``<host>.cfg``); a backup run that changed any becomes one commit that
names the devices; an unchanged configuration makes no new version. git does the work it is
best at (history, dates, diffs) and lets the team read the history with their own tools.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dlict.core.errors import InputError, OperationalError
from dlict.core.files import make_private_dirs, write_private

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "dlict", "GIT_AUTHOR_EMAIL": "dlict@localhost",
    "GIT_COMMITTER_NAME": "dlict", "GIT_COMMITTER_EMAIL": "dlict@localhost",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
}


# git's well-known empty tree: the "before" of a device's first version.
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Version:
    commit: str
    at: datetime
    message: str


class ConfigHistory:
    """The repository at ``root`` (created, 0750, on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _git(self, *args: str, check: bool = True) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | _GIT_ENV
        env["HOME"] = str(self.root)  # no user's ~/.gitconfig changes what is stored
        try:
            done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True,
                                  text=True, env=env, check=False)
        except FileNotFoundError as exc:
            raise OperationalError("git is not installed: the configuration history needs it "
                                   "(apt-get install git)") from exc
        if check and done.returncode != 0:
            raise OperationalError(f"git {args[0]} in {self.root}: {done.stderr.strip()}")
        return done.stdout

    def ensure(self) -> None:
        if (self.root / ".git").is_dir():
            return
        make_private_dirs(self.root)
        self.root.chmod(0o750)
        self._git("init", "-q", "-b", "main")
        self._git("config", "core.fileMode", "false")

    @staticmethod
    def file_name(host: str) -> str:
        return f"{host}.cfg"

    def current(self, host: str) -> str | None:
        path = self.root / self.file_name(host)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def record(self, configs: Mapping[str, str], message: str) -> tuple[str | None, list[str]]:
        """Store the configurations; commit those that changed. Returns (commit, changed
        hosts); commit is None when nothing changed."""
        self.ensure()
        changed = [h for h, text in sorted(configs.items()) if self.current(h) != text]
        if not changed:
            return None, []
        for host in changed:
            write_private(self.root / self.file_name(host), configs[host])
        self._git("add", "--", *(self.file_name(h) for h in changed))
        self._git("commit", "-q", "-m", message, "-m", "changed: " + ", ".join(changed))
        return self._git("rev-parse", "HEAD").strip(), changed

    def versions(self, host: str) -> list[Version]:
        """The host's versions, newest first."""
        if not (self.root / ".git").is_dir():
            return []
        out = self._git("log", "--format=%H%x09%cI%x09%s", "--", self.file_name(host),
                        check=False)
        versions = []
        for line in out.splitlines():
            commit, at, message = line.split("\t", 2)
            versions.append(Version(commit, datetime.fromisoformat(at), message))
        return versions

    def diff(self, host: str, old: str | None, new: str = "HEAD") -> str:
        """Unified diff of the host's file between two commits (old None: from nothing)."""
        base = old or _EMPTY_TREE
        return self._git("diff", "--no-color", "--unified=3", base, new, "--",
                         self.file_name(host))

    def diff_since(self, host: str, since: datetime | None) -> tuple[list[Version], str]:
        """The versions newer than ``since`` (all when None) and the diff they add up to.

        Raises:
            InputError: the host has no stored configuration.
        """
        versions = self.versions(host)
        if not versions:
            raise InputError(f"{host}: no configuration stored yet: run dlict netdev backup")
        if since is None:
            newer, base = versions[:1], (versions[1].commit if len(versions) > 1 else None)
        else:
            newer = [v for v in versions if v.at > since]
            older = [v for v in versions if v.at <= since]
            base = older[0].commit if older else None
        if not newer:
            return [], ""
        return newer, self.diff(host, base, newer[0].commit)
