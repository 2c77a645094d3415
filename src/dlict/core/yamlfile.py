"""Reading YAML files the user wrote, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dlict.core.errors import InputError


def yaml_error_line(path: Path, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: ``file:line: malformed YAML: problem``."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        problem += f" ({context} opened on line {context_mark.line + 1})"
    return f"{where}: malformed YAML: {problem}"


def load_yaml_file(path: Path, error: type[InputError] = InputError) -> Any:
    """Parse one YAML file safely; syntax errors become ``error`` naming file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(yaml_error_line(path, exc)) from exc
