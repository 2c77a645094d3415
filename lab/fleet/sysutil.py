"""Small operating-system helpers shared by the rootfs builder and the fleet.

Everything here acts on exact paths and PIDs handed in by the caller; nothing matches
processes or mounts by a broad name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO


class FleetError(RuntimeError):
    """The test fleet could not be built, started or torn down."""


def say(message: str) -> None:
    """Print one progress line for a human on stderr."""
    print(f"[fleet] {message}", file=sys.stderr, flush=True)


class Progress:
    """One progress line for a long step: rewritten in place on a terminal, else one line
    the first time each phase begins (a CI log or a captured stream gets a handful of lines)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.on_terminal = self.stream.isatty()
        self.phase: str | None = None
        self.count = 0
        self.seen: set[str] = set()

    def step(self, phase: str | None) -> None:
        """Count one step of ``phase``; None (a line of no phase) changes nothing."""
        if phase is None:
            return
        if phase == self.phase:
            self.count += 1
        else:
            self.phase, self.count = phase, 1
            if not self.on_terminal and phase not in self.seen:
                self._write(f"[fleet] {self.label}: {phase}…\n")
            self.seen.add(phase)
        if self.on_terminal:
            self._write(f"\r\x1b[K[fleet] {self.label}: {phase} ({self.count})")

    def done(self) -> None:
        """End the line on a terminal."""
        if self.on_terminal and self.phase is not None:
            self._write("\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def run(args: Sequence[str], *, input_text: str | None = None, check: bool = True) -> str:
    """Run a program and return its stdout.

    Arguments:
        args: program and arguments (never passed through a shell).
        input_text: text sent to the program's stdin.
        check: raise when the program exits non-zero.

    Returns:
        The program's standard output.

    Raises:
        FleetError: the program failed and ``check`` is true.
    """
    done = subprocess.run(
        list(args), input=input_text, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        command = " ".join(args)
        detail = (done.stderr or done.stdout).strip()
        raise FleetError(f"`{command}` exited {done.returncode}: {detail}")
    return done.stdout


def succeeds(args: Sequence[str]) -> bool:
    """Run a program quietly; True if it exited 0."""
    done = subprocess.run(list(args), capture_output=True, check=False)
    return done.returncode == 0


def require_programs(names: Sequence[str]) -> None:
    """Raise FleetError naming every program in ``names`` that is not on PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise FleetError(f"the test fleet needs these programs on PATH: {', '.join(missing)}")


def _unescape_mountinfo(field: str) -> str:
    return (
        field.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def mount_points(mountinfo: Path = Path("/proc/self/mountinfo")) -> list[str]:
    """Return every mount point listed in a mountinfo file (default: this process's)."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:  # the process exited meanwhile (ENOENT, ESRCH, or EINVAL while exiting)
        return []
    return [_unescape_mountinfo(line.split()[4]) for line in lines if line.strip()]


def mounts_under(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[str]:
    """Return mount points at or below ``path``, deepest first."""
    root = str(path.resolve())
    found = [m for m in mount_points(mountinfo) if m == root or m.startswith(root + "/")]
    return sorted(set(found), key=len, reverse=True)


def unmount_under(path: Path) -> None:
    """Unmount everything mounted at or below ``path`` in this mount namespace."""
    for point in mounts_under(path):
        if not succeeds(["umount", point]):
            succeeds(["umount", "--lazy", point])


def remove_tree(path: Path) -> None:
    """Remove a directory tree, first unmounting anything mounted inside it.

    Refuses to delete while a mount remains, so a bind mount (for example of /dev left by an
    interrupted debootstrap) can never lead to deleting files outside the tree.
    """
    if not path.exists():
        return
    unmount_under(path)
    remaining = mounts_under(path)
    if remaining:
        raise FleetError(f"not removing {path}: still mounted: {', '.join(remaining)}")
    shutil.rmtree(path)


def process_start_time(pid: int) -> int | None:
    """Return the kernel start time (clock ticks since boot) of ``pid``.

    None if there is no such process or it has already exited (a zombie holds nothing).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in field 2 may contain spaces; the fields after its ')' are fixed.
    fields_after_comm = stat.rsplit(")", 1)[1].split()
    if fields_after_comm[0] in ("Z", "X"):
        return None
    return int(fields_after_comm[19])


def is_same_process(pid: int, start_time: int) -> bool:
    """True if ``pid`` runs and is the very process that started at ``start_time``."""
    return process_start_time(pid) == start_time


def kill_process(pid: int, start_time: int, timeout: float = 10.0) -> None:
    """SIGKILL the process ``pid`` if it still is the one started at ``start_time``; wait for it.

    Raises:
        FleetError: the process is still there after ``timeout`` seconds.
    """
    if not is_same_process(pid, start_time):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _reap_if_child(pid)
    deadline = time.monotonic() + timeout
    while is_same_process(pid, start_time):
        if time.monotonic() > deadline:
            raise FleetError(f"process {pid} did not exit after SIGKILL")
        time.sleep(0.05)
        _reap_if_child(pid)


def _reap_if_child(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_gone(pid: int, start_time: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for a process to disappear; True if it did."""
    deadline = time.monotonic() + timeout
    while is_same_process(pid, start_time):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if missing) for the block's duration."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
