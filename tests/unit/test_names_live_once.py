"""Receiver source names and metric names are written once: the sources in ``dlict.dltv``,
the metric names in ``dlict.core.metric_names``. Everywhere else in src imports them.

Read with ``ast``: comments are not code, and docstrings (the module's, a class's, a
function's) may name a metric or a source for the reader; every other string counts,
f-string pieces included.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from dlict.core import metric_names
from dlict.dltv import SOURCES
from tests.conftest import REPO

SRC = REPO / "src" / "dlict"
DLTV = SRC / "dltv"
NAMES_MODULE = SRC / "core" / "metric_names.py"
METRIC_NAMES = {f.name for f in metric_names.ALL}
# a metric name not (yet) in metric_names would still look like one of these
METRIC_LIKE = re.compile(r"\bdlict_(?:(?:link|probe|tcp|dns|http|dltv|monitor|logs|netdev|"
                         r"agent|incident|access)_[a-z0-9_]+|build_info|site_info)\b")


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def strings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, value) of every string constant of the file but its docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            yield node.lineno, node.value


def test_source_names_are_written_only_in_dltv() -> None:
    found = [f"{path.relative_to(REPO)}:{line}: {value!r}"
             for path in sorted(SRC.rglob("*.py")) if DLTV not in path.parents
             for line, value in strings(path) if value in SOURCES]
    assert not found, "import the name from dlict.dltv instead:\n" + "\n".join(found)


def test_metric_names_are_written_only_in_metric_names() -> None:
    found = [f"{path.relative_to(REPO)}:{line}: {value!r}"
             for path in sorted(SRC.rglob("*.py")) if path != NAMES_MODULE
             for line, value in strings(path)
             if METRIC_LIKE.search(value) or set(re.findall(r"dlict_\w+", value))
             & METRIC_NAMES]
    assert not found, "use dlict.core.metric_names instead:\n" + "\n".join(found)


def test_the_checks_see_the_names_they_look_for() -> None:
    # the two tests above read real strings: the names module itself would fail them
    assert {value for _line, value in strings(NAMES_MODULE)} >= METRIC_NAMES
    assert METRIC_NAMES and all(METRIC_LIKE.search(name) for name in METRIC_NAMES)
    assert {value for _line, value in strings(DLTV / "model.py")} >= set(SOURCES)
