"""The host side of an area check (playbooks/library/dlict_observe.py), run here for real:
commands, files, a FIFO, a slow program, a folder."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from types import ModuleType

import pytest

MODULE = Path(__file__).parents[3] / "playbooks" / "library" / "dlict_observe.py"


@pytest.fixture(scope="module")
def observe_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dlict_observe", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_command_gives_its_status_and_both_streams(observe_module: ModuleType) -> None:
    seen = observe_module.observe({"id": "x",
                                   "argv": ["sh", "-c", "echo out; echo err >&2; exit 3"]})
    assert seen == {"rc": 3, "stdout": "out\n", "stderr": "err\n"}
    assert observe_module.observe({"id": "s", "shell": "cat", "stdin": "ยินดี"})["stdout"] == "ยินดี"


def test_a_missing_program_and_a_slow_one_are_problems_not_crashes(
        observe_module: ModuleType) -> None:
    missing = observe_module.observe({"id": "x", "argv": ["no-such-program"]})
    assert "No such file" in missing["problem"]
    started = time.monotonic()
    # the child's own child must go too: the pipes close and the module returns at the timeout
    seen = observe_module.observe({"id": "x", "shell": "sleep 30 & sleep 30", "timeout": 1})
    assert time.monotonic() - started < 10
    assert seen["problem"] == "/bin/sh gave no answer within 1 s"


def test_a_file_is_read_only_when_it_is_a_regular_file_of_bounded_size(
        observe_module: ModuleType, tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text("PermitRootLogin no\n")
    assert observe_module.observe({"id": "r", "read": str(conf)}) == {
        "exists": True, "content": "PermitRootLogin no\n"}
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading must not wait for a writer
    assert observe_module.observe({"id": "r", "read": str(fifo)})["problem"].endswith(
        "is not a regular file")
    assert "larger than 4 bytes" in observe_module.observe(
        {"id": "r", "read": str(conf), "max_bytes": 4})["problem"]
    missing = observe_module.observe({"id": "r", "read": str(tmp_path / "none")})
    assert missing["exists"] is False and "No such file" in missing["problem"]


def test_stat_and_find_describe_without_following_links(
        observe_module: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "2026-12-01.log").write_text("x")
    (tmp_path / "2026-12-01.log").chmod(0o640)
    (tmp_path / "notes.txt").write_text("y")
    (tmp_path / "link.log").symlink_to(tmp_path / "notes.txt")
    seen = observe_module.observe({"id": "s", "stat": str(tmp_path / "link.log")})
    assert seen["kind"] == "link"
    assert observe_module.observe({"id": "s", "stat": str(tmp_path / "x")}) == {
        "path": str(tmp_path / "x"), "exists": False}
    found = observe_module.observe({"id": "f", "find": str(tmp_path),
                                    "patterns": [r"^\d{4}-\d{2}-\d{2}\.log$", r"^link"]})
    assert [(e["path"], e["mode"]) for e in found["entries"]] == [
        (str(tmp_path / "2026-12-01.log"), "0640")]  # the link is no regular file


def test_a_probe_whose_condition_is_false_does_not_run(observe_module: ModuleType,
                                                       tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    assert observe_module.observe({"id": "x", "shell": f"touch {marker}", "when": False}) == {
        "skipped": True}
    assert not marker.exists()
    assert "names no argv" in observe_module.observe({"id": "x"})["problem"]
