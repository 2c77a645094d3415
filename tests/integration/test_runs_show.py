"""`dlict runs show`: an audit's rows say which control each is; an unknown run is bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore, RunStatus
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

AUDIT = [
    Result("office", "office-log", Status.PASS, control="SSH-01", evidence="PermitRootLogin no"),
    Result("office", "office-log", Status.FAIL, control="SSH-02", evidence="PasswordAuth yes"),
    Result("office", "office-log", Status.PASS, control="LOG-02", evidence="rsyslog listens"),
]


def _recorded_audit(data: Path) -> int:
    data.mkdir(parents=True, exist_ok=True)
    with EvidenceStore.open(data / "evidence.sqlite") as store:
        run_id = store.start_run("audit", "dlict sop audit")
        store.add_results(run_id, AUDIT)
        store.finish_run(run_id, RunStatus.FINDINGS)
    return run_id


def test_each_row_names_its_control(cli: CliRunner, tmp_path: Path) -> None:
    run_id = _recorded_audit(tmp_path / "data")
    result = cli("--lang", "en", "runs", "show", str(run_id))
    assert result.code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "office-log" in line]
    assert len(rows) == 3
    for row, expected in zip(rows, AUDIT, strict=True):
        assert expected.control in row and expected.status.value in row, row
    assert "Control" in result.stdout


def test_json_names_each_control(cli: CliRunner, tmp_path: Path) -> None:
    run_id = _recorded_audit(tmp_path / "data")
    result = cli("--json", "runs", "show", str(run_id))
    assert result.code == 0, result.stderr
    shown = json.loads(result.stdout)["results"]
    assert [(r["control"], r["status"]) for r in shown] == [
        (r.control, r.status.value) for r in AUDIT]


def test_unknown_run_is_bad_input(cli: CliRunner, tmp_path: Path) -> None:
    _recorded_audit(tmp_path / "data")
    result = cli("runs", "show", "9999")
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"dlict: no run 9999 in {tmp_path / 'data' / 'evidence.sqlite'}\n"
