"""`dlict monitor` refuses to serve beyond loopback without TLS and authentication, unless
told to with --insecure-listen, which it then says loudly.

Every monitor here that is given a wildcard address runs in a network namespace of the test's
own (`unshare --net`), so even a monitor that wrongly starts is reachable from nowhere; no
traffic leaves 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import bcrypt
import pytest

from dlict.exporter.server import is_loopback
from lab.monitoring import DLICT, free_port, self_signed_certificate
from tests.security.exporter_support import small_district

ANY_V4 = "0.0.0.0"  # noqa: S104 - bound only inside a network namespace of the test's own


def _isolated(inventory: Path, tmp: Path, *args: str) -> list[str]:
    """The monitor command line, run in a fresh network namespace with only its own lo."""
    return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", DLICT,
            "-i", str(inventory), "--data-dir", str(tmp / "data"), "monitor", *args]


def _web_config(tmp: Path, tls: bool, users: bool) -> Path:
    lines = []
    if tls:
        cert, key = self_signed_certificate(tmp)
        lines += ["tls_server_config:", f"  cert_file: {cert.name}", f"  key_file: {key.name}"]
    if users:
        hashed = bcrypt.hashpw(b"s3cret-scrape", bcrypt.gensalt(rounds=4)).decode()
        lines += ["basic_auth_users:", f"  prometheus: '{hashed}'"]
    web = tmp / "web.yml"
    web.write_text("\n".join(lines) + "\n")
    return web


@pytest.mark.parametrize(("host", "tls", "users", "missing"), [
    (ANY_V4, None, None, "no TLS (tls_server_config) and authentication (basic_auth_users)"),
    ("", None, None, "no TLS (tls_server_config) and authentication (basic_auth_users)"),
    ("[::]", None, None, "no TLS (tls_server_config) and authentication (basic_auth_users)"),
    (ANY_V4, True, False, "no authentication (basic_auth_users)"),
    (ANY_V4, False, True, "no TLS (tls_server_config)"),
])
def test_serving_beyond_loopback_unprotected_is_refused(
        tmp_path: Path, host: str, tls: bool | None, users: bool | None, missing: str) -> None:
    inventory = small_district(tmp_path / "inv")
    args = ["--listen", f"{host}:{free_port()}"]
    if tls is not None and users is not None:
        args += ["--web-config", str(_web_config(tmp_path, tls, users))]
    run = subprocess.run(_isolated(inventory, tmp_path, *args), capture_output=True,
                         text=True, timeout=30, check=False)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2, run.stderr
    assert len(lines) == 1, run.stderr
    assert missing in lines[0] and "--insecure-listen" in lines[0]
    assert "Traceback" not in run.stderr and not run.stdout


def _started(command: Sequence[str], log: Path, expect: str) -> str:
    """Start the monitor, wait until it says ``expect``, stop it (by its PID); its output."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "DLICT_LOG_LEVEL": "INFO"})
    try:
        deadline = time.monotonic() + 60
        while expect not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return log.read_text()


def test_beyond_loopback_with_tls_and_basic_auth_it_serves(tmp_path: Path) -> None:
    inventory = small_district(tmp_path / "inv")
    web = _web_config(tmp_path, tls=True, users=True)
    port = free_port()
    output = _started(_isolated(inventory, tmp_path, "--listen", f"0.0.0.0:{port}",
                                "--web-config", str(web)), tmp_path / "monitor.log",
                      expect=f"serving https://0.0.0.0:{port}/metrics")
    assert f"serving https://0.0.0.0:{port}/metrics" in output
    assert "INSECURE" not in output


def test_insecure_listen_serves_and_says_so_loudly(tmp_path: Path) -> None:
    inventory = small_district(tmp_path / "inv")
    port = free_port()
    output = _started(_isolated(inventory, tmp_path, "--listen", f"0.0.0.0:{port}",
                                "--insecure-listen"), tmp_path / "monitor.log",
                      expect="INSECURE")
    warning = [line for line in output.splitlines() if "INSECURE" in line]
    assert len(warning) == 1
    assert f"0.0.0.0:{port}" in warning[0] and "WARNING" in warning[0]
    assert "TLS (tls_server_config) and authentication (basic_auth_users)" in warning[0]


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.5.6.7", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("localhost", True), (ANY_V4, False), ("::", False), ("10.0.0.1", False),
    ("::ffff:10.0.0.1", False), ("monitor.example.org", False), ("fe80::1%eth0", False),
])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
