"""Bad input to ``dlict report compliance``: one clear line, exit 2, and no file written nor
half-written (no PDF, no temporary file beside it, no evidence store made)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dlict.core.clock import BANGKOK
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.runs import record_run
from tests.compliance_fixture import write_store
from tests.conftest import EXAMPLE_INVENTORY, CliResult, CliRunner

pytestmark = pytest.mark.integration


def _report(cli: CliRunner, out: Path, *args: str, data_dir: Path | None = None) -> CliResult:
    return cli("-i", str(EXAMPLE_INVENTORY), "report", "compliance", *args,
               "--pdf", str(out / "c.pdf"), "--html", str(out / "c.html"), data_dir=data_dir)


def _assert_refused(result: CliResult, out: Path, *words: str) -> None:
    code, stderr = result.code, result.stderr
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert list(out.iterdir()) == [], list(out.iterdir())


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _today() -> datetime:
    return datetime.now(BANGKOK)


def test_unknown_site(cli: CliRunner, tmp_path: Path, out: Path) -> None:
    write_store(tmp_path / "data")
    _assert_refused(_report(cli, out, "--from", "2026-11-01", "--to", "2026-11-30",
                            "--site", "9999999999"), out, "--site 9999999999", "no such site")


def test_from_after_to(cli: CliRunner, tmp_path: Path, out: Path) -> None:
    write_store(tmp_path / "data")
    _assert_refused(_report(cli, out, "--from", "2569-11-30", "--to", "2569-11-01"), out,
                    "--from 2026-11-30 is after --to 2026-11-01")


@pytest.mark.parametrize("option", ["--to", "--from"])
def test_a_day_in_the_future(cli: CliRunner, tmp_path: Path, out: Path, option: str) -> None:
    write_store(tmp_path / "data")
    tomorrow = (_today() + timedelta(days=1)).date()
    args = [option, tomorrow.isoformat()]
    if option == "--from":
        args += ["--to", tomorrow.isoformat()]
    _assert_refused(_report(cli, out, *args), out, tomorrow.isoformat(), "in the future")


@pytest.mark.parametrize("day", ["2026-13-01", "1 Nov 2026", "2569-02-30"])
def test_not_a_date(cli: CliRunner, tmp_path: Path, out: Path, day: str) -> None:
    write_store(tmp_path / "data")
    _assert_refused(_report(cli, out, "--from", day), out, "--from", "not a date")


def test_no_evidence_store_is_not_created(cli: CliRunner, tmp_path: Path, out: Path) -> None:
    data = tmp_path / "data"
    _assert_refused(_report(cli, out, data_dir=data), out, "no evidence store", "dlict audit")
    assert not data.exists()


def test_a_store_without_audit_results(cli: CliRunner, tmp_path: Path, out: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with EvidenceStore.open(data / "evidence.sqlite") as store:
        # a monitoring round and an apply run carry no evidence of compliance
        record_run(store, "monitor-once", [Result("4401010001", "gw", Status.PASS,
                                                   target="127.10.1.1")])
        record_run(store, "apply", [Result("4401010001", "srv", Status.PASS, "FW-01")])
    _assert_refused(_report(cli, out, data_dir=data), out, "holds no audit results")


def test_a_period_without_results(cli: CliRunner, tmp_path: Path, out: Path) -> None:
    write_store(tmp_path / "data")
    _assert_refused(_report(cli, out, "--from", "2026-06-01", "--to", "2026-06-30"), out,
                    "no audit results from 2026-06-01 to 2026-06-30")


def test_a_missing_output_directory(cli: CliRunner, tmp_path: Path, out: Path) -> None:
    write_store(tmp_path / "data")
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "compliance", "--from", "2026-11-01",
                 "--to", "2026-11-30", "--html", str(out / "c.html"),
                 "--pdf", str(tmp_path / "missing" / "c.pdf"))
    _assert_refused(result, out, "--pdf", "the directory does not exist")


def test_no_thai_font_tool_leaves_no_file(tmp_path: Path, out: Path) -> None:
    """A real ``dlict`` whose PATH has no fontconfig (fc-list): one line, exit 3, and neither
    the PDF nor the HTML asked for beside it is written — everything is rendered first."""
    write_store(tmp_path / "data")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": str(bin_dir)}
    run = subprocess.run(
        [str(bin_dir / "dlict"), "--data-dir", str(tmp_path / "data"), "-i",
         str(EXAMPLE_INVENTORY), "report", "compliance", "--from", "2026-11-01", "--to",
         "2026-11-30", "--html", str(out / "c.html"), "--pdf", str(out / "c.pdf")],
        capture_output=True, text=True, timeout=120, env=env, check=False)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 3, run.stderr
    assert len(lines) == 1 and "fc-list" in lines[0], lines
    assert list(out.iterdir()) == []
