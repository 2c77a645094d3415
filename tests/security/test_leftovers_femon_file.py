"""A DLTV tuner read from a file of ``dvb-fe-tool --femon`` output: a FIFO, a link to
/dev/zero or a huge file in its place is one failed sample saying why, at once, in bounded
memory (each read runs in its own process under a time limit and a 1 GiB address-space cap)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1 << 30
GOOD = "Lock   (0x1f) Quality= Good Signal= -45.00dBm C/N= 12.30dB UCB= 0 postBER= 0\n"
READ = ("import json, sys\n"
        "from dlict.dltv import read_receiver\n"
        "print(json.dumps(read_receiver('dvb_femon', sys.argv[1], [], timeout_s=2).as_dict()))\n")


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def sample(path: Path) -> dict[str, object]:
    try:
        done = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True,
                              text=True, timeout=20, preexec_fn=limit_memory, check=False,
                              env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"})
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"reading {path} did not finish within 20 s (a hang)") from exc
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


def fifo(tmp: Path) -> Path:
    path = tmp / "femon.txt"
    os.mkfifo(path)
    return path


def zero_link(tmp: Path) -> Path:
    path = tmp / "femon.txt"
    path.symlink_to("/dev/zero")
    return path


def huge(tmp: Path) -> Path:
    path = tmp / "femon.txt"
    with path.open("wb") as out:
        out.truncate(2 << 30)  # sparse: 2 GiB of NULs without the disk
        out.seek(0)
        out.write(GOOD.encode())
    return path


@pytest.mark.parametrize(("make", "reason"), [
    (fifo, "not a regular file (a FIFO)"),
    (zero_link, "not a regular file (a character device)"),
    (huge, f"too large ({2 << 30} bytes; at most 1048576 are read)"),
])
def test_a_hostile_femon_file_is_one_failed_sample(tmp_path: Path,
                                                    make: Callable[[Path], Path],
                                                    reason: str) -> None:
    path = make(tmp_path)
    status = sample(path)
    assert status["reachable"] is False
    assert status["error"] == f"{path}: {reason}"


def test_a_femon_file_of_output_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "femon.txt"
    path.write_text(GOOD)
    status = sample(path)
    assert status["reachable"] is True and status["locked"] is True
    assert status["snr_db"] == 12.3
