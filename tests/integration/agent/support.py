"""What the agent's outbox and forwarding tests share: a real test CA with server and client
certificates, a real HTTPS receiver on 127.0.0.1 that reads batches with the contract's
``decode_batch``, agent configuration files, and the real ``dlict`` program.

The receiver stands in for the office's intake until that lands (another helper writes it):
it decodes exactly as the intake does, and answers as the test tells it to.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dlict.agent.records import Record
from dlict.agent.wire import BATCH_PATH, BatchHeader, decode_batch
from tests.conftest import REPO
from tests.httpstub import QuietHandler, serving

SITE = "4401010001"
HOST = "s4401010001-srv"


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def client_context(self) -> ssl.SSLContext:
        """What ``dlict.agent.enroll.client_context`` gives: the CA pinned, our cert shown."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
        context.load_cert_chain(self.client_cert, self.client_key)
        return context

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        context.load_verify_locations(cafile=str(self.ca))
        context.verify_mode = ssl.CERT_REQUIRED
        return context


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate for the agent."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("test district CA"))
          .issuer_name(_name("test district CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(common: str, stem: str, server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(_name(common))
                   .issuer_name(ca.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=10))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, directory / f"{stem}.key")

    leaf("127.0.0.1", "server", server=True)
    leaf(f"{SITE}/{HOST}", "client", server=False)
    return Pki(directory / "ca.crt", directory / "server.crt", directory / "server.key",
               directory / "client.crt", directory / "client.key")


@dataclass
class Received:
    """One batch as the receiver read it, and what it answered."""

    header: BatchHeader
    records: list[Record]
    status: int


@dataclass
class Receiver:
    """What the stand-in intake received; ``answers`` are the statuses of the next requests
    (then 200); ``hold`` makes it wait, batch read, before answering."""

    url: str = ""
    batches: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    hold: threading.Event | None = None
    got_batch: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self, *, delivered_only: bool = True) -> list[str]:
        return [r.key for b in self.batches if b.status == 200 or not delivered_only
                for r in b.records]


@contextmanager
def receiving(pki: Pki) -> Iterator[Receiver]:
    """A real HTTPS receiver of batches on 127.0.0.1 requiring the agent's certificate."""
    receiver = Receiver()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            header, records = decode_batch(self.rfile.read(length))
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.batches.append(Received(header, records, status))
            receiver.got_batch.set()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            assert self.path == BATCH_PATH
            body = {"accepted": len(records), "duplicates": 0} if status == 200 else {
                "error": f"told to answer {status}"}
            self.send_json(body, status)

    with serving(Handler, pki.server_context()) as served:
        receiver.url = served.url
        yield receiver


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, state_dir: Path, office: str, **extra: object) -> Path:
    data: dict[str, object] = {"site": SITE, "host": HOST, "office": office,
                               "state_dir": str(state_dir), "push": {"timeout_s": 5}}
    data.update(extra)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def one_line(self) -> str:
        """The single line dlict printed on stderr; fails if there is more, or a traceback."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert "Traceback" not in self.stderr and "internal error" not in self.stderr
        return lines[0]

    def json(self) -> object:
        return json.loads(self.stdout)


def dlict(*args: str) -> Outcome:
    """The real ``dlict`` program."""
    done = subprocess.run([sys.executable, "-m", "dlict", *args], capture_output=True,
                          text=True, timeout=120, check=False, cwd=REPO)
    return Outcome(done.returncode, done.stdout, done.stderr)


def agent_with_jobs(spec: dict[str, object], *args: str, timeout: float = 120) -> Outcome:
    """The real ``dlict`` CLI with test jobs and the test CA (tests/integration/agent/launch.py)
    in place of the jobs and enrolment other helpers write."""
    done = subprocess.run([sys.executable, "-m", "tests.integration.agent.launch",
                           json.dumps(spec), *args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=REPO)
    return Outcome(done.returncode, done.stdout, done.stderr)


def launch_command(spec: dict[str, object], *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.integration.agent.launch", json.dumps(spec), *args]
