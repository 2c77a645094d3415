"""Hostile requests to a real ``dlict incident intake``: a malformed notification is a 400 with
one line and nothing written; bodies are bounded before they are read; the server refuses to
listen beyond loopback without TLS and authentication, and stays up through all of it."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
from pathlib import Path

import bcrypt

from dlict.core.store import EvidenceStore
from dlict.incidents.webhook import MAX_WEBHOOK_BYTES
from tests.incident_intake_support import BIN, incident_intake, read_book, request
from tests.unit.incidents.test_intake import alert, payload

INCIDENT_TABLES = ("incident_counters", "incident_cases", "incident_tasks",
                   "incident_observables", "incident_timeline", "incident_trail")

HOSTILE = [
    b"",
    b"not json at all",
    b"\xff\xfe\x00",
    b"[" * 200_000,
    b'{"version": "4"}',
    json.dumps({"version": "4", "groupKey": "g", "status": "firing",
                "alerts": [{"labels": {"alertname": "X"}}]}).encode(),
    payload(alert(site="a\x00b")),
    payload(alert()).replace(b'"startsAt": "', b'"startsAt": "x'),
    payload(alert(), group="k" * 1001),
    # one good alert and one bad: the good one is not stored either
    payload(alert(), alert(fingerprint="zz")),
]


def _rows(data_dir: Path) -> dict[str, int]:
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store, store.reading() as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in INCIDENT_TABLES}


def test_malformed_notifications_are_400_with_one_line_and_write_nothing(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with incident_intake(data_dir) as intake:
        for body in HOSTILE:
            answer = intake.post(body)
            text = answer.body.decode()
            assert answer.status == 400, (body[:60], answer)
            assert text.startswith("webhook") and text.count("\n") == 1, text
        assert _rows(data_dir) == dict.fromkeys(INCIDENT_TABLES, 0)
        good = intake.post(payload(alert()))  # still serving, and a good one is stored
        assert good.status == 200 and json.loads(good.body)["opened"] is True
    assert len(read_book(data_dir).cases) == 1
    assert intake.process.returncode == 0


def test_bodies_are_bounded_before_they_are_read(tmp_path: Path) -> None:
    with incident_intake(tmp_path / "data", "--request-timeout", "1") as intake:
        too_big = request(intake.port, "POST", "/alerts", headers={
            "Content-Length": str(MAX_WEBHOOK_BYTES + 1)})
        assert too_big.status == 413
        huge = request(intake.port, "POST", "/alerts", headers={"Content-Length": "9" * 40})
        assert huge.status == 413
        chunked = request(intake.port, "POST", "/alerts", body=iter([b"{}"]),
                          headers={"Transfer-Encoding": "chunked"})
        assert chunked.status == 411
        assert request(intake.port, "POST", "/elsewhere", payload(alert())).status == 404
        # a client that announces a body and never sends it is dropped, not waited for
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", intake.port), 5) as sock:
            sock.settimeout(20)
            sock.sendall(b"POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
            assert sock.recv(1024) == b""  # closed without an answer
        assert time.monotonic() - started < 10  # three times the request timeout, and some
        assert request(intake.port, "POST", "/alerts", payload(alert())).status == 200
    assert len(read_book(tmp_path / "data").cases) == 1


def test_listening_beyond_loopback_needs_tls_and_authentication(tmp_path: Path) -> None:
    done = subprocess.run([str(BIN / "dlict"), "--data-dir", str(tmp_path / "data"),
                           "incident", "intake", "--listen", "0.0.0.0:9311"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "TLS" in done.stderr and "authentication" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()  # refused before anything was written


def test_with_basic_auth_a_webhook_without_the_password_writes_nothing(tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"am-secret", bcrypt.gensalt(rounds=4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  alertmanager: '{hashed}'\n")
    data_dir = tmp_path / "data"
    with incident_intake(data_dir, "--web-config", str(web)) as intake:
        body = payload(alert())
        assert request(intake.port, "POST", "/alerts", body).status == 401
        wrong = base64.b64encode(b"alertmanager:guess").decode()
        assert request(intake.port, "POST", "/alerts", body,
                       {"Authorization": f"Basic {wrong}"}).status == 401
        assert request(intake.port, "GET", "/metrics").status == 401
        assert _rows(data_dir) == dict.fromkeys(INCIDENT_TABLES, 0)
        right = base64.b64encode(b"alertmanager:am-secret").decode()
        assert request(intake.port, "POST", "/alerts", body,
                       {"Authorization": f"Basic {right}"}).status == 200
    assert len(read_book(data_dir).cases) == 1
