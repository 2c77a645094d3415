"""``--json`` is accepted before the command (global) and after it, as the guide writes it;
both give the same JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlict.core.config import load_settings
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore, RunStatus
from tests.conftest import EXAMPLE_INVENTORY, REPO


def _stored_run(data: Path) -> int:
    """A finished run with one result, written through the store as a command would."""
    store_path = load_settings(overrides={"data_dir": data}).store_path
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with EvidenceStore.open(store_path) as store:
        run_id = store.start_run("audit", "dlict audit")
        store.add_results(run_id, [Result(site="office", host="srv1", status=Status.PASS,
                                          control="ID-01", evidence="ok")])
        store.finish_run(run_id, RunStatus.OK)
    return run_id


def _dlict(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    return subprocess.run(
        [sys.executable, "-m", "dlict", "--data-dir", str(data),
         "-i", str(EXAMPLE_INVENTORY), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.parametrize("command", [
    ("controls", "list"), ("inventory", "show"), ("inventory", "validate"),
    ("runs", "list"), ("runs", "show", "{run}"),
])
def test_json_before_and_after_the_command(tmp_path: Path, command: tuple[str, ...]) -> None:
    data = tmp_path / "data"
    run_id = _stored_run(data)
    words = [w.format(run=run_id) for w in command]
    before = _dlict(data, "--json", *words)
    after = _dlict(data, *words, "--json")
    for result in (before, after):
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout), result.stdout  # JSON, and not empty
    assert json.loads(after.stdout) == json.loads(before.stdout)
