"""The command line itself: version, help, usage errors, configuration errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlict import __version__
from tests.conftest import EXAMPLE_INVENTORY, CliRunner

pytestmark = pytest.mark.integration


def test_version_and_help_as_installed() -> None:
    exe = Path(sys.executable).parent / "dlict"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"dlict {__version__}"
    helped = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    for option in ("--inventory", "--config", "--data-dir", "--json", "--lang", "--log-json"):
        assert option in helped.stdout
    for command in ("inventory", "facts", "runs"):
        assert command in helped.stdout


def test_unknown_option_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("--no-such-option")
    assert result.code == 2


def test_bad_language_names_the_setting(cli: CliRunner) -> None:
    result = cli("--lang", "fr", "-i", str(EXAMPLE_INVENTORY), "inventory", "validate")
    assert result.code == 2
    assert "command line: lang: Input should be 'th' or 'en'" in result.stderr


def test_bad_config_file_exits_2_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "dlict.yaml"
    config.write_text("forks: [\n")
    data = tmp_path / "data"
    result = cli("--config", str(config), "runs", "list", data_dir=data)
    assert result.code == 2
    assert "dlict.yaml:2: malformed YAML" in result.stderr
    assert not data.exists()


def test_runs_list_on_a_new_store(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("--json", "runs", "list")
    assert result.code == 0
    assert result.stdout.strip() == "[]"
