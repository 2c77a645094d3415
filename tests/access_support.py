"""Shared by the access-request tests: a made-up national ID, a district copy, a CLI runner
that points the national-ID key outside the data dir."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import CliResult, CliRunner

# Made up, with a valid check digit (3-5101-00123-45-7).
NATIONAL_ID = "3510100123457"
OTHER_ID = "1101700203450"


def request_args(inventory: Path, *, national_id: str = NATIONAL_ID, system: str = "server",
                 host: str | None = "office-log", login: str = "somsri",
                 name: str = "นางสมศรี ทดสอบ") -> list[str]:
    args = ["-i", str(inventory), "--json", "access", "request", "--name", name,
            "--national-id", national_id, "--position", "ครู", "--unit", "โรงเรียนตัวอย่าง",
            "--phone", "0 4300 0000", "--email", "somsri@example.invalid",
            "--purpose", "ดูแลระบบ", "--system", system, "--login", login, "--days", "90"]
    if host is not None:
        args += ["--host", host]
    return args


def make_request(cli: CliRunner, inventory: Path, **fields: str) -> str:
    done = cli(*request_args(inventory, **fields))
    assert done.code == 0, done.stderr
    rid: str = json.loads(done.stdout)["request"]["id"]
    return rid


def store_dump(data_dir: Path) -> str:
    """Every row of the store as SQL text ('' when there is none yet)."""
    path = data_dir / "evidence.sqlite"
    if not path.exists():
        return ""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def one_line_exit_2(done: CliResult) -> None:
    assert done.code == 2, (done.code, done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.startswith("dlict:")]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
