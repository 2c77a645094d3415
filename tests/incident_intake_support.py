"""What the incident intake's tests share: a real ``dlict incident intake`` on a free loopback
port (stopped by its PID), a plain HTTP client, and the cases read back from the store."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import Case, TimelineEntry, TrailEntry
from tests.intake_support import stop_by_sigterm

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Answer:
    status: int
    body: bytes


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body,
                           headers={"Content-Type": "application/json", **(headers or {})})
        answer = connection.getresponse()
        return Answer(answer.status, answer.read())
    finally:
        connection.close()


@dataclass
class Served:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, body: bytes, path: str = "/alerts") -> Answer:
        return request(self.port, "POST", path, body)


@contextlib.contextmanager
def incident_intake(data_dir: Path, *extra: str) -> Iterator[Served]:
    """A real ``dlict incident intake`` process on a free loopback port; stopped with SIGTERM
    (by its PID) when the block ends, killed if it does not stop."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"incident-intake-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "dlict"), "--data-dir", str(data_dir), "incident", "intake",
             "--listen", f"127.0.0.1:{port}", *extra], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                        0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dlict incident intake did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield Served(data_dir, port, process, log)
    finally:
        stop_by_sigterm(process)


@dataclass
class Book:
    """Every case in the store with its timeline and trail, as read at one moment."""

    cases: list[Case]
    timelines: dict[str, list[TimelineEntry]]
    trails: dict[str, list[TrailEntry]]


def read_book(data_dir: Path) -> Book:
    path = data_dir / "evidence.sqlite"
    if not path.exists():
        return Book([], {}, {})
    with EvidenceStore.open(path) as store:
        book = CaseBook(store)
        cases = book.cases(include_closed=True)
        return Book(cases, {c.id: book.timeline(c.id) for c in cases},
                    {c.id: book.trail(c.id) for c in cases})
