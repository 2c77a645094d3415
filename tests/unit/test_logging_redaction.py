"""A secret logged through any path never reaches a sink: console, file, JSON, stdlib logging."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from dlict.core.logging import redact, register_secret, setup_logging

SECRET = "S3cr3t-vault-value-9931"


@pytest.fixture
def sinks(tmp_path: Path) -> Iterator[tuple[io.StringIO, Path]]:
    console = io.StringIO()
    log_file = tmp_path / "logs" / "dlict.log"
    register_secret(SECRET)
    setup_logging("DEBUG", json_lines=False, log_file=log_file, stderr=lambda: console)
    yield console, log_file
    setup_logging("INFO")


@pytest.fixture
def json_sinks(tmp_path: Path) -> Iterator[tuple[io.StringIO, Path]]:
    console = io.StringIO()
    log_file = tmp_path / "logs" / "dlict.json"
    register_secret(SECRET)
    setup_logging("DEBUG", json_lines=True, log_file=log_file, stderr=lambda: console)
    yield console, log_file
    setup_logging("INFO")


def _log_everywhere() -> None:
    logger.info(f"connecting with become password {SECRET}")
    logger.bind(ansible_password=SECRET, api_token=SECRET).warning("bound values")
    logger.opt(lazy=True).debug("lazy {}", lambda: SECRET)
    try:
        raise RuntimeError(f"vault decrypt gave {SECRET}")
    except RuntimeError:
        logger.exception("failure with a secret in the exception")
    logging.getLogger("paramiko.transport").warning("auth with %s", SECRET)
    logger.info("ansible_password=unregistered-pw-1 community: unregistered-snmp-2")
    logger.info('{"ansible_become_password": "unregistered-pw-3"}')
    logger.info("Authorization: Bearer unregistered-token-4")
    logger.info("snmp-server community unregistered-snmp-5 RO")


UNREGISTERED = ["unregistered-pw-1", "unregistered-snmp-2", "unregistered-pw-3",
                "unregistered-token-4", "unregistered-snmp-5"]


def _assert_clean(text: str) -> None:
    assert SECRET not in text
    for value in UNREGISTERED:
        assert value not in text, value


def test_text_console_and_file_never_see_the_secret(sinks: tuple[io.StringIO, Path]) -> None:
    console, log_file = sinks
    _log_everywhere()
    for text in (console.getvalue(), log_file.read_text()):
        _assert_clean(text)
        assert "connecting with become password ***" in text
        assert "failure with a secret in the exception" in text
        assert "auth with ***" in text  # the stdlib record arrived, masked
        assert "RuntimeError: vault decrypt gave ***" in text  # the traceback is there, masked


def test_json_console_and_file_never_see_the_secret(json_sinks: tuple[io.StringIO, Path]) -> None:
    console, log_file = json_sinks
    _log_everywhere()
    for text in (console.getvalue(), log_file.read_text()):
        _assert_clean(text)
        records = [json.loads(line) for line in text.splitlines()]
        messages = [r["record"]["message"] for r in records]
        assert "connecting with become password ***" in messages
        bound = next(r for r in records if r["record"]["message"] == "bound values")
        assert bound["record"]["extra"]["ansible_password"] == "***"


def test_log_file_is_private(sinks: tuple[io.StringIO, Path]) -> None:
    _, log_file = sinks
    logger.info("hello")
    assert log_file.stat().st_mode & 0o777 == 0o640


def test_secrets_from_the_environment_are_registered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DLICT_NETDEV_PASSWORD", "env-secret-77")
    console = io.StringIO()
    setup_logging("DEBUG", stderr=lambda: console)
    try:
        logger.info("device said env-secret-77 back")
    finally:
        setup_logging("INFO")
    assert "env-secret-77" not in console.getvalue()
    assert "device said *** back" in console.getvalue()


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "host s4401010001-srv: pass; PasswordAuthentication no; 3 secrets checked"
    assert redact(text) == text
