"""The agent's host job runs the verify tasks' commands for real: ``nft`` inside a network
namespace this test makes (with the rule set the firewall role renders, then with none), a
program that hangs, programs that are not installed, signature files with real modification
times. A missing or hung program is an error (or, for an absent SSH server, skipped) result
naming it; nothing crashes. The judges over captured sshd and chrony output are tested in
tests/unit/test_agent_host_checks.py (neither program is installed on this machine)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.host import HostJob, clamd_ping
from dlict.agent.jobs.runner import run_job
from dlict.agent.jobs.settings import HostJobSettings
from dlict.agent.records import Kind, result_of
from dlict.core.results import Status
from tests.conftest import REPO

SITE, HOST = "4401010001", "school-srv"
CONTEXT = JobContext(SITE, HOST, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
RULESET = REPO / "tests" / "unit" / "fixtures" / "agent_host" / "nft_dlict.nft"
NFT = shutil.which("nft", path="/usr/sbin:/sbin:/usr/bin")


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"dlah-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def verdicts_in(namespace: str, db_dir: Path) -> dict[str, tuple[str, str]]:
    """The host job's verdicts, run by a Python inside ``namespace`` (nft sees its rules)."""
    code = (
        "import json, sys\n"
        "from dlict.agent.jobs.host import HostJob, clamd_ping\n"
        "from dlict.agent.jobs.settings import HostJobSettings\n"
        "job = HostJob(HostJobSettings(clamav_db_dir=sys.argv[1]))\n"
        "print(json.dumps({v.control: [v.status, v.evidence] for v in job.verdicts()}))\n")
    done = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", code,
                           str(db_dir)], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}"})
    assert done.returncode == 0, done.stderr
    found: dict[str, tuple[str, str]] = {k: tuple(v) for k, v in json.loads(done.stdout).items()}
    return found


def test_firewall_controls_from_the_loaded_rule_set(namespace: str, tmp_path: Path) -> None:
    assert NFT is not None, "nft (Debian package nftables) is needed for this test"
    before = verdicts_in(namespace, tmp_path)
    assert {c: before[c][0] for c in ("FW-01", "FW-03", "FW-05")} == {
        "FW-01": "fail", "FW-03": "fail", "FW-05": "fail"}
    assert before["FW-01"][1] == "no inet dlict input chain is loaded"

    subprocess.run(["ip", "netns", "exec", namespace, NFT, "-f", str(RULESET)], check=True,
                   capture_output=True)
    after = verdicts_in(namespace, tmp_path)
    assert {c: after[c] for c in ("FW-01", "FW-03", "FW-05")} == {
        "FW-01": ("pass", "inet dlict input chain loaded, hook input, policy drop"),
        "FW-03": ("pass", 'input chain ends with a rate-limited log, prefix "dlict-drop"'),
        "FW-05": ("pass", "table inet dlict filters IPv4 and IPv6; no ip6 table accepts all"),
    }


def test_missing_programs_are_errors_or_skips_naming_them(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    job = HostJob(HostJobSettings(clamav_db_dir=str(tmp_path / "clamav")), path=str(empty))
    run = run_job(job, CONTEXT)
    assert (run.error, run.cut) == (None, False)
    results = {result_of(r).control: (result_of(r).status, result_of(r).evidence)
               for r in run.records if r.kind is Kind.RESULT}
    assert results == {
        "FW-01": (Status.ERROR, "nft not installed (Debian package nftables)"),
        "FW-03": (Status.ERROR, "nft not installed (Debian package nftables)"),
        "FW-05": (Status.ERROR, "nft not installed (Debian package nftables)"),
        "ID-01": (Status.SKIPPED, "sshd not installed (Debian package openssh-server): no SSH "
                                  "server to judge"),
        "ID-02": (Status.SKIPPED, "sshd not installed (Debian package openssh-server): no SSH "
                                  "server to judge"),
        "ID-03": (Status.ERROR, "awk not installed (Debian package mawk)"),
        "ID-04": (Status.ERROR, "awk not installed (Debian package mawk)"),
        "EP-01": (Status.ERROR, "dpkg-query not installed (Debian package dpkg)"),
        "EP-05": (Status.ERROR, "dpkg-query not installed (Debian package dpkg)"),
        "LOG-04": (Status.ERROR, "chronyc not installed (Debian package chrony)"),
        "AV-01": (Status.ERROR, "dpkg-query not installed (Debian package dpkg)"),
        "AV-03": (Status.FAIL, f"no signature database (*.cvd, *.cld) in {tmp_path / 'clamav'}"),
    }


def test_a_hung_program_is_cut_at_its_timeout(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    hang = bin_dir / "chronyc"
    hang.write_text("#!/bin/sh\nsleep 300 &\nsleep 300\n")
    hang.chmod(0o755)
    job = HostJob(HostJobSettings(command_timeout_s=1), path=str(bin_dir))
    started = time.monotonic()
    verdict = job.clock()
    assert time.monotonic() - started < 3
    assert (verdict.control, verdict.status, verdict.evidence) == (
        "LOG-04", Status.ERROR, "chronyc gave no answer within 1 s")


def test_signature_age_from_real_files(tmp_path: Path) -> None:
    now = time.time()
    (tmp_path / "main.cvd").write_bytes(b"ClamAV-VDB")
    (tmp_path / "daily.cld").write_bytes(b"ClamAV-VDB")
    os.utime(tmp_path / "main.cvd", (now - 40 * 86400, now - 40 * 86400))
    os.utime(tmp_path / "daily.cld", (now - 9 * 86400, now - 9 * 86400))
    job = HostJob(HostJobSettings(clamav_db_dir=str(tmp_path)))
    verdict = job.signatures()
    assert (verdict.status, verdict.evidence) == (
        Status.FAIL, "newest signature database is 9.0 days old (limit 7)")
    os.utime(tmp_path / "daily.cld", (now - 3600, now - 3600))
    assert job.signatures().evidence == "newest signature database is 0.0 days old (limit 7)"


def serve_unix(path: Path, answer: bytes | None) -> threading.Thread:
    """One connection on a Unix socket: read the command, answer (None: say nothing)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def once() -> None:
        with server:
            connection, _ = server.accept()
            with connection:
                connection.recv(64)
                if answer is not None:
                    connection.sendall(answer)
                else:
                    time.sleep(2)

    thread = threading.Thread(target=once, daemon=True)
    thread.start()
    return thread


def test_clamd_ping_on_a_real_socket(tmp_path: Path) -> None:
    """The PING the AV-01 probe sends, to a Unix socket answering as clamd does (``PONG``
    and a NUL), to one that never answers, and to none."""
    answering = tmp_path / "clamd.ctl"
    thread = serve_unix(answering, b"PONG\0")
    assert clamd_ping(str(answering), 2) == ("PONG", "")
    thread.join(5)

    silent = tmp_path / "silent.ctl"
    thread = serve_unix(silent, None)
    started = time.monotonic()
    assert clamd_ping(str(silent), 0.5) == ("", "TimeoutError: timed out")
    assert time.monotonic() - started < 1.5
    thread.join(5)

    assert clamd_ping(str(tmp_path / "none.ctl"), 1) == (
        "", "FileNotFoundError: [Errno 2] No such file or directory")
