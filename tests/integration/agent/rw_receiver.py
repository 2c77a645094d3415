"""A remote_write receiver of the test's own on 127.0.0.1: it keeps every request (headers and
body) and answers with the statuses a test scripts, so a test can see what the agent sent and
how it takes each answer. Bodies are read back with snappy (cramjam) and ``protoc --decode``
against the specification's message definitions."""

from __future__ import annotations

import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cramjam

from dlict.agent.config import RemoteWriteSettings
from dlict.agent.remote_write import RemoteWriteClient
from tests.httpstub import QuietHandler, Served, serving
from tests.unit.test_remote_write_encoding import SPEC_SCHEMA, protoc


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """Answers to give, in order (the last one again when they run out), and what came."""

    statuses: list[int] = field(default_factory=lambda: [204])
    reason: bytes = b""
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver(script: Script, tls: ssl.SSLContext | None = None) -> Iterator[Served]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with script.lock:
                script.requests.append(Request(self.path, dict(self.headers.items()), body))
                n = len(script.requests) - 1
                status = script.statuses[min(n, len(script.statuses) - 1)]
            self.send_body(script.reason if status >= 300 else b"", status)

    with serving(Handler, tls) as served:
        yield served


def client(url: str, timeout_s: float = 5, ca_file: Path | None = None) -> RemoteWriteClient:
    return RemoteWriteClient(RemoteWriteSettings.model_validate(
        {"url": url, "timeout_s": timeout_s, "ca_file": ca_file}))


def decoded(body: bytes, schema_dir: Path) -> str:
    """The snappy-compressed WriteRequest as protoc's text format."""
    schema = schema_dir / "remote.proto"
    schema.write_text(SPEC_SCHEMA)
    raw = bytes(cramjam.snappy.decompress_raw(body))
    done = subprocess.run([protoc(), f"--proto_path={schema_dir}",
                           "--decode=prometheus.WriteRequest", schema.name], input=raw,
                          capture_output=True, check=True, timeout=30)
    return done.stdout.decode()


def series_of(text: str) -> list[tuple[list[tuple[str, str]], list[tuple[float, int]]]]:
    """(labels in the order sent, samples as (value, timestamp)) of each timeseries."""
    found = []
    for block in text.split("timeseries {")[1:]:
        labels = re.findall(r'labels \{\s*name: "([^"]*)"\s*value: "([^"]*)"', block)
        samples = []
        for sample in re.findall(r"samples \{([^}]*)\}", block):
            value = re.search(r"value: (\S+)", sample)
            stamp = re.search(r"timestamp: (-?\d+)", sample)
            samples.append((float(value.group(1)) if value else 0.0,
                            int(stamp.group(1)) if stamp else 0))
        found.append(([(n, v.encode().decode("unicode_escape").encode("latin-1").decode())
                       for n, v in labels], samples))
    return found
