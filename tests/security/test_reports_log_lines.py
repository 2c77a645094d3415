"""A value that dlict logs (a device's answer, a host or file name) can neither fake a line of
dlict's log nor send the terminal an escape sequence: on the console, in the log file and in
JSON lines, its control characters are escaped."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from dlict.core.logging import setup_logging

HOSTILE = "gw-1\x1b[2J\n2026-12-02 10:00:00 | ERROR    | fake line\r\x9b"
ESCAPED = "gw-1\\x1b[2J\\n2026-12-02 10:00:00 | ERROR    | fake line\\r\\x9b"


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    setup_logging("INFO")


@pytest.mark.parametrize("json_lines", [False, True])
def test_logged_value_stays_on_its_line(console: io.StringIO, tmp_path: Path,
                                        json_lines: bool) -> None:
    log_file = tmp_path / "dlict.log"
    setup_logging("INFO", json_lines=json_lines, log_file=log_file, stderr=lambda: console)
    logger.warning("device {} answered", HOSTILE)
    logger.complete()
    for text in (console.getvalue(), log_file.read_text(encoding="utf-8")):
        lines = text.splitlines()
        assert len(lines) == 1, text
        assert "\x1b" not in text and "\r" not in text and "\x9b" not in text
        message = json.loads(lines[0])["record"]["message"] if json_lines else lines[0]
        assert f"device {ESCAPED} answered" in message
