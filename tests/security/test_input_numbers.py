"""Number options: not a number, not finite or out of range is one line naming the option,
exit 2, never a traceback — through ``dlict probe``'s fast entry and through every command."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.security.input_bounded import run_probe

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("argv", "message"), [
    (["--timeout", "nan"], "--timeout: 'nan' is not a finite number"),
    (["--timeout", "inf"], "--timeout: 'inf' is not a finite number"),
    (["--timeout=-inf"], "--timeout: '-inf' is not a finite number"),
    (["--timeout", "1e400"], "--timeout: '1e400' is not a finite number"),
    (["--timeout", "-1"], "--timeout: -1 is out of range (more than 0, at most 3600000)"),
    (["--timeout", "0"], "--timeout: 0 is out of range (more than 0, at most 3600000)"),
    (["--timeout", "abc"], "--timeout: 'abc' is not a number"),
    (["--interval", "nan"], "--interval: 'nan' is not a finite number"),
    (["--period", "-5"], "--period: -5 is out of range (0 to 3600000)"),
    (["--count", "0"], "--count: 0 is out of range (1 to 65536)"),
    (["--count", "1.5"], "--count: '1.5' is not a whole number"),
])
def test_probe_numbers(cli: CliRunner, argv: list[str], message: str) -> None:
    fast = run_probe("127.0.0.1", *argv)
    assert (fast.code, fast.stderr, fast.stdout) == (2, f"dlict: {message}\n", "")
    full = cli("--json", "probe", "127.0.0.1", *argv)  # the Typer command, same rules
    assert (full.code, full.stderr, full.stdout) == (2, f"dlict: {message}\n", "")


@pytest.mark.parametrize(("argv", "message"), [
    (["report", "dltv-survey", "--timeout", "inf"], "--timeout: 'inf' is not a finite number"),
    (["report", "dltv-survey", "--timeout", "nan"], "--timeout: 'nan' is not a finite number"),
    (["report", "dltv-survey", "--days", "-3"], "--days: -3 is out of range (1 to 400)"),
    (["runs", "list", "--limit", "-1"], "--limit: -1 is out of range (1 to 100000)"),
    (["runs", "list", "--limit", "lots"], "--limit: 'lots' is not a whole number"),
    (["logs", "check", "--days", "0"], "--days: 0 is out of range (1 to 36500)"),
    (["netscan", "verify", "--timeout", "nan"], "--timeout: 'nan' is not a finite number"),
    (["netscan", "verify", "--retries", "-1"], "--retries: -1 is out of range (0 to 5)"),
    (["monitor", "export-sd", "--dir", "{tmp}", "--node-port", "70000"],
     "--node-port: 70000 is out of range (1 to 65535)"),
])
def test_command_numbers(cli: CliRunner, tmp_path: Path, argv: list[str], message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = cli("-i", str(EXAMPLE_INVENTORY), *[a.replace("{tmp}", str(out)) for a in argv])
    assert (result.code, result.stderr) == (2, f"dlict: {message}\n")
    assert not any(out.iterdir())  # nothing written


@pytest.mark.parametrize(("name", "value"), [("timeout_ms", math.inf), ("period_ms", math.nan),
                                           ("services_interval_s", math.inf)])
def test_monitor_settings_in_the_inventory_are_finite(cli: CliRunner, example_copy: Path,
                                                      name: str, value: float) -> None:
    all_vars = example_copy / "group_vars" / "all.yml"
    data = yaml.safe_load(all_vars.read_text(encoding="utf-8"))
    data["dlict_monitor"][name] = value
    all_vars.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = cli("-i", str(example_copy), "inventory", "validate")
    assert result.code == 2
    assert f"group all: dlict_monitor.{name}: " in result.stderr
    assert len(result.stderr.splitlines()) == 1
