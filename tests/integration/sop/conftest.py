"""Fixtures for the SOP controls on the test fleet: a fleet with every area applied, and
helpers to audit, re-apply and break things on one host."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from dlict.cli.app import main
from lab.fleet.fleet import Fleet
from tests.lab.plugin import _start

SOP_SCHOOLS = 2
#: Worker nodes for the audits spread over them (test_audit_workers.py); idle otherwise.
SOP_WORKERS = 2


class SopFleet:
    """A running fleet plus the data dir dlict records into."""

    def __init__(self, fleet: Fleet, data_dir: Path) -> None:
        self.fleet = fleet
        self.data_dir = data_dir

    def __getattr__(self, name: str) -> object:
        return getattr(self.fleet, name)


def run_dlict(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run dlict in this process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def sop_fleet(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[SopFleet]:
    """Office log server and two schools, with `dlict apply all` done once, and two worker
    nodes."""
    fleet = _start(request.config, SOP_SCHOOLS, workers=SOP_WORKERS)
    try:
        data = tmp_path_factory.mktemp("sop-data")
        result = subprocess.run(
            [str(Path(__import__("sys").executable).parent / "dlict"), "--json",
             "-i", str(fleet.inventory_path), "--data-dir", str(data), "apply", "all"],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"dlict apply all on the SOP fleet exited {result.returncode}:\n"
                        f"{result.stderr[-3000:]}\n{result.stdout[-3000:]}", pytrace=False)
        yield SopFleet(fleet, data)
    finally:
        fleet.stop()


@pytest.fixture
def audit(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``audit(fleet, limit=None)`` → {(host, control): status}."""

    def run(fleet: SopFleet, limit: str | None = None) -> dict[tuple[str, str], str]:
        args = ["--json", "-i", str(fleet.inventory_path), "--data-dir", str(fleet.data_dir),
                "audit"]
        if limit:
            args += ["--limit", limit]
        code, out, err = run_dlict(capsys, *args)
        assert code in (0, 1), f"audit exited {code}: {err}"
        data = json.loads(out)
        return {(r["host"], r["control"]): r["status"] for r in data["results"]}

    return run


@pytest.fixture
def apply(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``apply(fleet, areas, limit=None)``; fails the test unless dlict exits 0."""

    def run(fleet: SopFleet, areas: list[str], limit: str | None = None) -> dict[str, object]:
        args = ["--json", "-i", str(fleet.inventory_path), "--data-dir", str(fleet.data_dir),
                "apply", *areas]
        if limit:
            args += ["--limit", limit]
        code, out, err = run_dlict(capsys, *args)
        assert code == 0, f"apply exited {code}: {err}\n{out[-3000:]}"
        data: dict[str, object] = json.loads(out)
        return data

    return run


def host_init_pid(fleet: Fleet, host: str) -> int:
    """PID (in this machine's namespace) of the host's init, PID 1 inside its namespace."""
    pids = [p.pid for p in fleet.record.processes if p.host == host]
    if len(pids) < 2:
        raise LookupError(f"no init process recorded for {host}")
    return pids[-1]


def on_host(fleet: Fleet | SopFleet, host: str, command: str) -> str:
    """Run a shell command as root inside a fleet host (all its namespaces, its root)."""
    real = fleet.fleet if isinstance(fleet, SopFleet) else fleet
    pid = host_init_pid(real, host)
    result = subprocess.run(
        ["nsenter", "--target", str(pid), "--mount", "--uts", "--ipc", "--net", "--pid",
         "--root", "--wd", "--", "/bin/sh", "-c", command],
        capture_output=True, text=True, check=False, timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"on {host}: `{command}` exited {result.returncode}: "
                             f"{result.stderr.strip()}")
    return result.stdout


def failing(statuses: dict[tuple[str, str], str], host: str | None = None) -> dict[str, set[str]]:
    """{host: controls not passing}, for every host or one."""
    out: dict[str, set[str]] = {}
    for (name, control), status in statuses.items():
        if status != "pass" and (host is None or name == host):
            out.setdefault(name, set()).add(control)
    return out


def stored_results(data: Path) -> int:
    """Results in the evidence store of ``data`` so far (read-only; 0 before it exists)."""
    store = data / "evidence.sqlite"
    if not store.exists():
        return 0
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM results").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is still being made
            return 0


def audit_stopped_by_ctrl_c(fleet: SopFleet, data: Path, *args: str,
                            env: Mapping[str, str] | None = None) -> str:
    """Start ``dlict audit *args`` recording into ``data``, send SIGINT once the first area
    (firewall) is stored, and check it ended as a stopped run should (exit 130, no internal
    error); returns its stderr."""
    audit = subprocess.Popen(
        [str(Path(sys.executable).parent / "dlict"), "--json", "-i", str(fleet.inventory_path),
         "--data-dir", str(data), "audit", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 300
        while stored_results(data) == 0:  # the firewall area has ended on every host
            assert audit.poll() is None, "the audit ended before any area was stored"
            assert time.monotonic() < deadline, "no area stored within 300 s"
            time.sleep(0.2)
        audit.send_signal(signal.SIGINT)
        _out, err = audit.communicate(timeout=120)
    finally:
        if audit.poll() is None:
            audit.kill()
            audit.wait()
    assert audit.returncode == 130, err[-3000:]
    assert "internal error" not in err
    return err
