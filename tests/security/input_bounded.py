"""Running ``dlict`` as a child that cannot hang the test run or eat the machine's memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DLICT = str(Path(sys.executable).parent / "dlict")
MEMORY_LIMIT = 1 << 30  # 1 GiB of address space: a bomb that expands hits it at once
TIMEOUT_S = 30.0  # far above any answer dlict gives; a regression fails here, never hangs


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    seconds: float


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_dlict(*args: str, data_dir: Path, cwd: Path | None = None) -> Finished:
    """``dlict --data-dir DATA ARGS…`` with 1 GiB of memory and a timeout; how long it took."""
    started = time.monotonic()
    done = subprocess.run([DLICT, "--data-dir", str(data_dir), *args], capture_output=True,
                          text=True, check=False, timeout=TIMEOUT_S, cwd=cwd,
                          preexec_fn=_limit_memory)
    return Finished(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def run_probe(*args: str) -> Finished:
    """``dlict probe ARGS…`` through its fast entry, with the same limits."""
    started = time.monotonic()
    done = subprocess.run([DLICT, "probe", *args], capture_output=True, text=True, check=False,
                          timeout=TIMEOUT_S, preexec_fn=_limit_memory)
    return Finished(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@contextmanager
def fifo(path: Path) -> Iterator[Path]:
    """A named pipe at ``path``; whoever is still blocked reading it afterwards (a dlict
    that regressed, or the ansible-inventory it started in its own session) gets end of
    file and exits, so a failing test leaves no process behind."""
    os.mkfifo(path)
    try:
        yield path
    finally:
        for _ in range(20):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: no reader left
                break
            time.sleep(0.05)
