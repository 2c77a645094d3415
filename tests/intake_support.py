"""What the intake's tests share: batches, a real ``dlict intake serve`` on loopback ports and
an HTTPS client that presents a certificate (the credentials come from ``lab.intake_pki``)."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlict.agent.records import Record, event_record, result_record, sample_record
from dlict.agent.wire import BATCH_PATH, MEDIA_TYPE, BatchHeader, encode_batch
from dlict.core.clock import utc_now
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from lab.intake_pki import Credentials

BIN = Path(sys.executable).parent
SITE = "44010001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def client_context(creds: Credentials | None, ca_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file))
    if creds is not None:
        context.load_cert_chain(creds.cert, creds.key)
    return context


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> dict[str, int]:
        value: dict[str, int] = json.loads(self.body)
        return value


def post(port: int, body: bytes, context: ssl.SSLContext, path: str = BATCH_PATH,
         headers: dict[str, str] | None = None) -> Answer:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
    try:
        conn.request("POST", path, body=body,
                     headers={"Content-Type": MEDIA_TYPE, **(headers or {})})
        answer = conn.getresponse()
        return Answer(answer.status, answer.read())
    finally:
        conn.close()


def get(url: str, context: ssl.SSLContext | None = None) -> Answer:
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    assert host == "127.0.0.1", url
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    conn: http.client.HTTPConnection = (
        http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
        if url.startswith("https") else http.client.HTTPConnection(host, int(port), timeout=30))
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        return Answer(answer.status, answer.read())
    finally:
        conn.close()


def records_for(site: str, host: str, results: int = 2, samples: int = 2,
                events: int = 1) -> list[Record]:
    made: list[Record] = []
    for i in range(results):
        made.append(result_record(Result(site=site, host=host, control=f"FW-{i % 20 + 1:02d}",
                                         status=Status.PASS if i % 5 else Status.FAIL,
                                         evidence=f"nft list ruleset: rule {i}")))
    for i in range(samples):
        made.append(sample_record(site, host, "dlict_agent_probe_rtt_seconds",
                                  {"target": f"10.0.0.{i % 250 + 1}"}, 0.01 * (i + 1)))
    made.extend(event_record(site, host, "unknown_device", f"aa:bb:cc:00:00:{i:02x}")
                for i in range(events))
    return made


def batch(site: str, host: str, records: Sequence[Record], outbox: int = 0,
          dropped: dict[str, int] | None = None) -> bytes:
    header = BatchHeader(site=site, host=host, sent_at=utc_now(), outbox_records=outbox,
                         dropped=dropped or {})
    return encode_batch(header, records)


def raw_batch(lines: Sequence[object]) -> bytes:
    """A batch from the given JSON lines, as a broken or hostile agent could send it."""
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return gzip.compress((text + "\n").encode())


@dataclass
class Served:
    data_dir: Path
    port: int
    metrics_port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def store_path(self) -> Path:
        return self.data_dir / "evidence.sqlite"

    def metrics(self) -> str:
        answer = get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        assert answer.status == 200, answer
        return answer.body.decode()


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"dlict intake serve did not start:\n{log.read_text()}")
        time.sleep(0.05)


@contextlib.contextmanager
def intake_serve(data_dir: Path, *extra: str) -> Iterator[Served]:
    """A real ``dlict intake serve`` process on free loopback ports; stopped (by its PID)
    when the block ends, killed if it does not stop."""
    port, metrics_port = free_port(), free_port()
    log = data_dir.parent / f"intake-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "dlict"), "--data-dir", str(data_dir), "intake", "serve",
             "--listen", f"127.0.0.1:{port}", "--metrics-listen", f"127.0.0.1:{metrics_port}",
             *extra], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        _wait_listening(port, process, log)
        _wait_listening(metrics_port, process, log)
        yield Served(data_dir, port, metrics_port, process, log)
    finally:
        stop_by_sigterm(process)


def stop_by_sigterm(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Stop a dlict server as systemd would: SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def count(store_path: Path, table: str) -> int:
    with EvidenceStore.open(store_path) as store, store.reading() as conn:
        (value,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    return int(value)
