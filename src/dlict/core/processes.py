"""Stopping a child process dlict started: SIGTERM, then SIGKILL if it does not end."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """End ``process`` (SIGTERM, then SIGKILL after ``timeout`` seconds) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
