"""Shared pytest configuration: the test fleet's fixtures are a plugin; a CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dlict.cli.app import main

pytest_plugins = ("tests.lab.plugin",)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_INVENTORY = REPO / "inventory" / "example"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> CliRunner:
    """Run ``dlict`` in this process with a private data dir; returns code and output."""

    def run(*args: str, data_dir: Path | None = None) -> CliResult:
        argv = ["--data-dir", str(data_dir or tmp_path / "data"), *args]
        capsys.readouterr()
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
        else:
            code = 0
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example district that a test may break."""
    target = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, target)
    return target


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: a missing prerequisite must never pass quietly."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        names = ", ".join(report.nodeid for report in skipped[:5])
        if reporter is not None:
            reporter.write_line(f"CI: {len(skipped)} test(s) skipped, which CI forbids: {names}",
                                red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
