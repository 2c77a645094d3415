"""No token secret and no private key leaks, and every private key is 0600 in a private dir.

The office side runs as the real ``dlict`` program (``dlict ca init``, ``dlict ca
issue-token``) with DEBUG logging to its log file; the agent enrols over TLS on 127.0.0.1
through ``tests.enrol_server`` with every log record captured. Then every byte the office
and the agent wrote or printed is searched for the secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from loguru import logger

from dlict.agent.enroll import client_context, enroll
from dlict.agent.token import parse_token
from dlict.core.errors import InputError
from dlict.intake.ca import ca_files
from tests.enrol_server import Office, agent_config, enrol_server, files_under


@pytest.fixture
def log_records() -> Iterator[list[str]]:
    records: list[str] = []
    sink = logger.add(lambda message: records.append(str(message)), level="TRACE",
                      serialize=True)
    try:
        yield records
    finally:
        logger.remove(sink)


def dlict(data_dir: Path, *args: str, log_level: str = "WARNING"
          ) -> subprocess.CompletedProcess[str]:
    """The real ``dlict`` program (its log file, DATA_DIR/logs/dlict.log, takes DEBUG)."""
    return subprocess.run(
        [sys.executable, "-m", "dlict", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=120, check=False, umask=0o022,
        env={**os.environ, "DLICT_LOG_LEVEL": log_level})


def key_forms(path: Path) -> dict[str, bytes]:
    """The ways a private key could leak: its PEM lines, its DER, its bare scalar."""
    pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    body = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    return {f"{path.name} pem line {i}": line for i, line in enumerate(body)} | {
        f"{path.name} der": der, f"{path.name} scalar": scalar,
        f"{path.name} scalar hex": scalar.hex().encode()}


def test_no_token_secret_or_private_key_in_logs_output_or_store(
        tmp_path: Path, log_records: list[str]) -> None:
    data_dir = tmp_path / "office"
    init = dlict(data_dir, "ca", "init", "--name", "intake.test", log_level="DEBUG")
    assert init.returncode == 0, init.stderr
    issued = dlict(data_dir, "ca", "issue-token", "--site", "S1001", "--host", "pi-01",
                   log_level="DEBUG")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert issued.stdout == token + "\n"  # the token, once, alone on its line
    secret = parse_token(token).secret
    listed = dlict(data_dir, "ca", "list", "--json", log_level="DEBUG")

    files = ca_files(data_dir)
    with enrol_server(files, data_dir / "evidence.sqlite") as server:
        config = agent_config(server.url, "S1001", "pi-01", tmp_path / "agent")
        enroll(config, token)
        reused = dlict(data_dir, "ca", "list", log_level="DEBUG")

    secrets = {"token": token.encode(), "token secret": secret.encode()}
    for key in (files.ca_key, files.server_key, config.key_path):
        secrets |= key_forms(key)
    written = files_under(data_dir) | {
        f"agent/{name}": data for name, data in files_under(config.state_dir).items()}
    for key in (files.ca_key, files.server_key, config.key_path):
        written = {name: data for name, data in written.items()
                   if not (data_dir / name == key or tmp_path / name == key)}
    assert {"evidence.sqlite", "logs/dlict.log", "agent/agent.crt"} <= set(written)
    assert b"enrolment token" in written["logs/dlict.log"]  # the log was written, at DEBUG
    printed = {"init": init.stdout + init.stderr, "issue-token stderr": issued.stderr,
               "list": listed.stdout + listed.stderr, "list after": reused.stdout + reused.stderr,
               "log records": "\n".join(log_records)}
    assert any("agent S1001/pi-01 enrolled" in r for r in log_records)

    leaks = [f"{what} in {where}"
             for what, value in secrets.items()
             for where, data in [*written.items(),
                                 *((k, v.encode()) for k, v in printed.items())]
             if value in data]
    assert leaks == []


def test_private_keys_are_0600_and_the_ca_dir_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        office = Office.make(tmp_path / "office")
        with enrol_server(office.files, office.store_path) as server:
            config = agent_config(server.url, "S1001", "pi-01", tmp_path / "agent")
            enroll(config, office.token("S1001", "pi-01"))
    finally:
        os.umask(old)

    def mode(path: Path) -> int:
        return path.stat().st_mode & 0o777

    assert mode(office.files.directory) == 0o700
    assert (mode(office.files.ca_key), mode(office.files.server_key)) == (0o600, 0o600)
    assert mode(config.key_path) == 0o600
    assert (mode(office.files.ca_cert), mode(config.cert_path)) == (0o640, 0o640)
    assert mode(config.state_dir) == 0o750
    assert sorted(p.name for p in config.state_dir.iterdir()) == [
        "agent.crt", "agent.key", "office-ca.crt"]  # no temporary file left behind


def test_a_key_others_can_read_is_refused_before_any_connection(tmp_path: Path) -> None:
    office = Office.make(tmp_path / "office")
    with enrol_server(office.files, office.store_path) as server:
        config = agent_config(server.url, "S1001", "pi-01", tmp_path / "agent")
        enroll(config, office.token("S1001", "pi-01"))
    config.key_path.chmod(0o644)
    with pytest.raises(InputError) as refused:
        client_context(config)
    assert refused.value.lines() == [
        f"{config.key_path}: the agent's key is readable by others (mode 0644); chmod 600 "
        "it, or enrol again"]


def test_a_second_ca_init_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "office"
    assert dlict(data_dir, "ca", "init").returncode == 0
    before = files_under(data_dir / "ca")

    again = dlict(data_dir, "ca", "init", "--name", "intake.test")

    assert again.returncode == 2
    assert again.stderr == (f"dlict: {data_dir / 'ca'}: an enrolment CA exists already; dlict "
                            "never overwrites it (every enrolled agent pins it): nothing was "
                            "written\n")
    assert files_under(data_dir / "ca") == before
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".ca.")] == []


def test_a_bad_intake_name_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    data_dir = tmp_path / "office"
    done = dlict(data_dir, "ca", "init", "--name", "intake test;rm")
    assert (done.returncode, done.stderr) == (
        2, "dlict: --name 'intake test;rm': neither a DNS name nor an IP address\n")
    assert not (data_dir / "ca").exists()


def test_ca_list_shows_no_secret_hash(tmp_path: Path) -> None:
    data_dir = tmp_path / "office"
    assert dlict(data_dir, "ca", "init").returncode == 0
    token = dlict(data_dir, "ca", "issue-token", "--site", "S1001", "--host", "pi-01",
                  "--ttl", "2h").stdout.strip()
    listed = json.loads(dlict(data_dir, "ca", "list", "--json").stdout)
    [row] = listed["tokens"]
    assert row["state"] == "unused" and row["id"] == parse_token(token).token_id
    assert parse_token(token).secret_digest not in json.dumps(listed)
    revoked = dlict(data_dir, "ca", "revoke", "S1001", "pi-01")
    assert (revoked.returncode, revoked.stdout) == (
        0, "S1001/pi-01: 0 certificate(s) revoked, 1 unused token(s) voided\n")
    nothing = dlict(data_dir, "ca", "revoke", "S1001", "pi-01")
    assert (nothing.returncode, nothing.stderr) == (
        2, "dlict: nothing to revoke for S1001/pi-01: it has no live certificate and no "
           "unused enrolment token\n")


def test_issue_token_without_a_ca_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "office"
    done = dlict(data_dir, "ca", "issue-token", "--site", "S1001", "--host", "pi-01")
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"dlict: {data_dir / 'ca'}: no enrolment CA (ca.crt missing): run dlict ca "
               "init first\n")
    assert not data_dir.exists()
