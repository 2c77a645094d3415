"""loguru, configured once, with secrets redacted before any sink sees a character.

Every sink dlict installs is wrapped so that the finished text — message, bound extras,
exception traceback, or the whole JSON record — passes through :func:`redact` right before
it is written. Secrets are caught two ways: values registered with :func:`register_secret`
(passwords from the environment, vault values, inventory secrets) are replaced wherever they
appear, and ``key=value`` / ``key: value`` shapes with a secret-looking key are masked even
when the value was never registered.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from dlict.core.files import make_private_dirs
from dlict.core.printable import printable

if TYPE_CHECKING:
    from loguru import Message, Record

MASK = "***"
MIN_SECRET_LENGTH = 3

_SENSITIVE_NAME = (
    r"(?:ansible_(?:ssh_|become_)?pass(?:word)?|become_pass(?:word)?|vault_pass(?:word)?"
    r"|passw(?:or)?d|pass|secret|[a-z_]*token|api_?key|authorization|community|psk|private_key)"
)
# key, optional closing quote, separator, optional opening quote, then the value; SNMP
# communities also appear as "community public" in device configuration lines.
_KEY_VALUE = re.compile(
    rf"(?P<key>\b{_SENSITIVE_NAME}\b[\"']?\s*[:=]\s*[\"']?|\bcommunity\s+)"
    r"(?P<value>[^\s\"',;}\]\\]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<key>\b(?:Bearer|Basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]+)")
_SECRET_ENV_NAME = re.compile(r"PASS|TOKEN|SECRET|COMMUNITY|API_?KEY|PRIVATE_KEY", re.IGNORECASE)

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: object) -> None:
    """Remember a secret value so that it is masked wherever it appears in a log line."""
    if not isinstance(value, str):
        return
    text = value.strip()
    if len(text) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(text)


def register_environment_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Register the values of DLICT_*/ANSIBLE_* variables whose names say they are secret."""
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if name.startswith(("DLICT_", "ANSIBLE_", "VAULT_")) and _SECRET_ENV_NAME.search(name):
            register_secret(value)


def redact_known(text: str) -> str:
    """Mask every registered secret in ``text`` and nothing else (its shape stays intact)."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_known_in(value: Any) -> Any:
    """``value`` (JSON-like data) with every registered secret masked in its strings."""
    if isinstance(value, str):
        return redact_known(value)
    if isinstance(value, Mapping):
        return {redact_known_in(k): redact_known_in(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_known_in(v) for v in value]
    return value


def redact(text: str) -> str:
    """Mask every registered secret and every secret-looking ``key=value`` in ``text``."""
    text = redact_known(text)
    text = _BEARER.sub(lambda m: m.group("key") + MASK, text)
    return _KEY_VALUE.sub(lambda m: m.group("key") + MASK, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if re.fullmatch(_SENSITIVE_NAME, str(k), re.IGNORECASE) else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def _patch_record(record: Record) -> None:
    """Redact the parts of a record that other sinks (added by a library) could read, and
    show the message's control characters escaped: a value logged (a device's answer, a host
    name) can neither fake a log line nor send the terminal an escape sequence."""
    record["message"] = printable(redact(record["message"]))
    record["extra"].update({k: _redact_value(v) for k, v in record["extra"].items()})


class _RedactingStream:
    """A loguru sink writing redacted text to a text stream (stderr)."""

    def __init__(self, stream: Callable[[], TextIO]) -> None:
        self._stream = stream

    def __call__(self, message: Message) -> None:
        out = self._stream()
        out.write(redact(str(message)))
        out.flush()


class _RedactingFile:
    """A loguru sink appending redacted text to a file created 0640.

    A write that fails (disk full, file system gone read-only) is reported once on stderr and
    the file is left alone from then on: logging must never turn into a traceback of its own.
    """

    def __init__(self, path: Path) -> None:
        make_private_dirs(path.parent)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._lock = threading.Lock()
        self._failed = False

    def __call__(self, message: Message) -> None:
        data = redact(str(message)).encode("utf-8", "backslashreplace")
        with self._lock:
            if self._failed:
                return
            try:
                while data:
                    data = data[os.write(self._fd, data):]
            except OSError as exc:
                self._failed = True
                sys.stderr.write(f"dlict: {self.path}: cannot write the log file: "
                                 f"{exc.strerror}; no more lines are written to it\n")

    def close(self) -> None:
        os.close(self._fd)


class _InterceptHandler(logging.Handler):
    """Send records of the standard logging module (paramiko, ansible-runner) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


_file_sink: _RedactingFile | None = None

CONSOLE_FORMAT = "<level>{level: <8}</level> {message}"
FILE_FORMAT = (
    "{time:YYYY-MM-DDTHH:mm:ss.SSSZZ} {level: <8} {name}:{function}:{line} {message} {extra}"
)


def setup_logging(
    level: str = "INFO",
    json_lines: bool = False,
    log_file: Path | None = None,
    stderr: Callable[[], TextIO] = lambda: sys.stderr,
) -> None:
    """Configure loguru once for the process (calling again replaces the configuration).

    Arguments:
        level: the lowest level written to the console.
        json_lines: write each record as one JSON object (for shipping to a log server).
        log_file: also append every DEBUG-and-above record here (0640), if given.
        stderr: where console lines go; a callable so tests and Typer's runner can swap it.
    """
    global _file_sink
    logger.remove()
    if _file_sink is not None:
        _file_sink.close()
        _file_sink = None
    logger.configure(patcher=_patch_record)
    register_environment_secrets()
    logger.add(
        _RedactingStream(stderr),
        level=level,
        format=CONSOLE_FORMAT if not json_lines else "{message}",
        serialize=json_lines,
        colorize=False,
        backtrace=False,
        diagnose=False,
    )
    if log_file is not None:
        _file_sink = _RedactingFile(log_file)
        logger.add(
            _file_sink,
            level="DEBUG",
            format=FILE_FORMAT,
            serialize=json_lines,
            backtrace=False,
            diagnose=False,
        )
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
